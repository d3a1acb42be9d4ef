/**
 * The ports behind the operator, tenant admin and sync APIs: tenants, tenant configuration (policies, modem
 * groups, providers), managed users, the user counter and sync runs. DynamoDB adapters implement them.
 */
import type {
  GroupPolicyInput,
  IntegrationPolicyInput,
  LoadBalancingPolicyInput,
  PasscodeOverrides,
} from '../contracts/admin.ts';
import type { Tenant, User } from './model.ts';

export interface TenantRecord extends Tenant {
  createdAt: string;
  updatedAt?: string;
}

export interface TenantStore {
  /** Fails with `false` when the id is taken, including by a deleted tenant. */
  create(tenant: TenantRecord): Promise<boolean>;
  get(tenantId: string): Promise<TenantRecord | undefined>;
  list(): Promise<TenantRecord[]>;
  /** Replaces the given fields of a tenant that is not deleted; `undefined` when there is none. */
  update(tenantId: string, fields: Partial<Omit<TenantRecord, 'id'>>): Promise<TenantRecord | undefined>;
  /** Deletes every item of the tenant's partition but its tombstone. Returns how many went. */
  purge(tenantId: string): Promise<number>;
  /** Stores the hash of a key minted for the tenant. */
  putKey(record: {
    hash: string;
    prefix: string;
    kind: 'admin';
    tenantId: string;
    createdAt: string;
  }): Promise<void>;
}

export interface ModemGroup {
  name: string;
  description: string;
  createdAt: string;
  updatedAt: string;
}

export interface Provider {
  name: string;
  kind: 'sms_web' | 'voice' | 'email';
  description: string;
  params: Record<string, string | number | boolean>;
  createdAt: string;
  updatedAt: string;
}

export type LoadBalancingPolicy = LoadBalancingPolicyInput & {
  id: string;
  createdAt: string;
  updatedAt: string;
};
export type GroupPolicy = GroupPolicyInput & { id: string; createdAt: string; updatedAt: string };
export type IntegrationPolicy = IntegrationPolicyInput & { id: string; createdAt: string; updatedAt: string };

export interface ConfigKinds {
  modemGroup: ModemGroup;
  provider: Provider;
  loadBalancing: LoadBalancingPolicy;
  group: GroupPolicy;
  integration: IntegrationPolicy;
}
export type ConfigKind = keyof ConfigKinds;

/** Tenant configuration objects, each addressed by kind and id (a modem group's or provider's id is its name). */
export interface ConfigStore {
  get<K extends ConfigKind>(tenantId: string, kind: K, id: string): Promise<ConfigKinds[K] | undefined>;
  list<K extends ConfigKind>(tenantId: string, kind: K): Promise<Array<ConfigKinds[K]>>;
  /** `create` fails (false) if the id exists; `replace` fails (false) if it does not. */
  put<K extends ConfigKind>(
    tenantId: string,
    kind: K,
    id: string,
    value: ConfigKinds[K],
    mode: 'create' | 'replace',
  ): Promise<boolean>;
  delete(tenantId: string, kind: ConfigKind, id: string): Promise<boolean>;
}

/** A user as the admin API and the sync see it. */
export interface ManagedUser extends User {
  /** The AD object id; absent on users that were not synced. */
  syncId?: string;
  domain?: string;
  displayName?: string | null;
  /** The mapped AD group that decided the group policy. */
  groupDn?: string | null;
  /** Digest of the synced fields: an unchanged user costs no write. */
  syncHash?: string;
  syncedAt?: string;
  createdAt?: string;
  lockedAt?: string;
  overrides?: PasscodeOverrides;
}

export interface UserPage {
  users: ManagedUser[];
  cursor?: string;
}

export interface UserStore {
  get(tenantId: string, username: string): Promise<ManagedUser | undefined>;
  /** Users whose lower-cased username starts with `prefix`, in username order. */
  list(tenantId: string, options: { prefix?: string; limit: number; cursor?: string }): Promise<UserPage>;
  /** Sets admin-owned fields of an existing user; `undefined` when there is none. */
  updateAdminFields(
    tenantId: string,
    username: string,
    fields: {
      locked?: true | null;
      lockedAt?: string | null;
      overrides?: PasscodeOverrides | null;
    },
  ): Promise<ManagedUser | undefined>;
  /**
   * Deletes the user; returns what was deleted. With `sync`, only while the user still belongs to that AD
   * object and no sync wrote it since `syncedBefore`.
   */
  delete(
    tenantId: string,
    username: string,
    sync?: { syncId: string; syncedBefore: string },
  ): Promise<ManagedUser | undefined>;
  /** Whether any user points at the group policy. */
  anyWithGroupPolicy(tenantId: string, groupPolicyId: string): Promise<boolean>;
}

export interface CounterState {
  activeUsers: number;
  version: number;
  /** Reservation id → epoch ms after which the reservation is presumed dead. */
  leases: Record<string, number>;
  countedAt?: string;
}

/** The per-tenant count of stored users, always at least the real number (see UserLimit). */
export interface UserCounter {
  read(tenantId: string): Promise<CounterState | undefined>;
  /** Adds `n` under a lease if the count stays within `limit`; false when it would not (or no counter exists). */
  reserve(tenantId: string, leaseId: string, n: number, limit: number, leaseUntil: number): Promise<boolean>;
  /** Moves a live lease's end; false if a recount already dropped the lease (its holder must stop creating). */
  renew(tenantId: string, leaseId: string, leaseUntil: number): Promise<boolean>;
  /** Ends a lease and gives back the unused part; does nothing if a recount already dropped the lease. */
  release(tenantId: string, leaseId: string, unused: number): Promise<void>;
  /** Counts down after users were deleted. */
  decrement(tenantId: string, n: number): Promise<void>;
  /** The number of user items actually stored (a consistent count). */
  countStored(tenantId: string): Promise<number>;
  /**
   * Sets the count if nothing moved since `version` was read (or creates it when `version` is undefined),
   * dropping all leases. False when something moved.
   */
  reset(tenantId: string, version: number | undefined, count: number, at: string): Promise<boolean>;
}

export interface SyncRun {
  runId: string;
  status: 'open' | 'completed';
  createdAt: string;
  expiresAt: string;
  result?: { created: number; updated: number; removed: number; rejected: number };
  completedAt?: string;
}

export interface SyncBatchRecord {
  digest: string;
  /** `processing` until the batch is stored; a batch that never finished blocks removal. */
  state: 'processing' | 'done' | 'failed';
  seen: string[];
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
  groupPolicyId: string | null;
  groupDn: string | null;
  syncHash: string;
  syncedAt: string;
}

export type WriteOutcome = 'written' | 'conflict' | 'failed';

export interface SyncStore {
  createRun(tenantId: string, run: SyncRun): Promise<void>;
  getRun(tenantId: string, runId: string): Promise<SyncRun | undefined>;
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
  ): Promise<Map<string, Pick<ManagedUser, 'username' | 'syncId' | 'syncHash'>>>;
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

export interface UsageStore {
  get(tenantId: string, month: string): Promise<{ challenges: number; messages: number }>;
  /** Adds messages sent; challenges are counted from where they are stored. */
  add(tenantId: string, month: string, counts: { messages: number }): Promise<void>;
}

/** Ends the live sessions of a tenant's agents (suspension); brokers without sessions to end do nothing. */
export interface AgentSessions {
  disconnectTenant(tenantId: string): Promise<void>;
}
