/**
 * The self-service password reset on the local stack, with a real MQTT client as the agent (it receives the
 * SMS job on its jobs topic and answers `ad.setPassword` on its RPC topic): the whole flow, enumeration safety,
 * AD's refusal as a plain-language message, single use under hundreds of parallel requests, and a new password
 * that appears nowhere in clear.
 */
import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../functions/adapters/log.ts';
import {
  jobsTopic,
  LOCAL_STAGE,
  type RpcRequest,
  rpcFail,
  rpcOk,
  type Sealed,
} from '../../functions/contracts/index.ts';
import { localDynamo } from '../../functions/local/aws-local.ts';
import { type LocalStack, startLocalStack, TABLE_NAME } from '../../functions/local/stack.ts';
import { type RpcAgentPeer, startRpcAgent, until } from '../support/rpc-agent.ts';

const PERSONAL = 'Personal2026';
let stack: LocalStack;
let agent: RpcAgentPeer;
let dynamo: ReturnType<typeof localDynamo>;
const logLines: string[] = [];
const wire: string[] = [];
const codes: string[] = [];
const setCalls: string[] = [];

const post = async (path: string, body: unknown) => {
  const res = await fetch(`${stack.json.apiUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  // biome-ignore lint/suspicious/noExplicitAny: replies are asserted field by field in the tests
  return { status: res.status, body: (await res.json()) as Record<string, any> };
};
const start = (username: string, personalPasscode = PERSONAL) =>
  post('/v1/self/password-reset', { tenant: stack.seed.tenantId, username, personalPasscode });

/** AD as the agent sees it: a minimum length of 8. */
function setPassword(r: RpcRequest, peer: RpcAgentPeer) {
  const params = r.params as { username: string; newPassword: Sealed };
  const pw = peer.openField(r, 'newPassword', params.newPassword);
  setCalls.push(params.username);
  if (pw.length < 8)
    return rpcFail(r.id, { code: 'password_policy', reason: 'too_short', message: 'too short' });
  return rpcOk<'ad.setPassword'>(r.id, { changed: true });
}

beforeAll(async () => {
  stack = await startLocalStack({
    edge: false,
    log: createLogger({}, { level: 'debug', write: (line) => logLines.push(line) }),
  });
  dynamo = localDynamo(stack.dynamoEndpoint);
  const tenantKey = marshall({ pk: `TENANT#${stack.seed.tenantId}`, sk: 'TENANT' });
  await dynamo.send(
    new UpdateItemCommand({
      TableName: TABLE_NAME,
      Key: tenantKey,
      UpdateExpression: 'SET #s = :s',
      ExpressionAttributeNames: { '#s': 'security' },
      ExpressionAttributeValues: marshall({ ':s': { limits: { perUser: 1000, perClientIp: 1000 } } }),
    }),
  );
  // alice came from AD
  await dynamo.send(
    new UpdateItemCommand({
      TableName: TABLE_NAME,
      Key: marshall({ pk: `TENANT#${stack.seed.tenantId}`, sk: 'USER#alice' }),
      UpdateExpression: 'SET #d = :d',
      ExpressionAttributeNames: { '#d': 'domain' },
      ExpressionAttributeValues: marshall({ ':d': 'corp.example.test' }),
    }),
  );
  const res = await fetch(`${stack.json.apiUrl}/v1/personal-passcodes/alice`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${stack.json.adminKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      passcode: PERSONAL,
      validFrom: new Date(Date.now() - 60_000).toISOString(),
      validUntil: new Date(Date.now() + 3600_000).toISOString(),
    }),
  });
  expect(res.status).toBe(200);
  agent = await startRpcAgent(stack, {
    agentId: stack.seed.agent.agentId,
    secret: stack.seed.agent.secret,
    adDomains: ['corp.example.test'],
    handler: setPassword,
  });
  const address = { stage: LOCAL_STAGE, tenantId: stack.seed.tenantId, agentId: agent.agentId };
  agent.client.on('message', (topic, payload) => {
    wire.push(payload.toString('utf8'));
    if (topic !== jobsTopic(address)) return;
    const text = (JSON.parse(payload.toString('utf8')) as { text: string }).text;
    const code = /\b(\d{4,10})\b/.exec(text)?.[1];
    if (code) codes.push(code);
  });
  await agent.client.subscribeAsync(jobsTopic(address), { qos: 1 });
  await until('the agent online', async () => {
    const r = await post('/v1/self/password-reset', {
      tenant: stack.seed.tenantId,
      username: 'nobody',
      personalPasscode: 'x',
    });
    return r.status === 201;
  });
}, 60_000);
afterAll(async () => {
  await agent?.close();
  dynamo?.destroy();
  await stack?.stop();
});

