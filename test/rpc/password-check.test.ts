/**
 * The cloud side of the agent RPC, on the local stack with a real MQTT client playing the agent (the peer):
 * `POST /v1/password-checks` end to end, which replies are taken (only the agent asked, once, before the
 * expiry), enumeration safety, and the shared lockout under hundreds of parallel requests.
 */
import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoRpcAgentDirectory, DynamoRpcStore } from '../../functions/adapters/dynamo/rpc-store.ts';
import { createLogger } from '../../functions/adapters/log.ts';
import { type RpcReply, rpcFail, rpcOk } from '../../functions/contracts/rpc.ts';
import type { Sealed } from '../../functions/contracts/sealed.ts';
import { RpcService } from '../../functions/core/rpc.ts';
import { localDynamo } from '../../functions/local/aws-local.ts';
import { registerAgent } from '../../functions/local/seed.ts';
import { type LocalStack, startLocalStack, TABLE_NAME } from '../../functions/local/stack.ts';
import { type RpcAgentPeer, startRpcAgent, until } from '../support/rpc-agent.ts';

const PASSWORD = 'Correct horse 1!';
let stack: LocalStack;
let agent: RpcAgentPeer;
const logLines: string[] = [];
let dynamo: ReturnType<typeof localDynamo>;

async function setSecurity(security: Record<string, unknown>) {
  await dynamo.send(
    new UpdateItemCommand({
      TableName: TABLE_NAME,
      Key: marshall({ pk: `TENANT#${stack.seed.tenantId}`, sk: 'TENANT' }),
      UpdateExpression: 'SET #s = :s',
      ExpressionAttributeNames: { '#s': 'security' },
      ExpressionAttributeValues: marshall({ ':s': security }),
    }),
  );
}

