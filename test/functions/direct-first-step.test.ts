/**
 * A one-rule SMS login's job is published by the create itself, without the dispatch queue hop: the same job
 * dispatch would publish (id, agent, version, deadline), nothing on the queue. Whatever needs the queue still
 * gets it: a chain with a next rule (its failover timer), a step whose agent is not known yet, and a publish
 * that fails, which goes through the queue to the same agent under the same job id (the agent's journal drops
 * the second copy when the failed publish had landed after all).
 */
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { IoTDataPlaneClient } from '@aws-sdk/client-iot-data-plane';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoConfigStore } from '../../functions/adapters/dynamo/config-store.ts';
import { userItem } from '../../functions/adapters/dynamo/keys.ts';
import { IotJobPublisher } from '../../functions/adapters/mqtt/iot-publisher.ts';
import { eventsTopic, LOCAL_STAGE, type SmsJob } from '../../functions/contracts/index.ts';
import { DispatchMessage } from '../../functions/contracts/queue.ts';
import type { JobPublisher } from '../../functions/core/ports/agents.ts';
import { buildAuthApp, buildDispatchHandler, buildEventsHandler } from '../../functions/deps.ts';
import { type CloudFixture, jsonRequest, startCloud, TABLE } from '../support/cloud.ts';

let cloud: CloudFixture;
const published: Array<{ tenantId: string; agentId: string; job: SmsJob }> = [];
const recorder: JobPublisher = {
  publishJob: async (tenantId, agentId, job) => {
    published.push({ tenantId, agentId, job });
  },
};

const authWith = (publisher: JobPublisher) =>
  buildAuthApp({
    dynamo: cloud.dynamo,
    table: TABLE,
    keys: cloud.keys,
    log: cloud.log,
    sqs: cloud.sqs,
    dispatchQueueUrl: cloud.queueUrl,
    agentCacheMs: 0,
    publisher,
  });

async function login(app: ReturnType<typeof buildAuthApp>, username: string) {
  const res = await app.request(
    '/v1/challenges',
    jsonRequest({ username, client: { ip: '203.0.113.9' } }, cloud.seed.keys.auth),
  );
  expect(res.status).toBe(201);
  return ((await res.json()) as { challengeId: string; expiresAt: string }).challengeId;
}

const agentId = () => cloud.seed.agent.agentId;

/** The dispatch queue's messages for one challenge (the fixture's queue shows unacknowledged ones again). */
async function queuedFor(challengeId: string) {
  return (await cloud.drainQueue())
    .map((b) => DispatchMessage.parse(JSON.parse(b)))
    .filter((m) => m.challengeId === challengeId);
}

beforeAll(async () => {
  cloud = await startCloud();
});
afterAll(() => cloud?.close());
beforeEach(async () => {
  published.length = 0;
  await cloud.drainQueue();
  await cloud.stores.directory.setAgentState(
    cloud.seed.tenantId,
    agentId(),
    'online',
    new Date().toISOString(),
  );
  await cloud.stores.directory.setAgentJobVersions(cloud.seed.tenantId, agentId(), [1, 2]);
});

