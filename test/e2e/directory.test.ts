/**
 * The operator, admin and sync APIs over real HTTP on the local stack (one server, routed like API Gateway),
 * and a suspension that stops the tenant's live edge agent at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../functions/adapters/log.ts';
import { LOCAL_STAGE } from '../../functions/contracts/topics.ts';
import { type LocalStack, startLocalStack } from '../../functions/local/stack.ts';

let stack: LocalStack;
beforeAll(async () => {
  stack = await startLocalStack({ log: createLogger({}, { level: 'error' }) });
});
afterAll(async () => stack?.stop());

async function call(method: string, path: string, key: string, body?: unknown) {
  const res = await fetch(`${stack.json.apiUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${key}`,
      ...(body !== undefined && { 'content-type': 'application/json' }),
    },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

async function until(what: string, probe: () => boolean | Promise<boolean>, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const agentConnected = () =>
  Object.keys((stack.broker.aedes as unknown as { clients: Record<string, unknown> }).clients).some((id) =>
    // client id = thing name, `{stage}:{tenant}:{agent}`
    id.startsWith(`${LOCAL_STAGE}:${stack.json.tenantId}:`),
  );

describe('the directory APIs on the local stack', () => {
  it('syncs users over HTTP and shows their effective settings to the admin', async () => {
    const { syncKey, adminKey, operatorKey, tenantId } = stack.json;
    const run = await call('POST', '/v1/sync/runs', syncKey);
    expect(run.status).toBe(201);
    const batch = await call('PUT', `/v1/sync/runs/${run.body.runId}/users`, syncKey, {
      users: [
        {
          id: 'carol-guid',
          username: 'carol',
          domain: 'corp.example.test',
          displayName: 'Carol',
          mobile: '40 12 34 56',
          secondaryMobile: null,
          email: 'carol@corp.example.test',
          groups: ['CN=VPN Users,DC=corp,DC=example,DC=test'],
        },
      ],
    });
    expect(batch.body).toEqual({ accepted: 1, rejected: [] });
    expect((await call('POST', `/v1/sync/runs/${run.body.runId}/complete`, syncKey)).body).toEqual({
      created: 1,
      updated: 0,
      removed: 0,
      rejected: 0,
    });
    const eff = await call('GET', '/v1/users/carol/effective-settings', adminKey);
    expect(eff.body.settings['passcode.length']).toEqual({ value: 6, from: 'tenant' });
    const usage = await call('GET', `/v1/operator/tenants/${tenantId}/usage`, operatorKey);
    expect(usage.body).toMatchObject({ activeUsers: 3, userLimit: 1000 });
    // The challenge API still answers on the same server.
    const challenge = await call('POST', '/v1/challenges', stack.json.authKey, { username: 'carol' });
    expect(challenge.status).toBe(201);
  });

  it("stops a suspended tenant's agent at once, refuses it while suspended, and lets it back on resume", async () => {
    const { operatorKey, tenantId } = stack.json;
    await until('the agent to be connected', agentConnected);
    expect((await call('POST', `/v1/operator/tenants/${tenantId}/suspend`, operatorKey)).status).toBe(200);
    await until('the agent to be disconnected', () => !agentConnected());
    const refusedBefore = stack.broker.stats.refusedConnects;
    await until('a refused reconnect', () => stack.broker.stats.refusedConnects > refusedBefore);
    expect(agentConnected()).toBe(false);
    expect((await call('POST', `/v1/operator/tenants/${tenantId}/resume`, operatorKey)).status).toBe(200);
    await until('the agent to reconnect', agentConnected, 30_000);
  });
});
