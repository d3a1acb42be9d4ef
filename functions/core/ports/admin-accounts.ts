/** People who sign in to the admin console: operators, tenant admins and read-only auditors. */

export const ADMIN_ROLES = ['operator', 'tenant_admin', 'auditor'] as const;
export type AdminRole = (typeof ADMIN_ROLES)[number];

/** scrypt's output and the parameters it was made with, stored beside it so they can be raised later. */
export interface PasswordHash {
  algorithm: 'scrypt';
  N: number;
  r: number;
  p: number;
  salt: string;
  hash: string;
}

export interface AdminAccount {
  /** The sign-in name: an e-mail address, lower case, unique across the deployment. */
  email: string;
  role: AdminRole;
  /** The tenant a tenant admin or auditor belongs to; `-` for an operator. */
  tenantId: string;
  password: PasswordHash;
  /** The TOTP seed, sealed with the credential cipher. */
  sealedTotp: string;
  createdAt: string;
  createdBy: string;
  /** Consecutive failed sign-in steps (password or second factor) since the last success or lock. */
  failures?: number;
  lockedUntil?: string;
  /** The last TOTP time step accepted: a code is good once. */
  totpStep?: number;
  disabledAt?: string;
}

export interface AdminAccountStore {
  /** Fails with AlreadyExistsError when the e-mail is taken, unless `replace` (a fresh start of the same account). */
  create(account: AdminAccount, options?: { replace?: boolean }): Promise<void>;
  get(email: string): Promise<AdminAccount | undefined>;
  listByTenant(tenantId: string): Promise<AdminAccount[]>;
  /**
   * Reserves one guess: counts a failure in advance, unless the account has `max` failures counted or a lock in
   * force at `nowIso`. False when refused (or no such account). A success gives the guess back (`succeeded`).
   */
  admit(email: string, nowIso: string, max: number): Promise<boolean>;
  /** Locks an account whose failures reached `max`, and starts its count again. */
  lock(email: string, max: number, until: string): Promise<void>;
  succeeded(email: string): Promise<void>;
  /** Takes a TOTP step; false when this or a later step was already used. */
  useTotpStep(email: string, step: number): Promise<boolean>;
  setDisabled(email: string, disabledAt: string | null): Promise<void>;
}
