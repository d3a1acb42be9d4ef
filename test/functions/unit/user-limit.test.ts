/**
 * The per-tenant user limit without a database: UserLimit over an in-memory counter that keeps the exact
 * conditional semantics of DynamoUserCounter (one atomic conditional write per call, nothing more). Every port
 * call yields first, so fast-check's scheduler (or random yields in the bursts) decides how calls interleave.
 *
 * What a tenant would notice: more users stored than its limit, users refused while there is room, or slots
 * that never come back.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CounterState, UserCounter } from '../../../functions/core/ports/users.ts';
import { type Reservation, UserLimit } from '../../../functions/core/user-limit.ts';

const TENANT = 't1';
const LEASE_MS = 10_000;

class ManualClock {
  t = Date.parse('2026-01-01T00:00:00Z');
  now() {
    return this.t;
  }
}

interface CounterItem {
  activeUsers: number;
  countVersion: number;
  leases: Record<string, number>;
  countedAt: string;
}

/** The user items and the counter item of each tenant, and every moment the invariants broke. */
class Table {
  readonly users = new Map<string, Set<string>>();
  readonly counters = new Map<string, CounterItem>();
  readonly broken: string[] = [];
  constructor(readonly limit: number) {}

  usersOf(tenantId: string): Set<string> {
    const users = this.users.get(tenantId) ?? new Set<string>();
    this.users.set(tenantId, users);
    return users;
  }

  /** Checked after every write: the limit holds, and the counter never claims fewer users than are stored. */
  check(tenantId: string, after: string) {
    const stored = this.usersOf(tenantId).size;
    const counter = this.counters.get(tenantId);
    if (stored > this.limit)
      this.broken.push(`${stored} users stored over a limit of ${this.limit} after ${after}`);
    if (counter && counter.activeUsers < stored)
      this.broken.push(`counter ${counter.activeUsers} below the ${stored} users stored after ${after}`);
  }
}

/** DynamoUserCounter's conditions, one atomic step per call (see functions/adapters/dynamo/user-counter.ts). */
class MemoryUserCounter implements UserCounter {
  constructor(
    private readonly table: Table,
    private readonly pause: () => Promise<void>,
  ) {}

  async read(tenantId: string): Promise<CounterState | undefined> {
    await this.pause();
    const item = this.table.counters.get(tenantId);
    if (!item) return undefined;
    return {
      activeUsers: item.activeUsers,
      version: item.countVersion,
      leases: { ...item.leases },
      countedAt: item.countedAt,
    };
  }

  async reserve(tenantId: string, leaseId: string, n: number, limit: number, leaseUntil: number) {
    await this.pause();
    const item = this.table.counters.get(tenantId);
    // attribute_exists(pk) AND activeUsers <= :max, with :max = limit - n
    if (!item || !(item.activeUsers <= limit - n)) return false;
    item.leases[leaseId] = leaseUntil;
    item.activeUsers += n;
    item.countVersion += 1;
    this.table.check(tenantId, `reserve(${n})`);
    return true;
  }

  async renew(tenantId: string, leaseId: string, leaseUntil: number) {
    await this.pause();
    const item = this.table.counters.get(tenantId);
    // attribute_exists(leases.#lease): a lease that ran out but was not yet dropped may still be renewed.
    if (!item || !(leaseId in item.leases)) return false;
    item.leases[leaseId] = leaseUntil;
    item.countVersion += 1;
    return true;
  }

  async release(tenantId: string, leaseId: string, unused: number) {
    await this.pause();
    const item = this.table.counters.get(tenantId);
    if (!item || !(leaseId in item.leases)) return;
    delete item.leases[leaseId];
    item.activeUsers -= unused;
    item.countVersion += 1;
    this.table.check(tenantId, `release(${unused})`);
  }

  async decrement(tenantId: string, n: number) {
    await this.pause();
    const item = this.table.counters.get(tenantId);
    if (!item) return;
    item.activeUsers -= n;
    item.countVersion += 1;
    this.table.check(tenantId, `decrement(${n})`);
  }

  async countStored(tenantId: string) {
    await this.pause();
    return this.table.usersOf(tenantId).size;
  }

