/** People who sign in to the admin console: operators, tenant admins and read-only auditors. */

export const ADMIN_ROLES = ['operator', 'tenant_admin', 'auditor'] as const;
export type AdminRole = (typeof ADMIN_ROLES)[number];

/** The second sign-in step: an authenticator app's code, or a passcode sent by the product itself. */
export const SECOND_FACTORS = ['totp', 'sms'] as const;
export type SecondFactor = (typeof SECOND_FACTORS)[number];

/** scrypt's output and the parameters it was made with, stored beside it so they can be raised later. */
export interface PasswordHash {
  algorithm: 'scrypt';
  N: number;
  r: number;
  p: number;
  salt: string;
  hash: string;
}

/** The user whose rule chain carries an admin's SMS codes: of the admin's own tenant, or the operators' one. */
export interface SmsTarget {
  tenantId: string;
  username: string;
}

export interface AdminAccount {
  /** The sign-in name: an e-mail address, lower case, unique across the deployment. */
  email: string;
  role: AdminRole;
  /** The tenant a tenant admin or auditor belongs to; `-` for an operator. */
  tenantId: string;
  /** Absent until the person sets it through their set-up link. */
  password?: PasswordHash;
  /** The TOTP seed, sealed with the credential cipher (TOTP accounts, once set up). */
  sealedTotp?: string;
  /** Absent on accounts made before SMS codes existed: those use TOTP. */
  secondFactor?: SecondFactor;
  sms?: SmsTarget;
  createdAt: string;
  createdBy: string;
  /** Consecutive failed sign-in steps (password or second factor) since the last success or lock. */
  failures?: number;
  lockedUntil?: string;
  /** The last TOTP time step accepted: a code is good once. */
  totpStep?: number;
  disabledAt?: string;
  /** The SHA-256 of the one set-up link that is good now; a new link (a reset) makes older ones worthless. */
  setupLink?: string;
  setupExpiresAt?: string;
  /** Wrong authenticator codes typed on the set-up page since the link was made. */
  setupAttempts?: number;
  /** The seed the set-up page shows, sealed, until the page's code confirms it. */
  setupTotp?: string;
  /** Set by the one use of the link that goes on to set the password; every other use is refused from then. */
  setupClaim?: string;
}

/** What a new or reset set-up link writes onto the account. */
export interface SetUpStart {
  linkHash: string;
  expiresAt: string;
  secondFactor: SecondFactor;
  sms?: SmsTarget | undefined;
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
  /** False when there is no such account. */
  setDisabled(email: string, disabledAt: string | null): Promise<boolean>;

  /** Which account a set-up link (by its hash) belongs to; the account says whether it is still good. */
  putSetUpLink(linkHash: string, email: string, expiresAt: string): Promise<void>;
  findSetUpLink(linkHash: string): Promise<string | undefined>;
  /**
   * Takes the password and seed away and makes `start` the only good link, with its factor; false when there is
   * no such account.
   */
  restartSetUp(email: string, start: SetUpStart): Promise<boolean>;
  /** Keeps the first seed offered for this link (a reload shows the same one); returns the one kept. */
  offerSetUpTotp(email: string, linkHash: string, sealed: string): Promise<string | undefined>;
  /** Counts a wrong set-up code; false once `max` are counted or the link is no longer the account's. */
  countSetUpAttempt(email: string, linkHash: string, max: number): Promise<boolean>;
  /** Takes the link for one use: true for exactly one caller while it is the account's and unexpired at `nowIso`. */
  claimSetUp(email: string, linkHash: string, claim: string, nowIso: string): Promise<boolean>;
  /** Sets the password (and seed) and spends the link the caller claimed. */
  completeSetUp(
    email: string,
    linkHash: string,
    claim: string,
    set: { password: PasswordHash; sealedTotp?: string | undefined; totpStep?: number | undefined },
  ): Promise<boolean>;
}
