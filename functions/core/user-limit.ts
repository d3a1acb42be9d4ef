/**
 * The per-tenant user limit, with single-item conditional writes only (no transactions).
 *
 * A counter item holds the number of stored users. Before creating users the sync reserves slots on it in one
 * conditional write (`activeUsers <= limit - n`) under a lease; after writing, it gives back the slots it did
 * not use. Deletes count down only after the item is gone, and hold recounts off until then. So the counter is
 * never below the real number, and the real number never exceeds the limit, however many runs race.
 *
 * The counter drifts upwards when a process dies between reserving and writing. Reservations are only made
 * under the tenant's create lock and share its short lease, renewed while the holder works; so a lease found
 * expired belongs to a holder that is gone (or stopped writing, as it must once it cannot renew), and the next
 * reservation recounts at once instead of refusing users until some long lease runs out. A recount counts the
 * stored users while no lease is live, and writes the result only if the counter's version did not move in
 * between, so a reservation, renewal, release or delete that slipped in makes it retry instead of overwriting.
 */
import type { Clock } from './clock.ts';
import { newId } from './ids.ts';
import type { CounterState, UserCounter } from './ports/users.ts';

/** A full tenant is recounted at most this often when a batch asks for room. */
export const RECOUNT_EVERY_MS = 60_000;
const MAX_ROUNDS = 50;
/** How long deletes may keep recounts off; a page of deletes takes well under this. */
const REMOVAL_LEASE_MS = 60_000;

export interface Reservation {
  leaseId: string;
  granted: number;
  /** Creates must be done before this instant (unless renewed); after it a recount may drop the lease. */
  until: number;
}

export class UserLimit {
  constructor(
    private readonly counter: UserCounter,
    private readonly clock: Clock,
  ) {}

  /**
   * Reserves up to `wanted` slots under `limit` until `until` (the caller's create-lock lease); `granted` may be
   * less, or 0 when the tenant is full.
   */
  async reserve(tenantId: string, wanted: number, limit: number, until: number): Promise<Reservation> {
    const leaseId = newId(9);
    if (wanted <= 0) return { leaseId, granted: 0, until };
    let recounted = false;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const state = await this.counter.read(tenantId);
      if (!state) {
        await this.recount(tenantId);
        continue;
      }
      // A lease that ran out is a dead holder's reservation: give its slots back now, by counting.
      if (!recounted && this.hasStaleLease(state)) {
        recounted = true;
        if (await this.recount(tenantId, state)) continue;
      }
      const take = Math.min(wanted, Math.max(0, limit - state.activeUsers));
      if (take === 0) {
        // Full, or it only looks full because of drift: recount once, if nothing else is in flight.
        if (!recounted && this.mayRecount(state)) {
          recounted = true;
          if (await this.recount(tenantId, state)) continue;
        }
        return { leaseId, granted: 0, until };
      }
      if (await this.counter.reserve(tenantId, leaseId, take, limit, until))
        return { leaseId, granted: take, until };
      // Another run took slots between the read and the write: read again.
    }
    return { leaseId, granted: 0, until };
  }

  /** Moves the reservation's end; false when a recount dropped it (then nothing more may be created). */
  async renew(tenantId: string, reservation: Reservation, until: number): Promise<boolean> {
    if (reservation.granted > 0 && !(await this.counter.renew(tenantId, reservation.leaseId, until)))
      return false;
    reservation.until = until;
    return true;
  }

  async release(tenantId: string, reservation: Reservation, used: number): Promise<void> {
    if (reservation.granted === 0) return;
    await this.counter.release(tenantId, reservation.leaseId, reservation.granted - used);
  }

  /**
   * Deletes users through `remove` (which returns how many it deleted) and counts them down. While it runs, a
   * hold on the counter keeps a recount off: one that counted after the deletes but before the count-down
   * would take the deleted users off twice, and the next reservation would then let the tenant past its limit.
   * The hold is a lease of no slots; if it runs out first, a recount drops it and the count-down is skipped,
   * which at worst leaves the counter above the real number until the next recount.
   */
  async removing(tenantId: string, remove: () => Promise<number>): Promise<number> {
    const leaseId = newId(9);
    // No counter yet: the next reservation counts from scratch, so there is nothing to count down.
    const held = await this.counter.reserve(
      tenantId,
      leaseId,
      0,
      Number.MAX_SAFE_INTEGER,
      this.clock.now() + REMOVAL_LEASE_MS,
    );
    let n = 0;
    try {
      n = await remove();
    } finally {
      if (held) await this.counter.release(tenantId, leaseId, n);
    }
    return n;
  }

  /**
   * Makes the counter agree with the users stored. Returns false (and changes nothing) while a reservation is
   * live or when something moved during the count.
   */
  async recount(tenantId: string, seen?: CounterState): Promise<boolean> {
    const state = seen ?? (await this.counter.read(tenantId));
    const now = this.clock.now();
    if (state && Object.values(state.leases).some((until) => until > now)) return false;
    const stored = await this.counter.countStored(tenantId);
    return this.counter.reset(tenantId, state?.version, stored, new Date(now).toISOString());
  }

  /** The counter as stored, creating it by a count when it does not exist yet. */
  async current(tenantId: string): Promise<number> {
    for (let round = 0; round < 5; round++) {
      const state = await this.counter.read(tenantId);
      if (state) return state.activeUsers;
      await this.recount(tenantId);
    }
    return this.counter.countStored(tenantId);
  }

  private hasStaleLease(state: CounterState): boolean {
    const now = this.clock.now();
    return Object.values(state.leases).some((until) => until <= now);
  }

  private mayRecount(state: CounterState): boolean {
    const now = this.clock.now();
    if (Object.values(state.leases).some((until) => until > now)) return false;
    return !state.countedAt || now - Date.parse(state.countedAt) >= RECOUNT_EVERY_MS;
  }
}
