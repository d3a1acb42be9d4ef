/** The AD sync's runs, batches and user writes. */
import type { SyncMode } from '../../contracts/sync.ts';
import type { User } from '../model.ts';
import type { ManagedUser } from './users.ts';

export interface SyncRun {
  runId: string;
  /** `completing`: a large removal runs in the background; the run takes no more batches. */
  status: 'open' | 'completing' | 'completed';
  /** Absent on runs made before modes existed: those are full runs. */
  mode?: SyncMode | undefined;
  createdAt: string;
  expiresAt: string;
  result?: { created: number; updated: number; removed: number; rejected: number };
  completedAt?: string;
}

export interface SyncBatchRecord {
  digest: string;
  /** `processing` until the batch is stored; a batch that never finished blocks removal. */
  state: 'processing' | 'done' | 'failed';
  /** Tags of the (AD id, username) pairs the batch saw: a user stored under another name is not "seen". */
  seen: string[];
  /** AD ids a batch recorded before names were part of it (a run begun before an upgrade). */
  legacySeen?: string[];
  /** Tags (see `SyncService`) of the users this batch created in its run, counted once however often it was sent. */
  created: string[];
  /** Tags of the users this batch changed (and did not create) in its run. */
  updated: string[];
  rejected: number;
}

/** Tags of users that earlier sends of a batch wrote or were about to write when they ended. */
export interface BatchHistory {
  created: string[];
  updated: string[];
}

/** What the sync writes for a user: everything it owns, nothing an admin owns. */
export interface SyncedUser {
  tenantId: string;
  username: string;
  syncId: string;
  domain: string;
  displayName: string | null;
  mobile: string | null;
  mobileType?: User['mobileType'];
  secondaryMobile: string | null;
  secondaryMobileType?: User['secondaryMobileType'];
  email: string | null;
  /** The group policy the AD groups resolved to; the effective one stays an admin's assignment, if any. */
  mappedGroupPolicyId: string | null;
  groupDn: string | null;
  syncHash: string;
  syncedAt: string;
  /** On a rename (the username format changed): the admin-owned fields of the item it replaces. */
  carried?: Pick<
    ManagedUser,
    'locked' | 'lockedAt' | 'overrides' | 'assignedGroupPolicyId' | 'assignedAt' | 'createdAt'
  >;
}

export type WriteOutcome = 'written' | 'conflict' | 'failed';

export interface SyncStore {
  createRun(tenantId: string, run: SyncRun): Promise<void>;
  getRun(tenantId: string, runId: string): Promise<SyncRun | undefined>;
  /** Moves an open run to `completing` (no more batches); false when it was not open. */
  markCompleting(tenantId: string, runId: string): Promise<boolean>;
  /** Moves a `completing` run back to open (its removal could not be scheduled); false when it was not completing. */
  reopenRun(tenantId: string, runId: string): Promise<boolean>;
  /** Marks the run completed with its result; false if it already was. */
  completeRun(
    tenantId: string,
    runId: string,
    result: NonNullable<SyncRun['result']>,
    at: string,
  ): Promise<boolean>;
  /** The stored users with these usernames, by lower-cased username. */
  getUsers(
    tenantId: string,
    usernames: string[],
  ): Promise<Map<string, Pick<ManagedUser, 'username' | 'syncId' | 'syncHash' | 'assignedGroupPolicyId'>>>;
  /**
   * Adds or changes learned NetBIOS names (DNS domain → NetBIOS) on the tenant item, which the login path
   * reads anyway.
   */
  noteDomains(tenantId: string, domains: Record<string, string>): Promise<void>;
  /**
   * Writes new users in bulk, without a per-item condition: the caller holds the tenant's create lock and has
   * just read (consistently) that none of them exists, so nothing else can create them meanwhile.
   */
  createUsers(users: SyncedUser[]): Promise<WriteOutcome[]>;
  /** Takes the tenant's create lock until `untilMs` unless another holder's lease is still running. */
  acquireCreateLock(tenantId: string, holder: string, untilMs: number, nowMs: number): Promise<boolean>;
  /** Moves the holder's lease end; false when the lock is no longer this holder's. */
  renewCreateLock(tenantId: string, holder: string, untilMs: number): Promise<boolean>;
  releaseCreateLock(tenantId: string, holder: string): Promise<void>;
  /** Updates the synced fields of users still owned by the same AD object (or by none); `conflict` otherwise. */
  updateUsers(users: SyncedUser[]): Promise<WriteOutcome[]>;
  /** Marks a batch as being processed; returns what earlier sends of the same batch wrote or meant to write. */
  startBatch(tenantId: string, runId: string, digest: string): Promise<BatchHistory>;
  /** Records, before writing them, the users a send is about to create or update (added to earlier sends'). */
  noteIntent(tenantId: string, runId: string, digest: string, intent: Partial<BatchHistory>): Promise<void>;
  /** Ends a send of a batch: its record replaces the earlier sends'. */
  finishBatch(tenantId: string, runId: string, batch: SyncBatchRecord): Promise<void>;
  listBatches(tenantId: string, runId: string): Promise<SyncBatchRecord[]>;
  /** Every synced user: username, AD id and when the sync last wrote it. */
  listSyncedUsers(
    tenantId: string,
  ): AsyncIterable<Array<{ username: string; syncId: string; syncedAt: string }>>;
}
