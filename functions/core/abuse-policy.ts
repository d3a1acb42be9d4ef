/**
 * A tenant's abuse defences: fixed-window rate limits, the per-user lockout, the personal passcode and IP
 * binding. Stored on the tenant item; anything absent takes the defaults below.
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
  limits?: Partial<RateLimits>;
  lockout?: Partial<LockoutPolicy>;
  /** Accept a user's personal passcode in place of the sent one (inside its window). */
  allowPersonalPasscode?: boolean;
  /** Refuse a verify that comes from another client IP than the one that made the challenge. */
  bindClientIp?: boolean;
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

/**
 * Only numbers override a default: a key spread as `undefined` (or a null in a hand-edited item) is a gap, and
 * would otherwise turn into NaN, or 0 failures, past the clamps below.
 */
function numbersOf<T extends object>(values: Partial<T> | undefined): Partial<T> {
  return Object.fromEntries(
    Object.entries(values ?? {}).filter(([, v]) => typeof v === 'number' && !Number.isNaN(v)),
  ) as Partial<T>;
}

export function resolveSecurity(security: TenantSecurity | undefined) {
  const lockout = { ...DEFAULT_LOCKOUT, ...numbersOf(security?.lockout) };
  return {
    limits: { ...DEFAULT_LIMITS, ...numbersOf(security?.limits) },
    lockout: {
      maxFailures: Math.max(1, Math.min(lockout.maxFailures, NIST_MAX_FAILURES)),
      lockSeconds: Math.max(1, Math.min(lockout.lockSeconds, MAX_LOCK_SECONDS)),
    },
    allowPersonalPasscode: security?.allowPersonalPasscode === true,
    bindClientIp: security?.bindClientIp === true,
  };
}

export type ResolvedSecurity = ReturnType<typeof resolveSecurity>;