  async reset(tenantId: string, version: number | undefined, count: number, at: string) {
    await this.pause();
    const item = this.table.counters.get(tenantId);
    if (version === undefined) {
      // PutItem with attribute_not_exists(pk)
      if (item) return false;
      this.table.counters.set(tenantId, { activeUsers: count, countVersion: 0, leases: {}, countedAt: at });
    } else {
      // countVersion = :seen (false when there is no item at all)
      if (!item || item.countVersion !== version) return false;
      this.table.counters.set(tenantId, {
        activeUsers: count,
        countVersion: version + 1,
        leases: {},
        countedAt: at,
      });
    }
    this.table.check(tenantId, `reset(${count})`);
    return true;
  }
}

/** The user items as the sync and the admin API write them, one conditional write each. */
class MemoryUsers {
  private next = 0;
  constructor(
    private readonly table: Table,
    private readonly pause: () => Promise<void>,
  ) {}

  /** Lands only while `mayWrite` holds at the instant of the write (a holder stops once its lease is gone). */
  async create(tenantId: string, mayWrite: () => boolean): Promise<boolean> {
    await this.pause();
    if (!mayWrite()) return false;
    this.table.usersOf(tenantId).add(`u${this.next++}`);
    this.table.check(tenantId, 'create');
    return true;
  }

  async delete(tenantId: string, username: string): Promise<boolean> {
    await this.pause();
    return this.table.usersOf(tenantId).delete(username);
  }
}

interface World {
  table: Table;
  clock: ManualClock;
  limit: UserLimit;
  users: MemoryUsers;
}

function world(limit: number, pause: () => Promise<void>): World {
  const table = new Table(limit);
  const clock = new ManualClock();
  return {
    table,
    clock,
    limit: new UserLimit(new MemoryUserCounter(table, pause), clock),
    users: new MemoryUsers(table, pause),
  };
}

interface Outcome {
  wanted: number;
  granted: number;
  created: number;
}

/**
 * One batch as the sync runs it: reserve, create up to `use` of the granted slots while the lease holds
 * (renewing once half-way when asked), then give back what was not used, unless the process "crashes".
 */
async function batch(
  w: World,
  plan: { wanted: number; use: number; renew?: boolean; crash?: boolean },
  limit = w.table.limit,
): Promise<Outcome> {
  const reservation: Reservation = await w.limit.reserve(
    TENANT,
    plan.wanted,
    limit,
    w.clock.now() + LEASE_MS,
  );
  let created = 0;
  let live = true;
  const writes = Math.min(reservation.granted, plan.use);
  for (let i = 0; i < writes && live; i++) {
    if (plan.renew && i === Math.floor(writes / 2))
      live = await w.limit.renew(TENANT, reservation, w.clock.now() + LEASE_MS);
    if (live && (await w.users.create(TENANT, () => w.clock.now() < reservation.until))) created++;
    else live = false;
  }
  if (!plan.crash) await w.limit.release(TENANT, reservation, created);
  return { wanted: plan.wanted, granted: reservation.granted, created };
}

/** Deletes up to `n` stored users and counts them down, as the sync's removal and the admin API do. */
async function removal(
  w: World,
  n: number,
  meanwhile: () => Promise<unknown> = async () => {},
): Promise<number> {
  return w.limit.removing(TENANT, async () => {
    const victims = [...w.table.usersOf(TENANT)].slice(0, n);
    let gone = 0;
    for (const username of victims) if (await w.users.delete(TENANT, username)) gone++;
    await meanwhile();
    return gone;
  });
}

function expectSane(outcome: Outcome) {
  expect(Number.isInteger(outcome.granted)).toBe(true);
  expect(outcome.granted).toBeGreaterThanOrEqual(0);
  expect(outcome.granted).toBeLessThanOrEqual(Math.max(0, outcome.wanted));
  expect(outcome.created).toBeLessThanOrEqual(outcome.granted);
}

/** After everyone is gone: every lease (and any deletes' hold) lapses; a recount must agree with the users. */
async function settle(w: World) {
  w.clock.t += 120_000;
  expect(await w.limit.recount(TENANT)).toBe(true);
  expect(await w.limit.current(TENANT)).toBe(w.table.usersOf(TENANT).size);
}

/** A pause of 0–3 macrotask turns, from a seeded generator so that a failure can be replayed. */
function randomPauses(seed: number): () => Promise<void> {
  let state = seed >>> 0 || 1;
  return async () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    for (let i = 0; i < state % 4; i++) await new Promise<void>((resolve) => setImmediate(resolve));
  };
}

