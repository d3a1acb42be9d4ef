/** What the console shows of sync runs: each run's counts and its rejected users, newest first, tenant-scoped. */
import { NotFoundError } from './errors.ts';
import type { SyncHistoryStore } from './ports/sync-history.ts';

/** Rejected users shown for one run; the count in `result.rejected` stays exact. */
export const REJECTIONS_SHOWN = 100;

export class SyncHistoryService {
  constructor(private readonly store: SyncHistoryStore) {}

  async list(tenantId: string, limit: number, cursor?: string) {
    return this.store.list(tenantId, limit, cursor);
  }

  async show(tenantId: string, runId: string) {
    const run = await this.store.get(tenantId, runId);
    if (!run) throw new NotFoundError('The sync run');
    const { rejections, more } = await this.store.rejections(tenantId, runId, REJECTIONS_SHOWN);
    return { ...run, rejections, rejectionsTruncated: more };
  }
}
