/** Tenants as the operator API manages them. */
import type { Tenant } from '../model.ts';

export interface TenantRecord extends Tenant {
  createdAt: string;
  updatedAt?: string;
  /** On a deleted tenant's tombstone: how far the purge of its data got. */
  deletion?: TenantDeletion;
}

/** A tenant delete runs in the background; its tombstone says where it is. */
export interface TenantDeletion {
  state: 'purging' | 'done';
  requestedAt: string;
  /** The operator who asked (the audit's actor form); the purge is audited under it too. */
  requestedBy?: string;
  finishedAt?: string;
  /** Items removed by the last purge run. */
  purgedItems?: number;
}

export interface TenantStore {
  /** Fails with `false` when the id is taken, including by a deleted tenant. */
  create(tenant: TenantRecord): Promise<boolean>;
  get(tenantId: string): Promise<TenantRecord | undefined>;
  list(): Promise<TenantRecord[]>;
  /**
   * Replaces the given fields of a tenant that is not deleted (a field given as `undefined` is left as it
   * is); `undefined` when there is no such tenant.
   */
  update(tenantId: string, fields: TenantFields): Promise<TenantRecord | undefined>;
  /**
   * Deletes every item that holds the tenant's data but its tombstone: its partition, its API keys, its
   * audit entries, its challenges (the message log). Returns how many went. Idempotent.
   */
  purge(tenantId: string): Promise<number>;
  /** Records the purge's progress on a deleted tenant's tombstone; false when the tenant is not deleted. */
  setDeletion(tenantId: string, deletion: TenantDeletion): Promise<boolean>;
  /** Stores the hash of a key minted for the tenant. */
  putKey(record: {
    hash: string;
    prefix: string;
    kind: 'admin';
    tenantId: string;
    createdAt: string;
  }): Promise<void>;
}

/** Fields of a tenant to replace; one given as `undefined` is left as it is. */
export type TenantFields = {
  [K in keyof Omit<TenantRecord, 'id'>]?: Omit<TenantRecord, 'id'>[K] | undefined;
};