describe('UserLimit, one call at a time', () => {
  it('grants exactly the room left, and refuses the rest visibly once the tenant is full', async () => {
    const w = world(10, async () => {});
    const first = await batch(w, { wanted: 7, use: 7 });
    expect(first).toEqual({ wanted: 7, granted: 7, created: 7 });
    const second = await batch(w, { wanted: 7, use: 7 });
    expect(second).toEqual({ wanted: 7, granted: 3, created: 3 });
    const third = await batch(w, { wanted: 1, use: 1 });
    expect(third).toEqual({ wanted: 1, granted: 0, created: 0 });
    expect(w.table.usersOf(TENANT).size).toBe(10);
    expect(await w.limit.current(TENANT)).toBe(10);
    expect(w.table.broken).toEqual([]);
  });

  it('gives back the slots a batch did not use, at once', async () => {
    const w = world(10, async () => {});
    expect(await batch(w, { wanted: 8, use: 2 })).toEqual({ wanted: 8, granted: 8, created: 2 });
    expect(await w.limit.current(TENANT)).toBe(2);
    expect(await batch(w, { wanted: 9, use: 9 })).toEqual({ wanted: 9, granted: 8, created: 8 });
  });

  it('frees the slots of a crashed batch as soon as its lease runs out, not before', async () => {
    const w = world(10, async () => {});
    expect(await batch(w, { wanted: 10, use: 1, crash: true })).toMatchObject({ granted: 10, created: 1 });
    // Its lease is live: the holder may still be writing, so its slots stay taken.
    expect(await batch(w, { wanted: 5, use: 5 })).toMatchObject({ granted: 0 });
    w.clock.t += LEASE_MS;
    expect(await batch(w, { wanted: 20, use: 20 })).toMatchObject({ granted: 9, created: 9 });
    expect(w.table.usersOf(TENANT).size).toBe(10);
    expect(w.table.broken).toEqual([]);
  });

  it('counts deleted users down so their slots can be used again', async () => {
    const w = world(5, async () => {});
    await batch(w, { wanted: 5, use: 5 });
    await removal(w, 2);
    expect(await w.limit.current(TENANT)).toBe(3);
    expect(await batch(w, { wanted: 5, use: 5 })).toMatchObject({ granted: 2, created: 2 });
  });

  it('keeps the limit when a recount runs between a delete and its count-down', async () => {
    const w = world(2, async () => {});
    await batch(w, { wanted: 2, use: 2 });
    // An admin deletes a user while a sync run completes and recounts. Counting the user off again after the
    // recount already missed it would leave room for one user too many.
    expect(await removal(w, 1, () => w.limit.recount(TENANT))).toBe(1);
    expect(await batch(w, { wanted: 2, use: 2 })).toMatchObject({ granted: 1, created: 1 });
    expect(w.table.usersOf(TENANT).size).toBe(2);
    expect(w.table.broken).toEqual([]);
  });

  it('lets a recount through once a stuck delete has held it off for its whole lease', async () => {
    const w = world(3, async () => {});
    await batch(w, { wanted: 3, use: 3, crash: true });
    await removal(w, 1, async () => {
      w.clock.t += 2 * LEASE_MS;
      expect(await batch(w, { wanted: 3, use: 3 })).toMatchObject({ granted: 0 });
      w.clock.t += 60_000;
      expect(await batch(w, { wanted: 3, use: 3 })).toMatchObject({ granted: 1, created: 1 });
    });
    expect(w.table.usersOf(TENANT).size).toBe(3);
    expect(w.table.broken).toEqual([]);
    await settle(w);
  });

  it('does not count down deletes made before any counter existed', async () => {
    const w = world(3, async () => {});
    w.table.usersOf(TENANT).add('old');
    expect(await removal(w, 1)).toBe(1);
    expect(await w.limit.current(TENANT)).toBe(0);
    expect(await batch(w, { wanted: 5, use: 5 })).toMatchObject({ granted: 3 });
  });

  it('grants nothing for nothing and never a negative number', async () => {
    const w = world(5, async () => {});
    for (const wanted of [0, -1, -100]) expect((await batch(w, { wanted, use: 0 })).granted).toBe(0);
    expect(w.table.usersOf(TENANT).size).toBe(0);
  });

  it('holds a lowered limit: nobody new gets in until enough users are gone', async () => {
    const w = world(10, async () => {});
    await batch(w, { wanted: 10, use: 10 });
    expect(await batch(w, { wanted: 3, use: 3 }, 6)).toMatchObject({ granted: 0 });
    await removal(w, 5);
    expect(await batch(w, { wanted: 3, use: 3 }, 6)).toMatchObject({ granted: 1, created: 1 });
  });
});

