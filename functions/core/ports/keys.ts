/** Tenant API keys, stored by hash. */
import type { ApiKeyRecord } from '../model.ts';

export interface StoredKey extends ApiKeyRecord {
  hash: string;
}

export interface KeyStore {
  /** Fails if a key with this hash exists (it never will: 192 random bits). */
  put(key: StoredKey): Promise<void>;
  /** A tenant's keys, newest first. */
  list(tenantId: string): Promise<StoredKey[]>;
  /** Marks the key revoked; false when it was already revoked or is not this tenant's. */
  revoke(hash: string, tenantId: string, at: string): Promise<boolean>;
}
