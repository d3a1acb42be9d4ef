/**
 * OATH tokens of a tenant: authenticator apps enrolled through the admin API and hardware tokens imported
 * from PSKC. Each token is one item; its state changes are single conditional writes, so two racing
 * requests never both move a counter, and a token of one tenant is never reached through another.
 */
export type OtpAlgorithm = 'sha1' | 'sha256' | 'sha512';
export type TokenKind = 'totp' | 'hotp';
export type TokenSource = 'app' | 'pskc';
/** pending: enrolled, not yet confirmed; unassigned: imported, in the inventory; revoked: seed erased, for good. */
export type TokenState = 'pending' | 'active' | 'unassigned' | 'revoked';

export interface OathToken {
  tenantId: string;
  tokenId: string;
  kind: TokenKind;
  source: TokenSource;
  state: TokenState;
  /** Hardware tokens only. */
  serial?: string;
  manufacturer?: string;
  /** The owner, lower-cased; absent while unassigned and once revoked. */
  username?: string;
  algorithm: OtpAlgorithm;
  digits: 6 | 7 | 8;
  /** TOTP: seconds per step. */
  period: number;
  /** HOTP: the next counter value a code may be for. */
  counter: number;
  /** TOTP: the last accepted time step; -1 before the first. */
  lastStep: number;
  /** The seed, sealed with the credential cipher under `tokenCipherContext`; erased on revoke. */
  sealedSecret?: string;
  /** The import a hardware token came with, so a failed import removes exactly what it wrote. */
  importId?: string;
  createdAt: string;
  assignedAt?: string;
  confirmedAt?: string;
  revokedAt?: string;
}

export interface TokenPage {
  items: OathToken[];
  cursor?: string;
}

export interface TokenStore {
  /** False when a token with this id (for hardware: this serial) already exists in the tenant. */
  create(token: OathToken): Promise<boolean>;
  /** Strongly consistent. */
  get(tenantId: string, tokenId: string): Promise<OathToken | undefined>;
  /** Every token of the user that is pending or active: one read. */
  ofUser(tenantId: string, username: string): Promise<OathToken[]>;
  list(tenantId: string, options: { state?: TokenState; limit: number; cursor?: string }): Promise<TokenPage>;
  /** unassigned → active for the user. False when the token is not unassigned (any more). */
  assign(tenantId: string, tokenId: string, username: string, at: string): Promise<boolean>;
  /** pending → active with the confirming step accepted. False unless pending, the user's, and `lastStep < step`. */
  activate(tenantId: string, tokenId: string, username: string, step: number, at: string): Promise<boolean>;
  /** A TOTP code's one write: `lastStep = step` only while active, the user's and `lastStep < step`. */
  acceptStep(tenantId: string, tokenId: string, username: string, step: number): Promise<boolean>;
  /** An HOTP code's one write: `counter = matched + 1` only while active, the user's and `counter <= matched`. */
  acceptCounter(tenantId: string, tokenId: string, username: string, matched: number): Promise<boolean>;
  /** Resynchronisation: `counter = next` only while it is still `expected` (and the token active and the user's). */
  moveCounter(
    tenantId: string,
    tokenId: string,
    username: string,
    expected: number,
    next: number,
  ): Promise<boolean>;
  /** → revoked, owner and seed erased. Returns the token as it was, or undefined when it was not the user's. */
  revoke(tenantId: string, tokenId: string, username: string, at: string): Promise<OathToken | undefined>;
  /** Deletes a pending enrolment of the user (a re-enrolment replaces it). */
  discardPending(tenantId: string, tokenId: string, username: string): Promise<boolean>;
  /** Deletes an unassigned token written by `importId` (the undo of a failed import). */
  discardImported(tenantId: string, tokenId: string, importId: string): Promise<void>;
}