describe('UserLimit under concurrency', () => {
  it('never stores more users than the limit in a burst of hundreds of batches, and refuses none while there is room', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 400 }),
        fc.array(fc.integer({ min: 1, max: 8 }), { minLength: 100, maxLength: 300 }),
        fc.integer(),
        async (limit, sizes, seed) => {
          const w = world(limit, randomPauses(seed));
          const outcomes = await Promise.all(sizes.map((wanted) => batch(w, { wanted, use: wanted })));
          outcomes.forEach(expectSane);
          const stored = w.table.usersOf(TENANT).size;
          expect(w.table.broken).toEqual([]);
          expect(stored).toBeLessThanOrEqual(limit);
          // Every refused user is reported as such: what was granted is exactly what got stored.
          expect(outcomes.reduce((sum, o) => sum + o.granted, 0)).toBe(stored);
          expect(outcomes.reduce((sum, o) => sum + o.created, 0)).toBe(stored);
          const wanted = sizes.reduce((sum, n) => sum + n, 0);
          expect(stored).toBe(Math.min(limit, wanted));
          // No drift: the counter already agrees with the users stored, before any recount.
          expect(w.table.counters.get(TENANT)?.activeUsers).toBe(stored);
        },
      ),
      { numRuns: 25 },
    );
  });

  it('gives every unused slot back when hundreds of batches use only part of what they got', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 200 }),
        fc.array(fc.record({ wanted: fc.integer({ min: 1, max: 6 }), use: fc.integer({ min: 0, max: 6 }) }), {
          minLength: 100,
          maxLength: 300,
        }),
        fc.integer(),
        async (limit, plans, seed) => {
          const w = world(limit, randomPauses(seed));
          const outcomes = await Promise.all(plans.map((plan) => batch(w, plan)));
          outcomes.forEach(expectSane);
          const stored = w.table.usersOf(TENANT).size;
          expect(w.table.broken).toEqual([]);
          expect(stored).toBe(outcomes.reduce((sum, o) => sum + o.created, 0));
          expect(w.table.counters.get(TENANT)).toMatchObject({ activeUsers: stored, leases: {} });
        },
      ),
      { numRuns: 25 },
    );
  });

  type Action =
    | { kind: 'batch'; wanted: number; use: number; renew: boolean; crash: boolean }
    | { kind: 'remove'; n: number }
    | { kind: 'recount' }
    | { kind: 'tick'; ms: number };

  const arbAction: fc.Arbitrary<Action> = fc.oneof(
    {
      weight: 4,
      arbitrary: fc.record({
        kind: fc.constant('batch' as const),
        wanted: fc.integer({ min: 1, max: 6 }),
        use: fc.integer({ min: 0, max: 6 }),
        renew: fc.boolean(),
        crash: fc.boolean(),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({ kind: fc.constant('remove' as const), n: fc.integer({ min: 1, max: 3 }) }),
    },
    { weight: 1, arbitrary: fc.constant({ kind: 'recount' as const }) },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('tick' as const),
        ms: fc.integer({ min: 1, max: 2 * LEASE_MS }),
      }),
    },
  );

  function act(w: World, action: Action, pause: () => Promise<void>): Promise<unknown> {
    switch (action.kind) {
      case 'batch':
        return batch(w, action).then(expectSane);
      case 'remove':
        return removal(w, action.n);
      case 'recount':
        return w.limit.recount(TENANT);
      case 'tick':
        return pause().then(() => {
          w.clock.t += action.ms;
        });
    }
  }

  it('keeps the limit under every interleaving of batches, crashes, renewals, recounts, deletes and time', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 0, max: 12 }),
        fc.array(arbAction, { minLength: 1, maxLength: 10 }),
        async (s, limit, initial, actions) => {
          let scheduled = false;
          const pause = () => (scheduled ? s.schedule(Promise.resolve()) : Promise.resolve());
          const w = world(limit, pause);
          for (let i = 0; i < Math.min(initial, limit); i++) w.table.usersOf(TENANT).add(`seed${i}`);
          await w.limit.recount(TENANT);
          scheduled = true;
          await s.waitFor(Promise.all(actions.map((a) => act(w, a, pause))));
          scheduled = false;
          expect(w.table.broken).toEqual([]);
          await settle(w);
          // Once things are quiet, a batch gets exactly the room that is left.
          const room = limit - w.table.usersOf(TENANT).size;
          expect((await batch(w, { wanted: limit + 1, use: limit + 1 })).granted).toBe(room);
          expect(w.table.broken).toEqual([]);
        },
      ),
      { numRuns: 1500 },
    );
  });
});
