/**
 * Sync run modes, history and the asynchronous `complete`: a delta run never removes; a full run whose removal
 * is large answers 202 and finishes in the background; a run with an unfinished batch removes nobody; the
 * console reads each run's counts and rejected users, tenant by tenant.
 */
import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSyncFunction } from '../../functions/deps.ts';
import { TABLE } from '../support/cloud.ts';
import { adUsers, type DirectoryFixture, startDirectory } from '../support/directory.ts';

let t: DirectoryFixture;
let sync: Hono;
let scheduled: Array<{ tenantId: string; runId: string }> = [];
let runRemoval: (tenantId: string, runId: string) => Promise<void>;

beforeAll(async () => {
  t = await startDirectory();
  // Small inline limits so that a few dozen users make a "large" removal; the job is run by the test, as the
  // jobs queue's consumer would.
  const built = buildSyncFunction({
    dynamo: t.dynamo,
    table: TABLE,
    log: t.log,
    inline: { maxScanned: 1000, maxRemovals: 10 },
    scheduleRemoval: async (tenantId, runId) => {
      scheduled.push({ tenantId, runId });
    },
  });
  sync = built.app as unknown as Hono;
  runRemoval = (tenantId, runId) => built.sync.runRemoval(tenantId, runId);
});
afterAll(async () => t?.close());

async function start(key: string, mode?: 'full' | 'delta') {
  const res = await t.call(sync, 'POST', '/v1/sync/runs', key, mode ? { mode } : undefined);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.runId as string;
}
const push = (key: string, runId: string, users: unknown[]) =>
  t.call(sync, 'PUT', `/v1/sync/runs/${runId}/users`, key, { users });
const complete = (key: string, runId: string) => t.call(sync, 'POST', `/v1/sync/runs/${runId}/complete`, key);
const stored = (tenantId: string) => t.dir.counter.countStored(tenantId);

describe('run modes', () => {
  it('a delta run removes nobody; a full run removes the users it did not see', async () => {
    const { syncKey } = await t.newTenant('modes', 100);
    const all = adUsers('m', 8);
    expect((await push(syncKey, await start(syncKey), all)).body.accepted).toBe(8);
    await complete(syncKey, (await t.call(sync, 'GET', '/v1/sync/runs', syncKey)).body.runs[0].runId);

    const delta = await start(syncKey, 'delta');
    expect((await push(syncKey, delta, [{ ...all[0]!, displayName: 'changed' }])).body.accepted).toBe(1);
    expect((await complete(syncKey, delta)).body).toEqual({
      created: 0,
      updated: 1,
      removed: 0,
      rejected: 0,
    });
    expect(await stored('modes')).toBe(8);

    const full = await start(syncKey, 'full');
    await push(syncKey, full, all.slice(0, 5));
    expect((await complete(syncKey, full)).body).toEqual({ created: 0, updated: 1, removed: 3, rejected: 0 });
    expect(await stored('modes')).toBe(5);
  });

  it('refuses an unknown mode with 400', async () => {
    const { syncKey } = await t.newTenant('badmode', 10);
    const res = await t.call(sync, 'POST', '/v1/sync/runs', syncKey, { mode: 'sideways' });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_request');
  });
});

