/**
 * The agents API and enrolment on the local stack's HTTP API: registration, one-time tokens that exactly one
 * of hundreds of racing enrolments gets, expiry, certificate requests that are refused with a stable code,
 * rename, show with modem history, delete, the audit trail, and tenant isolation.
 */
import { generateKeyPairSync, type KeyObject, sign, X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeKeyAndCsr } from '../../edge-agent/enroll/csr.ts';
import { createLogger } from '../../functions/adapters/log.ts';
import {
  bitString,
  commonNameOnly,
  OID,
  oid,
  sequence,
  tlv,
  toPem,
  unsignedInteger,
} from '../../functions/contracts/der.ts';
import type { Clock } from '../../functions/core/clock.ts';
import { stores } from '../../functions/deps.ts';
import { localDynamo } from '../../functions/local/aws-local.ts';
import { type LocalStack, startLocalStack, TABLE_NAME } from '../../functions/local/stack.ts';

let stack: LocalStack;
let offsetMs = 0;
const clock: Clock = { now: () => Date.now() + offsetMs };
let other: { tenantId: string; adminKey: string };

beforeAll(async () => {
  stack = await startLocalStack({ edge: false, clock, log: createLogger({}, { level: 'error' }) });
  const created = await call(stack.json.operatorKey, '/v1/operator/tenants', {
    method: 'POST',
    body: { id: 'globex', name: 'Globex', defaultCountry: 'DK', allowedCountries: ['DK'], userLimit: 10 },
  });
  const body = created.body as { adminKey: string };
  other = { tenantId: 'globex', adminKey: body.adminKey };
});
afterAll(async () => stack?.stop());

