/**
 * The AWS SDK retries a write whose reply was lost (a reset connection, a timeout). The retry of an accept
 * then fails its condition, because the first attempt did land: the user must still be accepted, and a
 * retried wrong attempt must not be counted twice.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DispatchMessage } from '../../functions/contracts/queue.ts';
import { openDispatchPayload } from '../../functions/core/dispatch.ts';
import { buildAuthApp } from '../../functions/deps.ts';
import { localDynamo } from '../../functions/local/aws-local.ts';
import { type CloudFixture, jsonRequest, startCloud, TABLE } from '../support/cloud.ts';

let cloud: CloudFixture;
beforeAll(async () => {
  cloud = await startCloud();
});
afterAll(async () => cloud?.close());

/** A client whose first write matching `marker` lands in the table but whose reply is "lost". */
function clientLosingOneReply(marker: string) {
  const client = localDynamo(cloud.dynamoEndpoint);
  let lost = 0;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      if (
        lost === 0 &&
        context.commandName === 'UpdateItemCommand' &&
        JSON.stringify(args.input).includes(marker)
      ) {
        lost++;
        throw Object.assign(new Error('socket hang up'), {
          name: 'Error',
          code: 'ECONNRESET',
          $metadata: {},
        });
      }
      return result;
    },
    { step: 'deserialize', name: 'loseOneReply' },
  );
  return { client, lost: () => lost };
}

async function newChallenge(): Promise<{ id: string; code: string }> {
  await cloud.drainQueue();
  const res = await cloud.app.request(
    '/v1/challenges',
    jsonRequest({ username: 'alice' }, cloud.seed.keys.auth),
  );
  const { challengeId } = (await res.json()) as { challengeId: string };
  const [body] = await cloud.drainQueue();
  const message = DispatchMessage.parse(JSON.parse(body!));
  const { text } = openDispatchPayload(cloud.keys, message);
  return { id: challengeId, code: /code is (\d+)/.exec(text)![1]! };
}

function appWith(client: ReturnType<typeof localDynamo>) {
  return buildAuthApp({
    dynamo: client,
    table: TABLE,
    keys: cloud.keys,
    log: cloud.log,
    sqs: cloud.sqs,
    dispatchQueueUrl: cloud.queueUrl,
  });
}

describe('verify under SDK retries', () => {
  it('accepts the right code even when the reply to the accepting write was lost and retried', async () => {
    const { id, code } = await newChallenge();
    const flaky = clientLosingOneReply('acceptNonce');
    const res = await appWith(flaky.client).request(
      `/v1/challenges/${id}/verify`,
      jsonRequest({ passcode: code }, cloud.seed.keys.auth),
    );
    expect(flaky.lost()).toBe(1);
    expect(await res.json()).toEqual({ result: 'accept' });
    // …and it is still single use for everybody else.
    const again = await cloud.app.request(
      `/v1/challenges/${id}/verify`,
      jsonRequest({ passcode: code }, cloud.seed.keys.auth),
    );
    expect(await again.json()).toEqual({ result: 'reject', reason: 'used', attemptsLeft: 0 });
    flaky.client.destroy();
  });

  it('counts a wrong attempt once even when its write was retried', async () => {
    const { id, code } = await newChallenge();
    const wrong = code === '000000' ? '111111' : '000000';
    const flaky = clientLosingOneReply('attemptNonce');
    const res = await appWith(flaky.client).request(
      `/v1/challenges/${id}/verify`,
      jsonRequest({ passcode: wrong }, cloud.seed.keys.auth),
    );
    expect(flaky.lost()).toBe(1);
    expect(await res.json()).toEqual({ result: 'reject', reason: 'wrong', attemptsLeft: 2 });
    expect((await cloud.stores.challenges.get('acme', id, true))?.attempts).toBe(1);
    flaky.client.destroy();
  });
});
