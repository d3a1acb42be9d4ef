/** The console's history of sync runs: one small summary per run, and the users each batch rejected (bounded). */
import type { CompleteReply, RejectReason, SyncMode } from '../../contracts/sync.ts';

export type RunStatus = 'open' | 'completing' | 'completed';

export interface RunSummary {
  runId: string;
  mode: SyncMode;
  status: RunStatus;
  createdAt: string;
  completedAt?: string | undefined;
  /** Set once the run completed. */
  result?: CompleteReply | undefined;
}

export interface Rejection {
  id: string;
  username: string;
  reason: RejectReason;
}

export interface SyncHistoryStore {
  started(tenantId: string, run: RunSummary): Promise<void>;
  /** Records the run's new status (and result); a summary never goes back from `completed`. */
  update(
    tenantId: string,
    runId: string,
    change: { status: RunStatus; result?: CompleteReply; completedAt?: string },
  ): Promise<void>;
  get(tenantId: string, runId: string): Promise<RunSummary | undefined>;
  /** Newest first. */
  list(tenantId: string, limit: number, cursor?: string): Promise<{ runs: RunSummary[]; cursor?: string }>;
  /** One batch's rejections (already capped by the caller), replacing an earlier send's of the same batch. */
  putRejections(
    tenantId: string,
    runId: string,
    digest: string,
    rejections: Rejection[],
    at: string,
  ): Promise<void>;
  /** The run's newest rejections, at most `limit`, and whether more were recorded. */
  rejections(
    tenantId: string,
    runId: string,
    limit: number,
  ): Promise<{ rejections: Rejection[]; more: boolean }>;
}
