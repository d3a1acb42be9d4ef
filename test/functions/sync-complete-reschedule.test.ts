/**
 * A large `complete` whose removal cannot be queued (the jobs queue refuses, or an in-process removal throws)
 * must not leave the run `completing` for good: the run opens again, and the connector's next `complete`
 * schedules the removal anew, which then finishes the run. Hundreds of parallel retries schedule it once.
 */
import type { Hono } from 'hono';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildSyncFunction } from '../../functions/directory-deps.ts';
import { TABLE } from '../support/cloud.ts';
import { adUsers, type DirectoryFixture, startDirectory } from '../support/directory.ts';

let t: DirectoryFixture;
let sync: Hono;
let refuse = true;
const scheduled: string[] = [];

beforeAll(async () => {
  t = await startDirectory();
  const built = buildSyncFunction({
    dynamo: t.dynamo,
    table: TABLE,
    log: t.log,
    inline: { maxScanned: 1000, maxRemovals: 10 },
    // stands for the jobs queue: first unreachable, then taking the job (run here, as its consumer would)
    scheduleRemoval: async (tenantId, runId, actor) => {
      if (refuse) throw Object.assign(new Error('queue unreachable'), { name: 'ServiceUnavailable' });
      scheduled.push(runId);
      setTimeout(() => void built.sync.runRemoval(tenantId, runId, actor), 10);
    },
  });
  sync = built.app as unknown as Hono;
}, 120_000);
afterAll(async () => {
  await t?.close();
});

const start = async (key: string) =>
  (await t.call(sync, 'POST', '/v1/sync/runs', key, { mode: 'full' })).body.runId as string;
const push = (key: string, runId: string, users: unknown[]) =>
  t.call(sync, 'PUT', `/v1/sync/runs/${runId}/users`, key, { users });
const complete = (key: string, runId: string) => t.call(sync, 'POST', `/v1/sync/runs/${runId}/complete`, key);

it('opens the run again when its removal cannot be queued, and the next complete finishes it', async () => {
  const { syncKey, adminKey } = await t.newTenant('resched', 100);
  const users = adUsers('r', 40);
  const first = await start(syncKey);
  await push(syncKey, first, users);
  expect((await complete(syncKey, first)).status).toBe(200);

  const second = await start(syncKey);
  await push(syncKey, second, users.slice(0, 10));
  refuse = true;
  expect((await complete(syncKey, second)).status).toBeGreaterThanOrEqual(500);
  const open = await t.call(sync, 'GET', `/v1/sync/runs/${second}`, adminKey);
  expect(open.body.status).toBe('open');
  expect(await t.dir.counter.countStored('resched')).toBe(40);

  // the connector retries, hundreds of times at once: one schedules the removal, the rest read `completing`
  refuse = false;
  const retries = await Promise.all(Array.from({ length: 200 }, () => complete(syncKey, second)));
  expect(retries.every((r) => r.status === 202 || r.status === 200)).toBe(true);
  expect(scheduled.filter((id) => id === second)).toHaveLength(1);

  let view = await t.call(sync, 'GET', `/v1/sync/runs/${second}`, adminKey);
  while (view.body.status !== 'completed') {
    await new Promise((r) => setTimeout(r, 100));
    view = await t.call(sync, 'GET', `/v1/sync/runs/${second}`, adminKey);
  }
  expect(view.body.result).toMatchObject({ removed: 30 });
  expect(await t.dir.counter.countStored('resched')).toBe(10);
}, 180_000);
