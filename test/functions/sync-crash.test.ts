/**
 * The AD sync after a process dies mid-batch (kill -9): a "dead" process is a sync app whose DynamoDB client
 * passes calls to the real dynalite until a chosen call, then fails that call and every later one, so nothing
 * the process would have done afterwards (releasing its reservation or lock, recording its batch) happens.
 * Everything else runs the real stack; the clock is the system clock plus an offset the test moves, so a lease
 * running out is a step of the test, not a wait.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Clock } from '../../functions/core/clock.ts';
import { CREATE_LEASE_MS } from '../../functions/core/sync.ts';
import { buildSyncApp } from '../../functions/deps.ts';
import { TABLE } from '../support/cloud.ts';
import { type AdUser, adUsers, type DirectoryFixture, startDirectory } from '../support/directory.ts';

let t: DirectoryFixture;
let offset = 0;
const clock: Clock = { now: () => Date.now() + offset };
/** A live sync process on the shared clock (the fixture's own apps run on the system clock). */
let sync: Hono;

beforeAll(async () => {
  t = await startDirectory();
  sync = buildSyncApp({ dynamo: t.dynamo, table: TABLE, log: t.log, clock }) as unknown as Hono;
});
afterAll(async () => t?.close());

/** Lets a lease that was taken before this call run out. */
const passOneLease = () => {
  offset += CREATE_LEASE_MS + 1;
};

// biome-ignore lint/suspicious/noExplicitAny: commands are told apart by their input, whatever their class
type Command = { constructor: { name: string }; input: any };
type CrashPoint = (command: Command) => boolean;

/**
 * A sync process that dies at the first call `crashAt` picks: that call and all after it fail. `onDone` sees
 * each call that went through.
 */
function dyingProcess(crashAt: CrashPoint, onDone: (command: Command) => void = () => {}) {
  const state = { dead: false };
  const client = Object.create(t.dynamo) as DynamoDBClient;
  client.send = (async (command: Command) => {
    if (!state.dead && crashAt(command)) state.dead = true;
    if (state.dead) throw new Error('the process was killed');
    const out = await t.dynamo.send(command as never);
    onDone(command);
    return out;
  }) as DynamoDBClient['send'];
  const app = buildSyncApp({ dynamo: client, table: TABLE, log: t.log, clock }) as unknown as Hono;
  return { app, state };
}

const expression = (c: Command) => String(c.input?.UpdateExpression ?? '');
const crashPoints: Record<string, CrashPoint> = {
  /** The counter holds the reservation; no user is written. */
  'after reserving, before any user write': (c) => c.constructor.name === 'BatchWriteItemCommand',
  /** New users are stored, the reservation and the lock are never released, changed users never written. */
  'after the creates, before releasing and updating': (c) => expression(c).startsWith('REMOVE leases.'),
  /** Every user is written; only the batch record is missing. */
  'after every user write, before the batch record': (c) => expression(c).includes('#seen = :seen'),
};

const start = async (app: Hono, key: string) => {
  const res = await t.call(app, 'POST', '/v1/sync/runs', key);
  expect(res.status).toBe(201);
  return res.body.runId as string;
};
const push = (app: Hono, key: string, runId: string, users: AdUser[]) =>
  t.call(app, 'PUT', `/v1/sync/runs/${runId}/users`, key, { users });
const complete = (app: Hono, key: string, runId: string) =>
  t.call(app, 'POST', `/v1/sync/runs/${runId}/complete`, key);
const stored = (tenantId: string) => t.dir.counter.countStored(tenantId);
const counted = async (tenantId: string) => (await t.dir.counter.read(tenantId))?.activeUsers;

