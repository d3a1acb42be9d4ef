/**
 * A TOTP rule on the local stack: the chain reaches the user's authenticator app (nothing is sent), and verify
 * then checks the app's code, here the RFC 6238 appendix B vectors (SHA-1, 8 digits) at their own times.
 */
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { userItem } from '../../functions/adapters/dynamo/keys.ts';
import { DynamoTokenStore } from '../../functions/adapters/dynamo/token-store.ts';
import { createLogger } from '../../functions/adapters/log.ts';
import { tokenCipherContext } from '../../functions/core/channels/totp.ts';
import { localDynamo } from '../../functions/local/aws-local.ts';
import { type LocalStack, startLocalStack, TABLE_NAME } from '../../functions/local/stack.ts';

let stack: LocalStack;
let nowMs = 59_000;
const clock = { now: () => nowMs };

const call = (path: string, key: string, body?: unknown) =>
  fetch(`${stack.json.apiUrl}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 15_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

beforeAll(async () => {
  stack = await startLocalStack({ edge: false, clock, log: createLogger({}, { level: 'error' }) });
  const tenantId = stack.json.tenantId;
  const lb = (await (
    await call('/v1/load-balancing-policies', stack.json.adminKey, {
      name: 'authenticator app',
      rules: [{ channel: 'totp', target: 'primary', route: null, timeoutSeconds: 30 }],
    })
  ).json()) as { id: string };
  const group = (await (
    await call('/v1/group-policies', stack.json.adminKey, {
      name: 'app users',
      loadBalancingPolicyId: lb.id,
      channels: ['totp'],
      selfService: { enabled: false, fields: [] },
      secondaryPhone: false,
    })
  ).json()) as { id: string };
  const dynamo = localDynamo(stack.dynamoEndpoint);
  await dynamo.send(
    new PutItemCommand({
      TableName: TABLE_NAME,
      Item: marshall({
        ...userItem(tenantId, 'tina'),
        tenantId,
        username: 'tina',
        mobile: '+4520998877',
        mobileType: 'mobile',
        secondaryMobile: null,
        email: null,
        groupPolicyId: group.id,
      }),
    }),
  );
  // The RFC 6238 test secret, enrolled and confirmed, sealed like any enrolment.
  const secret = Buffer.from('12345678901234567890', 'ascii').toString('base64');
  await new DynamoTokenStore(dynamo, TABLE_NAME).create({
    tenantId,
    tokenId: 'app.rfc6238',
    kind: 'totp',
    source: 'app',
    state: 'active',
    username: 'tina',
    algorithm: 'sha1',
    digits: 8,
    period: 30,
    counter: 0,
    lastStep: -1,
    sealedSecret: await stack.cipher.encrypt(secret, tokenCipherContext(tenantId, 'app.rfc6238')),
    createdAt: new Date(nowMs).toISOString(),
  });
  dynamo.destroy();
}, 60_000);
afterAll(async () => stack?.stop());

async function challengeAt(seconds: number) {
  nowMs = seconds * 1000;
  const res = await call('/v1/challenges', stack.json.authKey, { username: 'tina' });
  expect(res.status).toBe(201);
  const { challengeId } = (await res.json()) as { challengeId: string };
  // The TOTP rule sends nothing; it marks the step reached once the user is known to have an app.
  const view = await until('the TOTP step', async () => {
    const v = (await (await call(`/v1/challenges/${challengeId}`, stack.json.authKey)).json()) as {
      status: string;
      deliveries: unknown[];
    };
    return v.status === 'sent' ? v : undefined;
  });
  expect(view.deliveries).toEqual([{ step: 0, channel: 'totp', status: 'sent', at: expect.any(String) }]);
  return challengeId;
}

const verify = async (id: string, passcode: string) =>
  (await (await call(`/v1/challenges/${id}/verify`, stack.json.authKey, { passcode })).json()) as {
    result: string;
    reason?: string;
  };

describe('a TOTP rule', () => {
  it.each([
    [59, '94287082'],
    [1111111109, '07081804'],
    [1111111111, '14050471'],
    [1234567890, '89005924'],
    [2000000000, '69279037'],
  ])('accepts the RFC 6238 code at T=%i', async (seconds, code) => {
    const id = await challengeAt(seconds);
    expect(await verify(id, code)).toEqual({ result: 'accept' });
  });

  it('refuses a code of a time step already used, and a wrong one', async () => {
    const id = await challengeAt(2000000000);
    expect(await verify(id, '69279037')).toMatchObject({ result: 'reject', reason: 'wrong' });
    expect(await verify(id, '12345678')).toMatchObject({ result: 'reject', reason: 'wrong' });
  });
});
