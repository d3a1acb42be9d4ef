/**
 * A tenant's abuse defences: fixed-window rate limits, the per-user lockout, the personal passcode and IP
 * binding. Stored on the tenant item; anything absent takes the defaults below. They resolve, with the
 * operator's ceilings, in settings.ts.
 */

export interface RateLimits {
  /** Length of one fixed window. */
  windowSeconds: number;
  /** Challenges per window for one username (known or not). */
  perUser: number;
  /** Challenges per window sent to one phone number. */
  perDestination: number;
  /** Challenges per window for one end-user IP (`client.ip`). */
  perClientIp: number;
  /** Challenges per window for the whole tenant. */
  perTenant: number;
}

export interface LockoutPolicy {
  /** Consecutive failed verifies, across challenges, that lock the user. NIST SP 800-63B allows at most 100. */
  maxFailures: number;
  /** How long a lock lasts before it lifts by itself. */
  lockSeconds: number;
}

export interface TenantSecurity {
  limits?: Partial<RateLimits> | undefined;
  lockout?: Partial<LockoutPolicy> | undefined;
  /** Accept a user's personal passcode in place of the sent one (inside its window). */
  allowPersonalPasscode?: boolean | undefined;
  /** Refuse a verify that comes from another client IP than the one that made the challenge. */
  bindClientIp?: boolean | undefined;
  /** The tenant admin's narrowing of the operator's allowed countries. */
  allowedCountries?: string[] | undefined;
  /** Whether users type a PIN before the passcode, and how long it must be. */
  pin?: { required?: boolean | undefined; minLength?: number | undefined } | undefined;
}

export const DEFAULT_LIMITS: RateLimits = {
  windowSeconds: 60,
  perUser: 10,
  perDestination: 10,
  perClientIp: 60,
  perTenant: 1200,
};

export const DEFAULT_LOCKOUT: LockoutPolicy = { maxFailures: 10, lockSeconds: 900 };

export const NIST_MAX_FAILURES = 100;
/** A lock lifts by itself within a day at the longest; guard items are kept well beyond that. */
export const MAX_LOCK_SECONDS = 24 * 3600;