describe('a batch whose process died', () => {
  it('refuses nobody once the dead process lease is over, and the counter agrees with the table', async () => {
    const key = (await t.newTenant('crash-limit', 10)).syncKey;
    const runId = await start(sync, key);
    const users = adUsers('cl', 10);
    const dying = dyingProcess(crashPoints['after reserving, before any user write']!);
    expect((await push(dying.app, key, runId, users)).status).toBe(500);
    expect(dying.state.dead).toBe(true);
    // The drift the dead process leaves: ten slots reserved, nobody stored.
    expect(await counted('crash-limit')).toBe(10);
    expect(await stored('crash-limit')).toBe(0);

    passOneLease();
    // The connector sends the batch again: taken whole at once, no 503 and no user_limit_reached.
    const again = await push(sync, key, runId, users);
    expect(again).toEqual({ status: 200, body: { accepted: 10, rejected: [] } });
    expect(await stored('crash-limit')).toBe(10);
    expect(await counted('crash-limit')).toBe(10);
    expect((await complete(sync, key, runId)).body).toEqual({
      created: 10,
      updated: 0,
      removed: 0,
      rejected: 0,
    });
  });

  it('lets another run of the tenant create users as soon as one lease is over', async () => {
    const key = (await t.newTenant('crash-lock', 100)).syncKey;
    const dying = dyingProcess(crashPoints['after reserving, before any user write']!);
    expect((await push(dying.app, key, await start(sync, key), adUsers('dead', 30))).status).toBe(500);

    passOneLease();
    // A new run (the connector restarted) is not made to wait for the dead holder's lock, nor refused.
    const other = await start(sync, key);
    const reply = await push(sync, key, other, adUsers('alive', 100));
    expect(reply).toEqual({ status: 200, body: { accepted: 100, rejected: [] } });
    expect(await stored('crash-lock')).toBe(100);
    expect(await counted('crash-lock')).toBe(100);
  });

  it.each(Object.keys(crashPoints))(
    'dies %s: the batch sent again stores it whole and complete reports what is stored',
    async (point) => {
      const tenantId = `crash-${Object.keys(crashPoints).indexOf(point)}`;
      const key = (await t.newTenant(tenantId, 40)).syncKey;
      const everyone = adUsers('u', 30);
      const first = await start(sync, key);
      expect((await push(sync, key, first, everyone.slice(0, 20))).body.accepted).toBe(20);
      await complete(sync, key, first);

      // The next run: 5 users changed, 5 unchanged, 10 new, and 10 old users gone from AD.
      const batch = [
        ...everyone.slice(0, 5).map((u) => ({ ...u, displayName: 'Renamed' })),
        ...everyone.slice(5, 10),
        ...everyone.slice(20, 30),
      ];
      const runId = await start(sync, key);
      const dying = dyingProcess(crashPoints[point]!);
      expect((await push(dying.app, key, runId, batch)).status).toBe(500);
      expect(dying.state.dead).toBe(true);
      // Nobody is removed while the batch is unfinished.
      expect((await complete(sync, key, runId)).body.error.code).toBe('run_has_errors');

      passOneLease();
      expect(await push(sync, key, runId, batch)).toEqual({
        status: 200,
        body: { accepted: 20, rejected: [] },
      });
      const done = await complete(sync, key, runId);
      expect(done.body).toEqual({ created: 10, updated: 5, removed: 10, rejected: 0 });
      // The counts agree with the table: 10 of the 20 old users are left, plus the 10 new ones.
      expect(await stored(tenantId)).toBe(20);
      expect(await counted(tenantId)).toBe(20);
      expect((await t.dir.users.get(tenantId, 'u0'))?.displayName).toBe('Renamed');
      expect(await t.dir.users.get(tenantId, 'u29')).toBeDefined();
      expect(await t.dir.users.get(tenantId, 'u15')).toBeUndefined();
      // Completing again changes nothing and reports the same.
      expect(await complete(sync, key, runId)).toEqual(done);
    },
  );
});

describe('runs racing a process that dies', () => {
  it('fills the limit exactly, never past it, and reports every user not taken', async () => {
    const limit = 150;
    const key = (await t.newTenant('crash-race', limit)).syncKey;
    // The dead process takes the lock first, reserves 100 slots and dies holding both, while the live runs
    // race it: they are sent as soon as it holds the lock.
    let reserved = false;
    let locked!: () => void;
    const lockTaken = new Promise<void>((resolve) => {
      locked = resolve;
    });
    const dying = dyingProcess(
      () => reserved,
      (c) => {
        if (c.input?.Item?.sk?.S === 'LOCK#user-create') locked();
        if (expression(c).includes('ADD activeUsers :n')) reserved = true;
      },
    );
    const deadRun = await start(sync, key);
    const deadBatch = adUsers('dead', 100);
    const liveRuns = await Promise.all(Array.from({ length: 8 }, () => start(sync, key)));
    // Each live run sends two batches of 50 at once: 16 batches racing for the 150 slots.
    const liveBatches = liveRuns.flatMap((runId, r) =>
      [0, 1].map((b) => ({ runId, users: adUsers(`r${r}u`, 50, b * 50) })),
    );

    const deadReply = push(dying.app, key, deadRun, deadBatch);
    await lockTaken;
    const live = Promise.all(liveBatches.map((b) => push(sync, key, b.runId, b.users)));
    expect((await deadReply).status).toBe(500);
    expect(dying.state.dead).toBe(true);
    expect(await counted('crash-race')).toBe(100);
    passOneLease();

    const replies = await live;
    for (const reply of replies) expect(reply.status).toBe(200);
    // The dead process's batch is sent again, last.
    const resent = await push(sync, key, deadRun, deadBatch);
    expect(resent.status).toBe(200);

    const all = [...replies, resent];
    const accepted = all.reduce((n, r) => n + r.body.accepted, 0);
    const rejected = all.flatMap((r) => r.body.rejected as Array<{ id: string; reason: string }>);
    expect(accepted).toBe(limit);
    expect(rejected).toHaveLength(800 + 100 - limit);
    expect(rejected.every((r) => r.reason === 'user_limit_reached')).toBe(true);
    expect(new Set(rejected.map((r) => r.id)).size).toBe(rejected.length);
    expect(await stored('crash-race')).toBe(limit);
    expect(await counted('crash-race')).toBe(limit);

    // Every run's report adds up to the table: 150 created, the rest rejected, nobody removed.
    const reports = [];
    for (const runId of [...liveRuns, deadRun]) reports.push((await complete(sync, key, runId)).body);
    expect(reports.reduce((n, r) => n + r.created, 0)).toBe(limit);
    expect(reports.reduce((n, r) => n + r.rejected, 0)).toBe(800 + 100 - limit);
    expect(reports.every((r) => r.updated === 0 && r.removed === 0)).toBe(true);
    expect(await stored('crash-race')).toBe(limit);
  });
});