async function verified(): Promise<string> {
  const before = codes.length;
  const started = await start('alice');
  expect(started.status).toBe(201);
  const code = await until('the SMS job', () => codes[before]);
  const v = await post(`/v1/self/password-reset/${started.body.resetId}/verify`, { passcode: code });
  expect(v.body).toEqual({ result: 'accept' });
  return started.body.resetId as string;
}

describe('self-service password reset', () => {
  it('resets the password through the agent once the SMS passcode is verified, and only once', async () => {
    const resetId = await verified();
    const NEW = 'N3w-Secret-Pässword!';
    const set = await post(`/v1/self/password-reset/${resetId}/password`, { newPassword: NEW });
    expect(set).toEqual({ status: 200, body: { result: 'changed' } });
    expect(setCalls.at(-1)).toBe('alice');
    const again = await post(`/v1/self/password-reset/${resetId}/password`, { newPassword: NEW });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('reset_state');
    for (const raw of wire) expect(raw).not.toContain(NEW);
    expect(logLines.join('\n')).not.toContain(NEW);
  }, 30_000);

  it("turns AD's refusal into a plain message with a stable code, and lets the user choose again", async () => {
    const resetId = await verified();
    const short = await post(`/v1/self/password-reset/${resetId}/password`, { newPassword: 'short' });
    expect(short.status).toBe(422);
    expect(short.body.error).toMatchObject({ code: 'password_policy', reason: 'too_short' });
    expect(short.body.error.message).toMatch(/too short/);
    const good = await post(`/v1/self/password-reset/${resetId}/password`, { newPassword: 'Long enough 1!' });
    expect(good.body).toEqual({ result: 'changed' });
  }, 30_000);

  it('sets a password once under hundreds of parallel requests', async () => {
    const resetId = await verified();
    const before = setCalls.length;
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        post(`/v1/self/password-reset/${resetId}/password`, { newPassword: `Parallel-${i}-pw` }),
      ),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 409)).toHaveLength(199);
    expect(setCalls.length - before).toBe(1);
  }, 60_000);

  it('answers an unknown name and a wrong personal passcode like a real start, and sends nothing', async () => {
    const before = codes.length;
    const real = await start('alice');
    const wrong = await start('alice', 'NotMyCode99');
    const unknown = await start('nobody-at-all');
    for (const r of [real, wrong, unknown]) {
      expect(r.status).toBe(201);
      expect(Object.keys(r.body).sort()).toEqual(['channel', 'destination', 'expiresAt', 'resetId']);
    }
    await until('the real SMS', () => codes.length > before);
    await new Promise((r) => setTimeout(r, 500));
    expect(codes.length).toBe(before + 1);
    // the decoys' passcodes are never right, the real code of alice included
    const code = codes.at(-1)!;
    for (const r of [wrong, unknown]) {
      const v = await post(`/v1/self/password-reset/${r.body.resetId}/verify`, { passcode: code });
      expect(v.body).toMatchObject({ result: 'reject', reason: 'wrong' });
    }
    // a reset that was never verified sets nothing
    const early = await post(`/v1/self/password-reset/${real.body.resetId}/password`, {
      newPassword: 'Whatever 123',
    });
    expect(early.status).toBe(409);
    const forged = await post(
      `/v1/self/password-reset/${stack.seed.tenantId}.AAAAAAAAAAAAAAAAAAAAAA/verify`,
      {
        passcode: '123456',
      },
    );
    expect(forged.status).toBe(404);
    expect((await post('/v1/self/password-reset', { tenant: stack.seed.tenantId })).status).toBe(400);
  }, 30_000);
});
