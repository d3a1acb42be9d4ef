/** Tenants as the operator API manages them. */
import type { Tenant } from '../model.ts';

export interface TenantRecord extends Tenant {
  createdAt: string;
  updatedAt?: string;
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

/** Fields of a tenant to replace; one given as `undefined` is left as it is. */
export type TenantFields = {
  [K in keyof Omit<TenantRecord, 'id'>]?: Omit<TenantRecord, 'id'>[K] | undefined;
};
