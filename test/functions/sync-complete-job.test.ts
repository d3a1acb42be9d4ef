/**
 * A large sync `complete` in AWS goes through the jobs queue, as a tenant purge does: the sync function queues
 * a `sync.complete` job and answers 202, the operator function's queue handler runs the removal, and the run's
 * status moves from `completing` to `completed` as it does locally. Real stand-ins: dynalite, fauxqs, and the
 * poller that stands in for Lambda's event source mapping.
 */
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import type { Hono } from 'hono';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PoisonMessageError } from '../../functions/core/dispatch.ts';
import { buildOperatorFunction, buildSyncFunction } from '../../functions/directory-deps.ts';
import { SqsPoller } from '../../functions/local/poller.ts';
import { createQueueWithDlq } from '../../functions/local/sqs.ts';
import { operatorJobHandler, operatorJobSender } from '../../functions/operator/jobs.ts';
import { batchHandler } from '../../functions/queue/batch.ts';
import { TABLE } from '../support/cloud.ts';
import { adUsers, type DirectoryFixture, startDirectory } from '../support/directory.ts';

let t: DirectoryFixture;
let sync: Hono;
let jobsUrl: string;
let poller: { stop(): Promise<void> };
const handled: string[] = [];

beforeAll(async () => {
  t = await startDirectory();
  const queue = await createQueueWithDlq(t.sqs, `jobs-${Date.now().toString(36)}`);
  jobsUrl = queue.url;
  const sendJob = operatorJobSender(t.sqs, jobsUrl);
  // as functions/sync/lambda.ts wires it, with small inline limits so that a few dozen users are "large"
  sync = buildSyncFunction({
    dynamo: t.dynamo,
    table: TABLE,
    log: t.log,
    inline: { maxScanned: 1000, maxRemovals: 10 },
    scheduleRemoval: (tenantId, runId, actor) => sendJob({ kind: 'sync.complete', tenantId, runId, actor }),
  }).app as unknown as Hono;
  // as functions/operator/lambda.ts wires its queue side
  const operator = buildOperatorFunction({ dynamo: t.dynamo, table: TABLE, log: t.log });
  const jobs = batchHandler(operatorJobHandler(operator), t.log, { retry: { sqs: t.sqs } });
  const arn = (
    await t.sqs.send(new GetQueueAttributesCommand({ QueueUrl: jobsUrl, AttributeNames: ['QueueArn'] }))
  ).Attributes!.QueueArn!;
  poller = new SqsPoller({
    client: t.sqs,
    queueUrl: jobsUrl,
    queueArn: arn,
    handler: async (event) => {
      handled.push(...event.Records.map((r) => r.body));
      return jobs(event);
    },
    log: t.log,
    waitSeconds: 1,
    concurrency: 1,
  }).start();
}, 120_000);
afterAll(async () => {
  await poller?.stop();
  await t?.close();
});

const start = async (key: string) =>
  (await t.call(sync, 'POST', '/v1/sync/runs', key, { mode: 'full' })).body.runId as string;
const push = (key: string, runId: string, users: unknown[]) =>
  t.call(sync, 'PUT', `/v1/sync/runs/${runId}/users`, key, { users });
const complete = (key: string, runId: string) => t.call(sync, 'POST', `/v1/sync/runs/${runId}/complete`, key);

it('answers 202, and the operator function finishes the removal from the jobs queue', async () => {
  const { syncKey, adminKey } = await t.newTenant('jobrun', 100);
  const users = adUsers('j', 40);
  const first = await start(syncKey);
  await push(syncKey, first, users);
  expect((await complete(syncKey, first)).status).toBe(200);

  const second = await start(syncKey);
  await push(syncKey, second, users.slice(0, 10));
  const res = await complete(syncKey, second);
  expect(res.status).toBe(202);
  expect(res.body).toMatchObject({ status: 'completing' });

  // the status moves on by itself, as the queue's consumer runs the job
  let view = await t.call(sync, 'GET', res.body.statusUrl, adminKey);
  while (view.body.status === 'completing') {
    await new Promise((r) => setTimeout(r, 100));
    view = await t.call(sync, 'GET', res.body.statusUrl, adminKey);
  }
  expect(view.body).toMatchObject({
    runId: second,
    status: 'completed',
    result: { created: 0, updated: 0, removed: 30, rejected: 0 },
  });
  expect(await t.dir.counter.countStored('jobrun')).toBe(10);
  const job = handled.map((b) => JSON.parse(b)).find((j) => j.runId === second);
  expect(job).toMatchObject({
    kind: 'sync.complete',
    tenantId: 'jobrun',
    actor: expect.stringMatching(/^key:/),
  });
  // the connector's next complete reads the result
  expect((await complete(syncKey, second)).body).toEqual({
    created: 0,
    updated: 0,
    removed: 30,
    rejected: 0,
  });
}, 120_000);

it('refuses a malformed job on both sides of the queue', async () => {
  const bad = { kind: 'sync.complete', tenantId: 'jobrun', runId: '../x', actor: 'key:x' } as const;
  await expect(operatorJobSender(t.sqs, jobsUrl)(bad)).rejects.toThrow();
  const handler = operatorJobHandler({
    tenants: { runPurge: async () => undefined },
    sync: { runRemoval: async () => {} },
  });
  await expect(handler({ body: JSON.stringify(bad) } as never)).rejects.toBeInstanceOf(PoisonMessageError);
});
