/** Managed users as the admin API and the sync see them, and the per-tenant user count. */
import type { PasscodeOverrides } from '../../contracts/admin.ts';
import type { User } from '../model.ts';

/** A user as the admin API and the sync see it. */
export interface ManagedUser extends User {
  /** The AD object id; absent on users that were not synced. */
  syncId?: string;
  domain?: string;
  displayName?: string | null;
  /** The mapped AD group that decided the group policy the sync gave the user. */
  groupDn?: string | null;
  /** The group policy an admin assigned: it wins over the AD mapping, and the sync never changes it. */
  assignedGroupPolicyId?: string;
  assignedAt?: string;
  /** The group policy the AD groups resolved to (null: none); absent on items the sync wrote before it kept it. */
  mappedGroupPolicyId?: string | null;
  /** Digest of the synced fields: an unchanged user costs no write. */
  syncHash?: string;
  syncedAt?: string;
  createdAt?: string;
  lockedAt?: string;
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
      /** Only ever removed here: the user sets a PIN in the portal, an admin may clear it. */
      pin?: null;
      /**
       * Assigns a group policy (or drops the assignment: the AD mapping applies again). `mapped` is the mapped
       * policy as last read, kept for items the sync wrote before it stored the mapping apart.
       */
      groupPolicy?: { assign: string | null; mapped: string | null; at: string };
    },
  ): Promise<ManagedUser | undefined>;
  /**
   * Deletes the user; returns what was deleted. With `sync`, only while the user still belongs to that AD
   * object and (given `syncedBefore`) neither a sync nor an admin's assignment touched it since.
   */
  delete(
    tenantId: string,
    username: string,
    sync?: { syncId: string; syncedBefore?: string },
  ): Promise<ManagedUser | undefined>;
  /** Whether any user's effective group policy (assigned, or mapped) is this one. */
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