const check = (body: unknown, key = stack.json.authKey) =>
  fetch(`${stack.json.apiUrl}/v1/password-checks`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

/** The agent's honest answer: a bind with the sealed password. */
const honest = (r: Parameters<RpcAgentPeer['handler']>[0], peer: RpcAgentPeer): RpcReply => {
  const params = r.params as { username: string; password: Sealed };
  const pw = peer.openField(r, 'password', params.password);
  if (params.username !== 'alice') return rpcFail(r.id, { code: 'user_not_found', message: 'no such user' });
  return rpcOk<'ad.checkPassword'>(r.id, { valid: pw === PASSWORD });
};

beforeAll(async () => {
  stack = await startLocalStack({
    edge: false,
    log: createLogger({}, { level: 'debug', write: (line) => logLines.push(line) }),
  });
  dynamo = localDynamo(stack.dynamoEndpoint);
  await setSecurity({ limits: { perUser: 1000, perClientIp: 1000 } });
  agent = await startRpcAgent(stack, {
    agentId: stack.seed.agent.agentId,
    secret: stack.seed.agent.secret,
    adDomains: ['corp.example.test'],
    handler: honest,
  });
  const directory = new DynamoRpcAgentDirectory(dynamo, TABLE_NAME);
  await until('the agent online with its AD domain', async () => {
    const a = (await directory.list(stack.seed.tenantId)).find((x) => x.agentId === agent.agentId);
    return a?.state === 'online' && a.adDomains.includes('corp.example.test');
  });
}, 60_000);
afterAll(async () => {
  await agent?.close();
  dynamo?.destroy();
  await stack?.stop();
});
beforeEach(() => {
  agent.handler = honest;
});

describe('POST /v1/password-checks', () => {
  it('answers valid and invalid from the agent, the password sealed on the wire and absent from logs', async () => {
    const seen: string[] = [];
    const tap = (_t: string, payload: Buffer) => seen.push(payload.toString('utf8'));
    agent.client.on('message', tap);
    const ok = await check({
      username: 'alice',
      password: PASSWORD,
      client: { ip: '203.0.113.7', name: 'vpn-gw-1' },
    });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ result: 'valid' });
    const bad = await check({ username: 'alice', password: 'wrong one' });
    expect(bad.status).toBe(200);
    expect(await bad.json()).toEqual({ result: 'invalid', attemptsLeft: 9 });
    agent.client.off('message', tap);
    expect(seen.length).toBeGreaterThanOrEqual(2);
    for (const raw of seen) expect(raw).not.toContain(PASSWORD);
    expect(logLines.join('\n')).not.toContain(PASSWORD);
    // the good password cleared the count again
    const good = await check({ username: 'alice', password: PASSWORD });
    expect(await good.json()).toEqual({ result: 'valid' });
  });

  it('answers an unknown name in the same shape, after asking the agent all the same', async () => {
    const before = agent.requests.length;
    const res = await check({ username: 'nobody-here', password: PASSWORD });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ result: 'invalid', attemptsLeft: 9 });
    expect(agent.requests.length).toBe(before + 1);
  });

  it('never calls an unknown name valid, even when the directory says so', async () => {
    agent.handler = (r) => rpcOk<'ad.checkPassword'>(r.id, { valid: true });
    const res = await check({ username: 'ghost', password: 'anything' });
    expect(await res.json()).toMatchObject({ result: 'invalid' });
  });

  it('refuses bad input with 400 invalid_request and no RPC', async () => {
    const before = agent.requests.length;
    for (const body of [
      { username: 'alice' },
      { username: '', password: 'x' },
      { username: 'a', password: 'x', extra: 1 },
    ]) {
      const res = await check(body);
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: { code: 'invalid_request' } });
    }
    expect(agent.requests.length).toBe(before);
    expect((await check({ username: 'alice', password: 'x' }, 'sp_auth_bogus')).status).toBe(401);
  });

  it('is 503 directory_unavailable when the agent does not answer before the deadline', async () => {
    agent.handler = () => undefined;
    const res = await check({ username: 'alice', password: PASSWORD });
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ error: { code: 'directory_unavailable' } });
    expect(res.headers.get('retry-after')).toBeTruthy();
  }, 20_000);

  it('counts wrong passwords in the same lockout as wrong passcodes, however many race', async () => {
    await setSecurity({
      limits: { perUser: 1000, perClientIp: 1000 },
      lockout: { maxFailures: 5, lockSeconds: 600 },
    });
    const results = await Promise.all(
      Array.from({ length: 200 }, () =>
        check({ username: 'bob', password: 'guess' }).then(async (r) => ({
          status: r.status,
          body: await r.json(),
        })),
      ),
    );
    const invalid = results.filter((r) => r.status === 200);
    const locked = results.filter((r) => r.status === 423);
    expect(invalid.length).toBeLessThanOrEqual(4);
    expect(invalid.length + locked.length).toBe(200);
    for (const r of locked) expect(r.body).toMatchObject({ error: { code: 'user_locked' } });
    // the lock is the user's one lock: the admin API shows it
    const state = await fetch(`${stack.json.apiUrl}/v1/lockouts/bob`, {
      headers: { authorization: `Bearer ${stack.json.adminKey}` },
    });
    expect(await state.json()).toMatchObject({ locked: true });
    // and a locked user gets 423 before any password is sent to the directory
    const before = agent.requests.length;
    expect((await check({ username: 'bob', password: 'guess' })).status).toBe(423);
    expect(agent.requests.length).toBe(before);
    await setSecurity({ limits: { perUser: 1000, perClientIp: 1000 } });
  }, 60_000);

  it('is rate limited per user with Retry-After', async () => {
    await setSecurity({ limits: { perUser: 2, perClientIp: 1000 } });
    const statuses: number[] = [];
    let retry: string | null = null;
    for (let i = 0; i < 4; i++) {
      const res = await check({ username: 'carol', password: 'x' });
      statuses.push(res.status);
      if (res.status === 429) retry = res.headers.get('retry-after');
    }
    expect(statuses).toEqual([200, 200, 429, 429]);
    expect(Number(retry)).toBeGreaterThan(0);
    await setSecurity({ limits: { perUser: 1000, perClientIp: 1000 } });
  });
});