describe('asynchronous complete', () => {
  it('answers 202 with a status URL for a large removal, and finishes it through the job', async () => {
    const { syncKey, adminKey } = await t.newTenant('bigrun', 100);
    const users = adUsers('b', 40);
    const first = await start(syncKey);
    await push(syncKey, first, users);
    expect((await complete(syncKey, first)).status).toBe(200);

    const second = await start(syncKey);
    await push(syncKey, second, users.slice(0, 10));
    scheduled = [];
    const res = await complete(syncKey, second);
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ runId: second, status: 'completing', statusUrl: `/v1/sync/runs/${second}` });
    expect(scheduled).toEqual([{ tenantId: 'bigrun', runId: second }]);
    // nothing removed inside the request, and the run takes no more batches
    expect(await stored('bigrun')).toBe(40);
    expect((await push(syncKey, second, users.slice(10, 11))).status).toBe(409);
    // a second complete while it runs schedules nothing more
    expect((await complete(syncKey, second)).status).toBe(202);
    expect(scheduled).toHaveLength(1);
    expect((await t.call(sync, 'GET', res.body.statusUrl, syncKey)).body).toMatchObject({
      status: 'completing',
    });

    // the job, twice (queues deliver at least once): the result counts each removal once
    await Promise.all([runRemoval('bigrun', second), runRemoval('bigrun', second)]);
    expect(await stored('bigrun')).toBe(10);
    const view = await t.call(sync, 'GET', `/v1/sync/runs/${second}`, adminKey);
    expect(view.body).toMatchObject({
      runId: second,
      mode: 'full',
      status: 'completed',
      result: { created: 0, updated: 0, removed: 30, rejected: 0 },
    });
    expect((await complete(syncKey, second)).body).toEqual({
      created: 0,
      updated: 0,
      removed: 30,
      rejected: 0,
    });
  });

  it('removes nobody when a batch of the run did not finish', async () => {
    const { syncKey } = await t.newTenant('halfway', 100);
    const users = adUsers('h', 30);
    const first = await start(syncKey);
    await push(syncKey, first, users);
    await complete(syncKey, first);
    const second = await start(syncKey);
    await push(syncKey, second, users.slice(0, 5));
    // a batch that started and never finished, as a connector that died mid-send leaves it
    await t.dir.sync.startBatch('halfway', second, 'digest-of-a-dead-batch');
    const res = await complete(syncKey, second);
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('run_has_errors');
    expect(await stored('halfway')).toBe(30);
  });

  it('completes once under hundreds of parallel complete requests', async () => {
    const { syncKey } = await t.newTenant('racecomplete', 100);
    const users = adUsers('rc', 30);
    const first = await start(syncKey);
    await push(syncKey, first, users);
    await complete(syncKey, first);
    const second = await start(syncKey);
    await push(syncKey, second, users.slice(0, 25));
    const results = await Promise.all(Array.from({ length: 200 }, () => complete(syncKey, second)));
    for (const r of results) expect(r.status, JSON.stringify(r.body)).toBe(200);
    const removed = new Set(results.map((r) => r.body.removed));
    expect(removed).toEqual(new Set([5]));
    expect(await stored('racecomplete')).toBe(25);
  }, 60_000);
});

describe('run history', () => {
  it('lists runs newest first with counts and rejected users, each tenant only its own', async () => {
    const a = await t.newTenant('hist-a', 3);
    const b = await t.newTenant('hist-b', 10);
    const users = adUsers('ha', 5);
    const bad = { ...adUsers('bad', 1)[0]!, mobile: '+999 not a number' };
    const runA = await start(a.syncKey);
    const batch = await push(a.syncKey, runA, [...users, bad]);
    expect(batch.body.accepted).toBe(3);
    await complete(a.syncKey, runA);
    const runB = await start(b.syncKey, 'delta');

    const list = await t.call(sync, 'GET', '/v1/sync/runs', a.adminKey);
    expect(list.status).toBe(200);
    expect(list.body.runs.map((r: { runId: string }) => r.runId)).toEqual([runA]);
    expect(list.body.runs[0]).toMatchObject({
      mode: 'full',
      status: 'completed',
      result: { created: 3, rejected: 3 },
    });
    const view = await t.call(sync, 'GET', `/v1/sync/runs/${runA}`, a.adminKey);
    expect(view.body.rejections).toEqual(
      expect.arrayContaining([
        { id: bad.id, username: bad.username, reason: 'invalid_phone' },
        { id: users[3]!.id, username: users[3]!.username, reason: 'user_limit_reached' },
      ]),
    );
    expect(view.body.rejections).toHaveLength(3);

    // tenant B sees its own run only, and neither key reaches the other's runs
    const listB = await t.call(sync, 'GET', '/v1/sync/runs', b.adminKey);
    expect(listB.body.runs.map((r: { runId: string }) => r.runId)).toEqual([runB]);
    expect((await t.call(sync, 'GET', `/v1/sync/runs/${runA}`, b.adminKey)).status).toBe(404);
    expect((await t.call(sync, 'GET', `/v1/sync/runs/${runB}`, a.syncKey)).status).toBe(404);
    expect((await t.call(sync, 'GET', '/v1/sync/runs', undefined)).status).toBe(401);
    expect((await t.call(sync, 'GET', '/v1/sync/runs?limit=0', a.adminKey)).status).toBe(400);
  });

  it('keeps at most a bounded number of rejected users per batch', async () => {
    const { syncKey, adminKey } = await t.newTenant('hist-many', 1);
    const run = await start(syncKey);
    const reply = await push(syncKey, run, adUsers('many', 200));
    expect(reply.body.rejected).toHaveLength(199);
    await complete(syncKey, run);
    const view = await t.call(sync, 'GET', `/v1/sync/runs/${run}`, adminKey);
    expect(view.body.result.rejected).toBe(199);
    expect(view.body.rejections.length).toBeLessThanOrEqual(25);
    expect(view.body.rejectionsTruncated).toBe(false);
  });
});
