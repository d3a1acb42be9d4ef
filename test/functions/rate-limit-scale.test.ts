/**
 * The abuse limits at a tenant's scale, through the real limiter on dynalite with AWS's 400 KB item bound
 * enforced (dynalite itself stores larger items): no item grows with the traffic of a window, and under
 * hundreds of parallel creates no counter ever lets more through than its limit.
 */
import { randomBytes } from 'node:crypto';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { limitItem } from '../../functions/adapters/dynamo/keys.ts';
import { counterSlots, DynamoRateLimiter } from '../../functions/adapters/dynamo/rate-limiter.ts';
import type { LimitCounter } from '../../functions/core/ports/abuse.ts';
import { localDynamo } from '../../functions/local/aws-local.ts';
import { ensureTable, type LocalDynamo, startDynalite } from '../../functions/local/dynamo.ts';
import { type DynamoMeter, meterDynamo } from '../support/dynamo-meter.ts';

const TABLE = 'rl-scale';
let db: LocalDynamo;
let dynamo: ReturnType<typeof localDynamo>;
let meter: DynamoMeter;
let limiter: DynamoRateLimiter;

beforeAll(async () => {
  db = await startDynalite();
  dynamo = localDynamo(db.endpoint);
  await ensureTable(dynamo, TABLE);
  meter = meterDynamo(dynamo, { table: TABLE });
  limiter = new DynamoRateLimiter(dynamo, TABLE);
});
afterAll(async () => {
  dynamo?.destroy();
  await db?.close();
});

const tenant = () => `t-${randomBytes(4).toString('hex')}`;
const WINDOW = 42;
const TTL = Math.ceil(Date.now() / 1000) + 3600;

/** The counters one create counts, as ChallengeDefences names them (12-character digests). */
const countersFor = (
  i: number,
  limits: { user: number; tenant: number; shards?: number },
): LimitCounter[] => {
  const digest = (kind: string) => `${kind}${String(i).padStart(12, '0')}`;
  return [
    { name: 'n', max: limits.tenant, shards: limits.shards ?? 10 },
    { name: digest('u'), max: limits.user },
    { name: digest('d'), max: 10 },
    { name: digest('i'), max: 60 },
  ];
};

async function counted(tenantId: string, counter: LimitCounter): Promise<number> {
  let sum = 0;
  for (const slot of counterSlots(counter)) {
    const out = await dynamo.send(
      new GetItemCommand({ TableName: TABLE, Key: marshall(limitItem(tenantId, WINDOW, slot.name)) }),
    );
    sum += Number((out.Item ? unmarshall(out.Item) : {}).n ?? 0);
  }
  return sum;
}

/** Runs `n` creates with at most `concurrency` in flight, and returns how many the limiter let through. */
async function run(n: number, concurrency: number, create: (i: number) => Promise<boolean>) {
  let next = 0;
  let allowed = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        const i = next++;
        if (await create(i)) allowed++;
      }
    }),
  );
  return allowed;
}

describe('rate limiter at scale', () => {
  it('counts 10,000 distinct users, numbers and IPs in one window with every item under 1 KB', async () => {
    const t = tenant();
    meter.reset();
    const allowed = await run(10_000, 64, (i) =>
      limiter.hit(t, WINDOW, TTL, countersFor(i, { user: 10, tenant: 1_000_000 })),
    );
    expect(allowed).toBe(10_000);
    // One item per counter written, none of them growing: the old one-item-per-window design passed 400 KB here.
    expect(meter.maxItemBytes).toBeLessThan(1024);
    expect(meter.calls.filter((c) => c.op === 'UpdateItem')).toHaveLength(40_000);
    expect(await counted(t, { name: 'n', max: 1_000_000, shards: 10 })).toBe(10_000);
  }, 900_000);
});

describe('rate limiter under parallel creates', { timeout: 180_000 }, () => {
  it('lets exactly perUser of 300 parallel creates of one user through', async () => {
    const t = tenant();
    const allowed = await run(300, 300, () =>
      limiter.hit(t, WINDOW, TTL, countersFor(0, { user: 7, tenant: 1000 })),
    );
    expect(allowed).toBe(7);
    // The refused ones gave their tenant slots back.
    expect(await counted(t, { name: 'n', max: 1000, shards: 10 })).toBe(7);
  });

  it('lets exactly perTenant of 200 parallel creates of distinct users through, over ten shards', async () => {
    const t = tenant();
    const allowed = await run(200, 200, (i) =>
      limiter.hit(t, WINDOW, TTL, countersFor(i, { user: 5, tenant: 37 })),
    );
    expect(allowed).toBe(37);
    expect(await counted(t, { name: 'n', max: 37, shards: 10 })).toBe(37);
  });

  it('never passes either limit when both refuse, and leaves the counts equal to what it let through', async () => {
    const t = tenant();
    // 20 users × 12 parallel creates each, 3 per user and 50 for the tenant.
    const perUser = new Map<number, number>();
    const allowed = await run(240, 240, async (i) => {
      const user = i % 20;
      const ok = await limiter.hit(t, WINDOW, TTL, countersFor(user, { user: 3, tenant: 50 }));
      if (ok) perUser.set(user, (perUser.get(user) ?? 0) + 1);
      return ok;
    });
    expect(allowed).toBeLessThanOrEqual(50);
    expect(Math.max(...perUser.values())).toBeLessThanOrEqual(3);
    expect(await counted(t, { name: 'n', max: 50, shards: 10 })).toBe(allowed);
    let users = 0;
    for (let u = 0; u < 20; u++) users += await counted(t, countersFor(u, { user: 3, tenant: 50 })[1]!);
    expect(users).toBe(allowed);
  });

  it('keeps tenants apart: a full tenant does not refuse another one', async () => {
    const a = tenant();
    const b = tenant();
    expect(await run(5, 5, (i) => limiter.hit(a, WINDOW, TTL, countersFor(i, { user: 5, tenant: 3 })))).toBe(
      3,
    );
    expect(await run(5, 5, (i) => limiter.hit(b, WINDOW, TTL, countersFor(i, { user: 5, tenant: 3 })))).toBe(
      3,
    );
  });

  it('splits a sharded maximum into shares that add up to it', () => {
    for (const [max, shards] of [
      [1, 10],
      [7, 10],
      [37, 10],
      [1200, 10],
      [5, 1],
    ] as const) {
      const slots = counterSlots({ name: 'n', max, shards });
      expect(slots.reduce((a, s) => a + s.max, 0)).toBe(max);
      expect(slots.every((s) => s.max >= 1)).toBe(true);
    }
  });
});
