/**
 * The dispatch queue refuses a new challenge's first step (a real SQS error from fauxqs: the queue is gone).
 * The client must get a clear 503, and the stored challenge must end `failed` with the reason on its step,
 * never wait as `pending` for an SMS that nothing will send.
 */
import { CreateQueueCommand, DeleteQueueCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoMessageLogStore } from '../../functions/adapters/dynamo/message-log-store.ts';
import { buildAuthApp } from '../../functions/deps.ts';
import { type CloudFixture, jsonRequest, startCloud, TABLE } from '../support/cloud.ts';

let cloud: CloudFixture;
let app: ReturnType<typeof buildAuthApp>;

beforeAll(async () => {
  cloud = await startCloud();
  const gone = await cloud.sqs.send(new CreateQueueCommand({ QueueName: 'dispatch-gone' }));
  await cloud.sqs.send(new DeleteQueueCommand({ QueueUrl: gone.QueueUrl! }));
  app = buildAuthApp({
    dynamo: cloud.dynamo,
    table: TABLE,
    keys: cloud.keys,
    log: cloud.log,
    sqs: cloud.sqs,
    dispatchQueueUrl: gone.QueueUrl!,
  });
});
afterAll(() => cloud?.close());

describe('a challenge whose first step cannot be queued', () => {
  it('answers 503 delivery_unavailable and ends the challenge failed with a reason', async () => {
    const res = await app.request(
      '/v1/challenges',
      jsonRequest({ username: 'alice', client: { ip: '203.0.113.9' } }, cloud.seed.keys.auth),
    );
    expect(res.status).toBe(503);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('delivery_unavailable');

    const log = new DynamoMessageLogStore(cloud.dynamo, TABLE);
    const { challenges } = await log.list(cloud.seed.tenantId, {
      since: new Date(Date.now() - 3600_000).toISOString(),
      limit: 10,
    });
    expect(challenges).toHaveLength(1);
    const challenge = challenges[0]!;
    expect(challenge.status).toBe('failed');
    expect(challenge.deliveries).toEqual([
      expect.objectContaining({ step: 0, status: 'failed', reason: 'queue_unavailable' }),
    ]);

    // What the client would see if it asked anyway: failed, not pending.
    const view = await cloud.app.request(`/v1/challenges/${challenge.id}`, {
      headers: { authorization: `Bearer ${cloud.seed.keys.auth}` },
    });
    expect(((await view.json()) as { status: string }).status).toBe('failed');
  });

  it('still sends the first step when the queue works', async () => {
    const res = await cloud.app.request(
      '/v1/challenges',
      jsonRequest({ username: 'bob', client: { ip: '203.0.113.10' } }, cloud.seed.keys.auth),
    );
    expect(res.status).toBe(201);
    expect(await cloud.drainQueue()).toHaveLength(1);
  });
});