describe('RPC replies', () => {
  const store = () => new DynamoRpcStore(dynamo, TABLE_NAME);
  const service = () =>
    new RpcService({
      store: store(),
      agents: new DynamoRpcAgentDirectory(dynamo, TABLE_NAME),
      publisher: { publishRequest: async () => {} },
      clock: { now: () => Date.now() },
      log: createLogger({}, { level: 'error' }),
    });

  it('takes exactly one of hundreds of concurrent replies, and only from the agent asked', async () => {
    const tenantId = stack.seed.tenantId;
    const at = new Date();
    await store().create({
      tenantId,
      id: 'rpc_concurrent_1',
      agentId: 'edge-1',
      method: 'ad.sync',
      createdAt: at.toISOString(),
      expiresAt: new Date(at.getTime() + 30_000).toISOString(),
    });
    const rpc = service();
    expect(
      await rpc.answer(tenantId, 'edge-2', rpcOk<'ad.sync'>('rpc_concurrent_1', { started: false })),
    ).toBe(false);
    expect(
      await rpc.answer('other', 'edge-1', rpcOk<'ad.sync'>('rpc_concurrent_1', { started: false })),
    ).toBe(false);
    const taken = await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        rpc.answer(tenantId, 'edge-1', rpcOk<'ad.sync'>('rpc_concurrent_1', { started: i % 2 === 0 })),
      ),
    );
    expect(taken.filter(Boolean)).toHaveLength(1);
    const winner = taken.indexOf(true);
    const stored = await store().get(tenantId, 'rpc_concurrent_1');
    expect(stored?.reply).toEqual(rpcOk('rpc_concurrent_1', { started: winner % 2 === 0 }));
  });

  it('ignores a reply after the expiry', async () => {
    const tenantId = stack.seed.tenantId;
    const at = Date.now();
    await store().create({
      tenantId,
      id: 'rpc_late_reply_1',
      agentId: 'edge-1',
      method: 'ad.sync',
      createdAt: new Date(at - 10_000).toISOString(),
      expiresAt: new Date(at - 1).toISOString(),
    });
    expect(
      await service().answer(tenantId, 'edge-1', rpcOk<'ad.sync'>('rpc_late_reply_1', { started: true })),
    ).toBe(false);
    expect((await store().get(tenantId, 'rpc_late_reply_1'))?.reply).toBeUndefined();
  });

  it('over MQTT: a flood of duplicate and forged replies changes nothing after the first', async () => {
    // a second agent of the same tenant answers the first agent's requests on its own topic
    await registerAgent(dynamo, TABLE_NAME, stack.seed.tenantId, {
      agentId: 'edge-2',
      secret: 'edge-2-secret-000000',
      modemGroups: [],
    });
    const forger = await startRpcAgent(stack, {
      agentId: 'edge-2',
      secret: 'edge-2-secret-000000',
      adDomains: [],
    });
    const base = stack.pollers.events.invocations;
    try {
      agent.handler = async (r) => {
        await forger.reply(rpcOk<'ad.checkPassword'>(r.id, { valid: true }));
        await new Promise((done) => setTimeout(done, 150));
        // the first honest answer, then 200 copies that say otherwise
        return [
          rpcOk<'ad.checkPassword'>(r.id, { valid: false }),
          ...Array.from({ length: 200 }, () => rpcOk<'ad.checkPassword'>(r.id, { valid: true })),
        ];
      };
      const res = await check({ username: 'alice', password: PASSWORD });
      expect(await res.json()).toMatchObject({ result: 'invalid' });
      const id = agent.requests.at(-1)!.id;
      await until('every reply processed', () => stack.pollers.events.invocations >= base + 202);
      expect((await store().get(stack.seed.tenantId, id))?.reply).toEqual(rpcOk(id, { valid: false }));
    } finally {
      await forger.close();
      agent.handler = honest;
      await check({ username: 'alice', password: PASSWORD });
    }
  }, 30_000);
});

describe('POST /v1/agents/{id}/sync', () => {
  const syncNow = (agentId: string, body?: unknown, key = stack.json.adminKey) =>
    fetch(`${stack.json.apiUrl}/v1/agents/${agentId}/sync`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${key}`,
        ...(body !== undefined && { 'content-type': 'application/json' }),
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });

  it('sends ad.sync to the agent and returns its reply', async () => {
    agent.handler = (r) => {
      expect(r.method).toBe('ad.sync');
      return rpcOk<'ad.sync'>(r.id, { started: (r.params as { mode: string }).mode === 'full' });
    };
    const full = await syncNow(agent.agentId, { mode: 'full' });
    expect(full.status).toBe(200);
    expect(await full.json()).toEqual({ agentId: agent.agentId, started: true });
    const delta = await syncNow(agent.agentId);
    expect(await delta.json()).toEqual({ agentId: agent.agentId, started: false });
  });

  it('is tenant-scoped, and needs an admin key', async () => {
    const other = await fetch(`${stack.json.apiUrl}/v1/operator/tenants`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.json.operatorKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        id: 'globex',
        name: 'Globex',
        defaultCountry: 'DK',
        allowedCountries: ['DK'],
        userLimit: 10,
      }),
    });
    const { adminKey } = (await other.json()) as { adminKey: string };
    const before = agent.requests.length;
    const res = await syncNow(agent.agentId, undefined, adminKey);
    expect(res.status).toBe(404);
    expect((await syncNow(agent.agentId, undefined, stack.json.syncKey)).status).toBe(403);
    expect(agent.requests.length).toBe(before);
  });

  it("passes the agent's refusal on as 503 with its code", async () => {
    agent.handler = (r) => rpcFail(r.id, { code: 'not_configured', message: 'no ad section' });
    const res = await syncNow(agent.agentId);
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain('not_configured');
    expect((await syncNow('no-such-agent')).status).toBe(404);
  });
});
