/**
 * Re-enrolment of a registered agent whose box was replaced: `POST /v1/agents/{id}/enrolment` gives a new
 * one-time token and revokes the certificate the agent has at once (the old box may be lost); the new box
 * enrols with the token and gets its own certificate. On the local stack's HTTP API.
 */
import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { makeKeyAndCsr } from '../../edge-agent/enroll/csr.ts';
import { createLogger } from '../../functions/adapters/log.ts';
import { type LocalStack, startLocalStack } from '../../functions/local/stack.ts';

let stack: LocalStack;
let otherAdmin: string;

beforeAll(async () => {
  stack = await startLocalStack({ edge: false, log: createLogger({}, { level: 'error' }) });
  const created = await call(stack.json.operatorKey, '/v1/operator/tenants', {
    method: 'POST',
    body: { id: 'initech', name: 'Initech', defaultCountry: 'DK', allowedCountries: ['DK'], userLimit: 10 },
  });
  otherAdmin = (created.body as { adminKey: string }).adminKey;
}, 120_000);
afterAll(async () => stack?.stop());

async function call(key: string | undefined, route: string, init: { method?: string; body?: unknown } = {}) {
  const res = await fetch(`${stack.json.apiUrl}${route}`, {
    method: init.method ?? 'GET',
    headers: { ...(key && { authorization: `Bearer ${key}` }), 'content-type': 'application/json' },
    ...(init.body !== undefined && { body: JSON.stringify(init.body) }),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
}
const admin = () => stack.json.adminKey;
const tokenOf = (r: { body: Record<string, unknown> }) => (r.body.enrolment as { token: string }).token;
const enrol = (token: string, agentId: string) =>
  call(undefined, '/v1/enrolments', {
    method: 'POST',
    body: { token, csr: makeKeyAndCsr(`local:demo:${agentId}`).csrPem },
  });
const reenrol = (agentId: string, key = admin()) =>
  call(key, `/v1/agents/${agentId}/enrolment`, { method: 'POST' });
const fingerprint = (r: { body: Record<string, unknown> }) =>
  new X509Certificate((r.body.mqtt as { certificatePem: string }).certificatePem).fingerprint256;
async function actions(agentId: string) {
  const audit = await call(admin(), '/v1/audit?limit=200');
  return (audit.body.entries as Array<{ action: string; target: string }>)
    .filter((e) => e.target === `agent:${agentId}`)
    .map((e) => e.action);
}

it('gives a new token, revokes the old box at once, and lets the new box enrol', async () => {
  const registered = await call(admin(), '/v1/agents', {
    method: 'POST',
    body: { agentId: 'swap-1', modemGroups: ['default'] },
  });
  const first = await enrol(tokenOf(registered), 'swap-1');
  expect(first.status).toBe(201);
  expect((await call(admin(), '/v1/agents/swap-1')).body).toMatchObject({ enrolled: true });

  const again = await reenrol('swap-1');
  expect(again.status, JSON.stringify(again.body)).toBe(201);
  expect(again.headers.get('cache-control')).toBe('no-store');
  expect(tokenOf(again)).toMatch(/^sp\.enrol\.local\.demo\.swap-1\.[A-Za-z0-9_-]{32}$/);
  // the old certificate is no longer the agent's: the broker refuses it from now on
  expect((await call(admin(), '/v1/agents/swap-1')).body).toMatchObject({ enrolled: false });
  expect(await actions('swap-1')).toEqual(
    expect.arrayContaining(['agent.certificate_revoked', 'agent.enrolment_issued']),
  );

  const second = await enrol(tokenOf(again), 'swap-1');
  expect(second.status).toBe(201);
  expect(fingerprint(second)).not.toBe(fingerprint(first));
  expect((await call(admin(), '/v1/agents/swap-1')).body).toMatchObject({
    enrolled: true,
    thingName: 'local:demo:swap-1',
  });
  // the token is single-use, like the first
  expect((await enrol(tokenOf(again), 'swap-1')).status).toBe(410);
});

it('revokes the old certificate once under 100 parallel re-enrolments', async () => {
  const registered = await call(admin(), '/v1/agents', {
    method: 'POST',
    body: { agentId: 'swap-2', modemGroups: ['default'] },
  });
  expect((await enrol(tokenOf(registered), 'swap-2')).status).toBe(201);
  const results = await Promise.all(Array.from({ length: 100 }, () => reenrol('swap-2')));
  expect(results.every((r) => r.status === 201)).toBe(true);
  expect(new Set(results.map(tokenOf)).size).toBe(100);
  expect((await actions('swap-2')).filter((a) => a === 'agent.certificate_revoked')).toHaveLength(1);

  // two boxes enrolling at once: the agent keeps one certificate, and the other is revoked
  const [a, b] = await Promise.all([
    enrol(tokenOf(results[0]!), 'swap-2'),
    enrol(tokenOf(results[1]!), 'swap-2'),
  ]);
  expect([a.status, b.status]).toEqual([201, 201]);
  expect((await actions('swap-2')).filter((x) => x === 'agent.certificate_revoked')).toHaveLength(2);
});

it("is the tenant's own: another tenant's key and an unknown agent get 404", async () => {
  await call(admin(), '/v1/agents', {
    method: 'POST',
    body: { agentId: 'swap-3', modemGroups: ['default'] },
  });
  const foreign = await reenrol('swap-3', otherAdmin);
  expect(foreign.status).toBe(404);
  expect((foreign.body.error as { code: string }).code).toBe('not_found');
  expect((await reenrol('nobody-here')).status).toBe(404);
  expect((await reenrol('../x')).status).toBe(404);
  // an agent never enrolled gets a token too (its first one ran out), and nothing is revoked
  expect((await reenrol('swap-3')).status).toBe(201);
  expect(await actions('swap-3')).not.toContain('agent.certificate_revoked');
});
