/** The abuse defences' state: fixed-window rate-limit counters and each user's guard. */
import type { PersonalPasscode, UserGuard } from '../model.ts';

/** One counter of a fixed window, named by an opaque digest so no number, IP or name lands in the table. */
export interface LimitCounter {
  name: string;
  max: number;
  /** Spread over this many items (each a share of `max`) so that a busy counter is no hot key. */
  shards?: number;
}

/**
 * Counts one challenge against every counter of the window, each atomically, and refuses when any counter is
 * at its maximum; a refused challenge ends up counted against none of them.
 */
export interface RateLimiter {
  hit(tenantId: string, window: number, expiresAtSeconds: number, counters: LimitCounter[]): Promise<boolean>;
}

export interface GuardStore {
  /**
   * Admits one verdict on the user's guesses, before it is acted upon: refused while the user is locked (by
   * failures or by an admin) or already has `maxFailures` failures counted, so that however many verifies race
   * across however many challenges, at most `maxFailures` wrong guesses are ever answered. A wrong guess is
   * counted in the same conditional write. Returns the failures now counted, or that the user is locked (and
   * until when, for a lock that lifts by itself).
   */
  admit(
    tenantId: string,
    username: string,
    options: { nowIso: string; wrong: boolean; maxFailures: number },
  ): Promise<{ admitted: true; failures: number } | { admitted: false; until?: string }>;
  /** An admin's lock: verifies of every open challenge of the user are refused while it holds. */
  setAdminLock(tenantId: string, username: string, locked: boolean, nowIso: string): Promise<void>;
  /** Locks once the failures reached `maxFailures`, resetting the count; false when someone else locked first. */
  lock(tenantId: string, username: string, maxFailures: number, until: string): Promise<boolean>;
  /** After a success: the consecutive count starts again. */
  clearFailures(tenantId: string, username: string): Promise<void>;
  /** Lifts a lock and clears the count; false when there was no lock in force at `nowIso`. */
  unlock(tenantId: string, username: string, nowIso: string): Promise<boolean>;
  setPersonalPasscode(tenantId: string, username: string, personal: PersonalPasscode | null): Promise<void>;
  get(tenantId: string, username: string): Promise<UserGuard | undefined>;
}