async function call(key: string | undefined, route: string, init: { method?: string; body?: unknown } = {}) {
  const res = await fetch(`${stack.json.apiUrl}${route}`, {
    method: init.method ?? 'GET',
    headers: {
      ...(key && { authorization: `Bearer ${key}` }),
      'content-type': 'application/json',
    },
    ...(init.body !== undefined && { body: JSON.stringify(init.body) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const admin = () => stack.json.adminKey;
const errorCode = (r: { body: Record<string, unknown> }) =>
  (r.body.error as { code: string } | undefined)?.code;

async function register(agentId: string, key = admin(), modemGroups = ['default']) {
  const r = await call(key, '/v1/agents', { method: 'POST', body: { agentId, modemGroups } });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return (r.body.enrolment as { token: string; expiresAt: string }).token;
}

const enrol = (token: string, csr: string) =>
  call(undefined, '/v1/enrolments', { method: 'POST', body: { token, csr } });

/** A request signed by any key, as a misconfigured or hostile box might send. */
function csrWith(
  commonName: string,
  key: { privateKey: KeyObject; publicKey: KeyObject },
  algorithm: string,
) {
  const info = sequence(
    unsignedInteger(0),
    commonNameOnly(commonName),
    key.publicKey.export({ type: 'spki', format: 'der' }),
    tlv(0xa0),
  );
  const ed = algorithm === '1.3.101.112';
  const signature = sign(ed ? null : 'sha256', info, key.privateKey);
  return toPem('CERTIFICATE REQUEST', sequence(info, sequence(oid(algorithm)), bitString(signature)));
}

describe('registering and enrolling agents', () => {
  it('registers an agent once, with a one-time token that expires within the hour', async () => {
    const r = await call(admin(), '/v1/agents', {
      method: 'POST',
      body: { agentId: 'branch-1', displayName: 'Branch 1', modemGroups: ['default', 'default'] },
    });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({
      agentId: 'branch-1',
      displayName: 'Branch 1',
      thingName: 'local:demo:branch-1',
      modemGroups: ['default'],
      enrolled: false,
      enrolment: { token: expect.stringMatching(/^sp\.enrol\.local\.demo\.branch-1\.[A-Za-z0-9_-]{32}$/) },
    });
    const expiresIn = Date.parse((r.body.enrolment as { expiresAt: string }).expiresAt) - clock.now();
    expect(expiresIn).toBeGreaterThan(0);
    expect(expiresIn).toBeLessThanOrEqual(3600_000);

    const again = await call(admin(), '/v1/agents', {
      method: 'POST',
      body: { agentId: 'branch-1', modemGroups: ['default'] },
    });
    expect({ status: again.status, code: errorCode(again) }).toEqual({ status: 409, code: 'already_exists' });
    for (const body of [
      { agentId: 'a.b', modemGroups: ['default'] },
      { agentId: 'a:b', modemGroups: ['default'] },
      { agentId: 'ok', modemGroups: [] },
      { agentId: 'ok', modemGroups: ['default'], secretHash: 'x' },
    ]) {
      const bad = await call(admin(), '/v1/agents', { method: 'POST', body });
      expect({ status: bad.status, code: errorCode(bad) }).toEqual({ status: 400, code: 'invalid_request' });
    }
  });

  it('gives a token to exactly one of 300 parallel enrolments', async () => {
    const token = await register('race-1');
    const { csrPem } = makeKeyAndCsr('local:demo:race-1');
    const results = await Promise.all(Array.from({ length: 300 }, () => enrol(token, csrPem)));
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(new Set(results.filter((r) => r.status !== 201).map(errorCode))).toEqual(new Set(['token_used']));
    expect(statuses.filter((s) => s !== 201).every((s) => s === 410)).toBe(true);

    const winner = results.find((r) => r.status === 201)!.body as {
      thingName: string;
      mqtt: { url: string; certificatePem: string; caPem: string };
      modemGroups: string[];
    };
    expect(winner).toMatchObject({
      tenantId: 'demo',
      agentId: 'race-1',
      thingName: 'local:demo:race-1',
      stage: 'local',
      topicPrefix: 's/local/t/demo/a/race-1/',
    });
    expect(winner.mqtt.url).toBe(stack.broker.tlsUrl);
    const cert = new X509Certificate(winner.mqtt.certificatePem);
    expect(cert.subject).toBe('CN=local:demo:race-1');
    expect(cert.verify(new X509Certificate(winner.mqtt.caPem).publicKey)).toBe(true);
    const shown = await call(admin(), '/v1/agents/race-1');
    expect(shown.body).toMatchObject({ enrolled: true, thingName: 'local:demo:race-1' });
  });

  it('refuses an expired token (401) and an unknown or forged one (401)', async () => {
    const token = await register('late-1');
    const { csrPem } = makeKeyAndCsr('local:demo:late-1');
    offsetMs = 3601_000;
    try {
      const late = await enrol(token, csrPem);
      expect({ status: late.status, code: errorCode(late) }).toEqual({ status: 401, code: 'token_expired' });
    } finally {
      offsetMs = 0;
    }
    const forged = `${token.slice(0, -4)}AAAA`;
    expect(errorCode(await enrol(forged, csrPem))).toBe('unauthorized');
    expect((await enrol('sp.enrol.demo.late-1', csrPem)).status).toBe(401);
    // another stage's token, even with this stage's secret, is not this deployment's
    expect((await enrol(token.replace('sp.enrol.local.', 'sp.enrol.prod.'), csrPem)).status).toBe(401);
    // a token names its agent: another agent's name in it does not match the stored token
    const moved = token.replace('.late-1.', '.race-1.');
    expect((await enrol(moved, makeKeyAndCsr('local:demo:race-1').csrPem)).status).toBe(401);
  });

  it('refuses bad certificate requests with invalid_csr (400) and keeps the token for a good one', async () => {
    const token = await register('csr-1');
    const cases: Array<[string, string]> = [
      ['not PEM', 'hello'],
      ['not DER', toPem('CERTIFICATE REQUEST', Buffer.from('not der at all'))],
      ['a URL', stack.json.apiUrl],
      ['Ed25519 key', csrWith('local:demo:csr-1', generateKeyPairSync('ed25519'), '1.3.101.112')],
      [
        'RSA 1024',
        csrWith('local:demo:csr-1', generateKeyPairSync('rsa', { modulusLength: 1024 }), OID.sha256WithRsa),
      ],
      ['another thing name', makeKeyAndCsr('local:demo:csr-2').csrPem],
      ['the dotted name', makeKeyAndCsr('demo.csr-1').csrPem],
    ];
    const good = makeKeyAndCsr('local:demo:csr-1').csrPem;
    // A signature that does not match the key: the agent would not hold the key it asks a certificate for.
    const tampered = Buffer.from(good.split('\n').slice(1, -2).join(''), 'base64');
    tampered[tampered.length - 3]! ^= 0xff;
    cases.push(['a broken signature', toPem('CERTIFICATE REQUEST', tampered)]);
    for (const [what, csr] of cases) {
      const r = await enrol(token, csr);
      expect({ what, status: r.status, code: errorCode(r) }).toEqual({
        what,
        status: 400,
        code: 'invalid_csr',
      });
    }
    expect((await enrol(token, good)).status).toBe(201);
  });

  it('accepts an RSA 2048 request as IoT Core does', async () => {
    const token = await register('rsa-1');
    const csr = csrWith(
      'local:demo:rsa-1',
      generateKeyPairSync('rsa', { modulusLength: 2048 }),
      OID.sha256WithRsa,
    );
    expect((await enrol(token, csr)).status).toBe(201);
  });
});

describe('managing agents', () => {
  it('lists, shows with modem history, renames and deletes, auditing every step', async () => {
    await register('mgmt-1');
    const listed = await call(admin(), '/v1/agents');
    expect((listed.body.agents as Array<{ agentId: string }>).map((a) => a.agentId)).toContain('mgmt-1');

    // A modem report as the events function records it, then the agent as an admin sees it.
    const at = new Date().toISOString();
    await stores({
      dynamo: localDynamo(stack.dynamoEndpoint),
      table: TABLE_NAME,
    }).directory.recordModemStatus('demo', 'mgmt-1', {
      modem: 'usb-1',
      group: 'default',
      healthy: true,
      signal: 21,
      registration: 'home',
      queue: 0,
      retries: 0,
      errors: 0,
      lastError: null,
      at,
    });
    const shown = await call(admin(), '/v1/agents/mgmt-1');
    expect(shown.body).toMatchObject({
      agentId: 'mgmt-1',
      modems: [{ modem: 'usb-1', healthy: true, history: [{ signal: 21, registration: 'home', at }] }],
    });

    const renamed = await call(admin(), '/v1/agents/mgmt-1', {
      method: 'PATCH',
      body: { displayName: 'Head office' },
    });
    expect(renamed.body).toMatchObject({
      agentId: 'mgmt-1',
      thingName: 'local:demo:mgmt-1',
      displayName: 'Head office',
    });
    const noop = await call(admin(), '/v1/agents/mgmt-1', { method: 'PATCH', body: { agentId: 'x' } });
    expect(noop.status).toBe(400);

    expect((await call(admin(), '/v1/agents/mgmt-1', { method: 'DELETE' })).status).toBe(200);
    const gone = await call(admin(), '/v1/agents/mgmt-1');
    expect({ status: gone.status, code: errorCode(gone) }).toEqual({ status: 404, code: 'not_found' });
    expect((await call(admin(), '/v1/agents/mgmt-1', { method: 'DELETE' })).status).toBe(404);
    expect(
      (await call(admin(), '/v1/agents/mgmt-1', { method: 'PATCH', body: { displayName: 'x' } })).status,
    ).toBe(404);

    const audit = await call(admin(), '/v1/audit?limit=100');
    const actions = (audit.body.entries as Array<{ action: string; target: string }>)
      .filter((e) => e.target === 'agent:mgmt-1')
      .map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['agent.registered', 'agent.updated', 'agent.deleted']));
    expect(JSON.stringify(audit.body)).not.toContain('sp.enrol.');
  });

  it('keeps each tenant’s agents its own', async () => {
    const token = await register('iso-1');
    const b = other.adminKey;
    expect((await call(b, '/v1/agents/iso-1')).status).toBe(404);
    expect((await call(b, '/v1/agents/iso-1', { method: 'DELETE' })).status).toBe(404);
    expect(
      (await call(b, '/v1/agents/iso-1', { method: 'PATCH', body: { displayName: 'mine' } })).status,
    ).toBe(404);
    expect((await call(b, '/v1/agents')).body.agents).toEqual([]);
    // B's token of the same agent id is B's agent, and cannot enrol A's.
    const bToken = await register('iso-1', b);
    expect((await enrol(bToken, makeKeyAndCsr('local:demo:iso-1').csrPem)).status).toBe(400);
    const bEnrolled = await enrol(bToken, makeKeyAndCsr('local:globex:iso-1').csrPem);
    expect(bEnrolled.body).toMatchObject({ tenantId: 'globex', thingName: 'local:globex:iso-1' });
    // A's token still works for A's agent only
    expect((await enrol(token, makeKeyAndCsr('local:globex:iso-1').csrPem)).status).toBe(400);
    expect((await call(admin(), '/v1/agents/iso-1')).body).toMatchObject({ enrolled: false });
    // An auth key of A is not an admin key
    expect((await call(stack.json.authKey, '/v1/agents')).status).toBe(403);
  });
});