describe('a one-rule SMS login without the queue hop', () => {
  it('publishes the job at create, runs to accept, and puts nothing on the dispatch queue', async () => {
    const app = authWith(recorder);
    const id = await login(app, 'alice');
    expect(await queuedFor(id)).toEqual([]);
    expect(published).toHaveLength(1);
    const { tenantId, agentId: to, job } = published[0]!;
    const stored = await cloud.stores.challenges.get(cloud.seed.tenantId, id, true);
    expect({ tenantId, to }).toEqual({ tenantId: cloud.seed.tenantId, to: agentId() });
    expect(job).toMatchObject({
      v: 2,
      id: `${id}.0`,
      kind: 'sms',
      to: '+4520123456',
      modemGroup: 'default',
      report: false,
      expiresAt: stored?.expiresAt,
    });
    expect(stored?.deliveries).toEqual([
      expect.objectContaining({ step: 0, status: 'dispatched', agentId: agentId() }),
    ]);

    // the agent's job.sent, as the events function takes it, then the code from the job's text
    const { processor } = buildEventsHandler({ dynamo: cloud.dynamo, table: TABLE, log: cloud.log });
    const event = {
      v: 1,
      at: new Date().toISOString(),
      type: 'job.sent',
      jobId: job.id,
      modem: 'modem-1',
      messageRefs: [3],
    };
    const outcome = await processor.process(
      JSON.stringify({
        topic: eventsTopic({ stage: LOCAL_STAGE, tenantId: cloud.seed.tenantId, agentId: agentId() }),
        payload: Buffer.from(JSON.stringify(event)).toString('base64'),
        receivedAt: Date.now(),
      }),
    );
    expect([outcome, [...processor.dropped]]).toEqual(['applied', []]);
    const code = /code is (\d+)/.exec(job.text)?.[1];
    const verdict = await app.request(
      `/v1/challenges/${id}/verify`,
      jsonRequest({ passcode: code, client: { ip: '203.0.113.9' } }, cloud.seed.keys.auth),
    );
    expect(await verdict.json()).toEqual({ result: 'accept' });
  });

  it('gives an agent that takes only version 1 a version 1 job', async () => {
    await cloud.stores.directory.setAgentJobVersions(cloud.seed.tenantId, agentId(), [1]);
    const id = await login(authWith(recorder), 'bob');
    expect(published.map((p) => p.job)).toEqual([expect.objectContaining({ v: 1, id: `${id}.0` })]);
    expect(published[0]?.job).not.toHaveProperty('report');
  });

  it('queues the step when no agent is online, for dispatch to pick one', async () => {
    await cloud.stores.directory.setAgentState(
      cloud.seed.tenantId,
      agentId(),
      'offline',
      new Date().toISOString(),
    );
    const id = await login(authWith(recorder), 'alice');
    expect(published).toEqual([]);
    const queued = await queuedFor(id);
    expect(queued).toEqual([expect.objectContaining({ challengeId: id, step: 0, kind: 'step' })]);
    expect(queued[0]?.agentId).toBeUndefined();
  });

  it('queues step 0 of a chain with a next rule, whose failover timer dispatch arms', async () => {
    const config = new DynamoConfigStore(cloud.dynamo, TABLE);
    const now = new Date().toISOString();
    const rule = { channel: 'sms_modem', target: 'primary', route: 'default', timeoutSeconds: 5 } as const;
    await config.put(
      cloud.seed.tenantId,
      'loadBalancing',
      'twice',
      { id: 'twice', name: 'twice', rules: [rule, rule], createdAt: now, updatedAt: now },
      'create',
    );
    await config.put(
      cloud.seed.tenantId,
      'group',
      'twice',
      {
        id: 'twice',
        name: 'twice',
        loadBalancingPolicyId: 'twice',
        channels: ['sms_modem'],
        selfService: { enabled: false, fields: [] },
        secondaryPhone: false,
        createdAt: now,
        updatedAt: now,
      },
      'create',
    );
    await cloud.dynamo.send(
      new PutItemCommand({
        TableName: TABLE,
        Item: marshall({
          ...userItem(cloud.seed.tenantId, 'carol'),
          tenantId: cloud.seed.tenantId,
          username: 'carol',
          mobile: '+4520777777',
          mobileType: 'mobile',
          secondaryMobile: null,
          email: null,
          groupPolicyId: 'twice',
        }),
      }),
    );
    const id = await login(authWith(recorder), 'carol');
    expect(published).toEqual([]);
    const queued = await queuedFor(id);
    expect(queued).toEqual([
      expect.objectContaining({ challengeId: id, step: 0, hasNext: true, agentId: agentId() }),
    ]);
  });

  it('sends the step through the queue to the same agent when IoT Core cannot be reached', async () => {
    // IoT Core's real client, pointed at a loopback port nobody listens on
    const unreachable = new IotJobPublisher(
      new IoTDataPlaneClient({
        endpoint: 'http://127.0.0.1:9',
        region: 'us-east-1',
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
        maxAttempts: 1,
      }),
      LOCAL_STAGE,
    );
    const id = await login(authWith(unreachable), 'alice');
    const queued = await queuedFor(id);
    expect(queued).toEqual([expect.objectContaining({ challengeId: id, step: 0, agentId: agentId() })]);
    expect(cloud.logLines.some((l) => l.includes('job not published by the create'))).toBe(true);
  });

  it('publishes the same job from the queue when a publish that landed reported a failure', async () => {
    // the broker took the job, but the reply was lost: the create falls back to the queue
    const landedButFailed: JobPublisher = {
      publishJob: async (tenantId, agent, job) => {
        published.push({ tenantId, agentId: agent, job });
        throw new Error('socket hang up');
      },
    };
    const id = await login(authWith(landedButFailed), 'bob');
    const queued = await queuedFor(id);
    expect(queued).toHaveLength(1);
    const { handler } = buildDispatchHandler({
      dynamo: cloud.dynamo,
      table: TABLE,
      keys: cloud.keys,
      log: cloud.log,
      sqs: cloud.sqs,
      dispatchQueueUrl: cloud.queueUrl,
      publisher: recorder,
    });
    await handler({
      Records: queued.map((m, i) => ({ messageId: String(i), body: JSON.stringify(m), attributes: {} })),
    } as unknown as SQSEvent);
    expect(published).toHaveLength(2);
    const [direct, again] = published;
    // one job id, agent and text: the agent's journal keeps the first and drops the copy
    expect(again).toEqual(direct);
    expect(direct?.job.id).toBe(`${id}.0`);
  });
});
