/**
 * The self-service JSON API against the real stand-ins: sign-in by a passcode through the user's chain,
 * number changes checked at the old number, personal passcodes, enrolment links, and the attacks on each
 * (other users, other tenants, races of hundreds of requests, bad input).
 */
import type { AddressInfo } from 'node:net';
import type { Hono } from 'hono';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FetchHttpTransport } from '../../functions/adapters/http/fetch-transport.ts';
import { pooledSmtpTransports } from '../../functions/adapters/mail/smtp-transport-factory.ts';
import { DispatchMessage } from '../../functions/contracts/queue.ts';
import { Bulkheads } from '../../functions/core/channels/bulkhead.ts';
import { ProviderChannels } from '../../functions/core/channels/provider-kinds.ts';
import { openDispatchPayload } from '../../functions/core/dispatch.ts';
import { buildAdminApp } from '../../functions/deps.ts';
import { buildEnrolmentLinkRoutes, buildSelfServiceApp } from '../../functions/selfservice-deps.ts';
import { jsonRequest, TABLE } from '../support/cloud.ts';
import { type DirectoryFixture, startDirectory } from '../support/directory.ts';

let d: DirectoryFixture;
let self: Hono;
let admin: Hono;
let smtp: SMTPServer;
const mails: string[] = [];
const transports = pooledSmtpTransports();

interface Queued {
  challengeId: string;
  text: string;
  to: string | null;
  flash: boolean;
}

/**
 * What is on the queue, opened as the dispatcher opens it, one entry per challenge: nothing deletes the
 * messages, so one read before may come back after its visibility timeout, and is dropped here.
 */
const seen = new Set<string>();
async function queued(): Promise<Queued[]> {
  const all = (await d.drainQueue()).map((raw) => {
    const message = DispatchMessage.parse(JSON.parse(raw));
    const opened = openDispatchPayload(d.keys, message);
    return {
      challengeId: message.challengeId,
      text: opened.text,
      to: opened.targets[message.rule.target] ?? null,
      flash: message.flash,
    };
  });
  return all.filter((q) => !seen.has(q.challengeId) && seen.add(q.challengeId));
}
const codeIn = (text: string) => /code is ([A-Za-z0-9]+)\./.exec(text)?.[1] ?? '';

async function call(
  method: string,
  path: string,
  body?: unknown,
  session?: string,
  // biome-ignore lint/suspicious/noExplicitAny: replies are asserted field by field
): Promise<{ status: number; body: any }> {
  const res = await self.request(path, {
    method,
    headers: {
      ...(body !== undefined && { 'content-type': 'application/json' }),
      ...(session && { authorization: `Bearer ${session}` }),
    },
    ...(body !== undefined && { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

async function adminCall(method: string, path: string, body?: unknown, key = d.seed.keys.admin) {
  return d.call(admin, method, path, key, body);
}

/** Signs a user in through the API, reading the code off the queue as their phone would. */
async function signIn(username: string, tenant = 'acme'): Promise<string> {
  await queued();
  const started = await call('POST', '/v1/self/sign-in', { tenant, username });
  expect(started.status, JSON.stringify(started.body)).toBe(201);
  const sms = (await queued()).find((q) => q.challengeId === started.body.signInId);
  expect(sms, `a code for ${username}`).toBeDefined();
  const done = await call('POST', `/v1/self/sign-in/${started.body.signInId}/verify`, {
    tenant,
    passcode: codeIn(sms!.text),
  });
  expect(done.body.result).toBe('accept');
  return done.body.session as string;
}

async function putUser(tenantId: string, username: string, fields: Record<string, unknown>) {
  const { PutItemCommand } = await import('@aws-sdk/client-dynamodb');
  const { marshall } = await import('@aws-sdk/util-dynamodb');
  const { userItem } = await import('../../functions/adapters/dynamo/keys.ts');
  await d.dynamo.send(
    new PutItemCommand({
      TableName: TABLE,
      Item: marshall(
        { ...userItem(tenantId, username), tenantId, username, secondaryMobile: null, ...fields },
        { removeUndefinedValues: true },
      ),
    }),
  );
}

let groupId = '';

beforeAll(async () => {
  d = await startDirectory();
  const ctx = { dynamo: d.dynamo, table: TABLE, keys: d.keys, log: d.log, cipher: d.cipher };
  self = buildSelfServiceApp({ ...ctx, sqs: d.sqs, dispatchQueueUrl: d.queueUrl }) as unknown as Hono;

  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onData(stream, _session, done) {
      let data = '';
      stream.on('data', (c: Buffer) => {
        data += c.toString();
      });
      stream.on('end', () => {
        mails.push(data);
        done();
      });
    },
  });
  await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', () => r()));
  const providers = new ProviderChannels({
    cipher: d.cipher,
    http: new FetchHttpTransport(),
    bulkheads: new Bulkheads(),
    smtp: transports,
    log: d.log,
    allowPrivateNetworks: true,
    allowPlainHttp: true,
  });
  admin = buildAdminApp({
    ...ctx,
    enrolmentLinks: buildEnrolmentLinkRoutes({
      ...ctx,
      portalUrl: () => 'http://127.0.0.1:1/portal',
      channelFor: (p) => providers.channelFor(p),
    }),
  }) as unknown as Hono;

  const mail = await adminCall('POST', '/v1/providers', {
    name: 'mail',
    kind: 'email',
    params: {
      transport: 'smtp',
      host: '127.0.0.1',
      port: (smtp.server.address() as AddressInfo).port,
      security: 'none',
      from: 'login@corp.example.test',
    },
  });
  expect(mail.status, JSON.stringify(mail.body)).toBe(201);
  const group = await adminCall('POST', '/v1/group-policies', {
    name: 'portal users',
    loadBalancingPolicyId: null,
    channels: ['sms_modem'],
    selfService: {
      enabled: true,
      fields: ['smsType', 'mobile', 'secondaryMobile', 'personalPasscode', 'authenticator'],
    },
    secondaryPhone: true,
  });
  expect(group.status, JSON.stringify(group.body)).toBe(201);
  groupId = group.body.id;
  for (const u of ['alice', 'bob']) {
    const set = await adminCall('PATCH', `/v1/users/${u}`, { groupPolicyId: groupId });
    expect(set.status, JSON.stringify(set.body)).toBe(200);
  }
  const settings = await adminCall('PATCH', '/v1/settings', { security: { allowPersonalPasscode: true } });
  expect(settings.status, JSON.stringify(settings.body)).toBe(200);
}, 60_000);

afterAll(async () => {
  transports.close();
  await new Promise((r) => smtp?.close(() => r(undefined)));
  await d?.close();
});

describe('sign-in', () => {
  it('sends a passcode through the user’s chain and opens a session for the right code only', async () => {
    await queued();
    const started = await call('POST', '/v1/self/sign-in', { tenant: 'acme', username: 'alice' });
    expect(started.status).toBe(201);
    expect(started.body).toEqual({
      signInId: expect.any(String),
      expiresAt: expect.any(String),
      channel: 'sms',
      destination: expect.stringMatching(/^\+45 /),
    });
    const [sms] = await queued();
    expect(sms?.to).toBe(d.seed.users[0]!.mobile);
    const wrong = codeIn(sms!.text) === '000000' ? '111111' : '000000';
    const bad = await call('POST', `/v1/self/sign-in/${started.body.signInId}/verify`, {
      tenant: 'acme',
      passcode: wrong,
    });
    expect(bad.body).toEqual({ result: 'reject', reason: 'wrong', attemptsLeft: expect.any(Number) });
    const good = await call('POST', `/v1/self/sign-in/${started.body.signInId}/verify`, {
      tenant: 'acme',
      passcode: codeIn(sms!.text),
    });
    expect(good.body).toEqual({
      result: 'accept',
      session: expect.stringMatching(/^ps\.acme\./),
      expiresAt: expect.any(String),
    });
    const profile = await call('GET', '/v1/self/profile', undefined, good.body.session);
    expect(profile.status).toBe(200);
    expect(profile.body.username).toBe('alice');
    expect(profile.body.mobile).toMatch(/^\+45 •• •• •• \d\d$/);
    expect(profile.body.editable).toEqual([
      'smsType',
      'mobile',
      'secondaryMobile',
      'personalPasscode',
      'authenticator',
    ]);
  });

  it('answers an unknown name and a user without self-service alike, and sends them nothing', async () => {
    await putUser('acme', 'carol', { mobile: '+4520111222', mobileType: 'mobile' });
    await queued();
    const off = await call('POST', '/v1/self/sign-in', { tenant: 'acme', username: 'carol' });
    const unknown = await call('POST', '/v1/self/sign-in', { tenant: 'acme', username: 'nobody-here' });
    expect(off.status).toBe(201);
    expect(unknown.status).toBe(201);
    expect(Object.keys(off.body).sort()).toEqual(Object.keys(unknown.body).sort());
    expect(await queued()).toEqual([]);
    const tried = await call('POST', `/v1/self/sign-in/${off.body.signInId}/verify`, {
      tenant: 'acme',
      passcode: '123456',
    });
    expect(tried.body.result).toBe('reject');
  });

  it('keeps portal codes and auth API codes apart', async () => {
    await queued();
    const portal = await call('POST', '/v1/self/sign-in', { tenant: 'acme', username: 'alice' });
    const [sms] = await queued();
    const byAuth = await d.app.request(
      `/v1/challenges/${portal.body.signInId}/verify`,
      jsonRequest({ passcode: codeIn(sms!.text) }, d.seed.keys.auth),
    );
    expect(byAuth.status).toBe(404);
    const login = await d.app.request('/v1/challenges', jsonRequest({ username: 'alice' }, d.seed.keys.auth));
    const challenge = (await login.json()) as { challengeId: string };
    const [loginSms] = await queued();
    const byPortal = await call('POST', `/v1/self/sign-in/${challenge.challengeId}/verify`, {
      tenant: 'acme',
      passcode: codeIn(loginSms!.text),
    });
    expect(byPortal.status).toBe(404);
    expect(byPortal.body.error.code).toBe('not_found');
  });

  it('refuses bad input with stable codes', async () => {
    expect((await call('POST', '/v1/self/sign-in', { tenant: 'acme' })).body.error.code).toBe(
      'invalid_request',
    );
    expect((await call('POST', '/v1/self/sign-in', '{nope')).body.error.code).toBe('invalid_request');
    expect(
      (await call('POST', '/v1/self/sign-in', { tenant: 'no/such', username: 'a' })).body.error.code,
    ).toBe('invalid_request');
    const ghost = await call('POST', '/v1/self/sign-in', { tenant: 'ghost-tenant', username: 'alice' });
    expect([ghost.status, ghost.body.error.code]).toEqual([404, 'not_found']);
    expect((await call('GET', '/v1/self/profile')).status).toBe(401);
    expect((await call('GET', '/v1/self/profile', undefined, 'ps.acme.xxx')).body.error.code).toBe(
      'unauthorized',
    );
    const s = await signIn('alice');
    const bad = await call('POST', '/v1/self/number-changes', { field: 'mobile', number: 'not a number' }, s);
    expect([bad.status, bad.body.error.code]).toEqual([400, 'invalid_phone']);
    const premium = await call(
      'POST',
      '/v1/self/number-changes',
      { field: 'mobile', number: '+4590123456' },
      s,
    );
    expect(premium.body.error.code).toBe('invalid_phone');
    const country = await call(
      'POST',
      '/v1/self/number-changes',
      { field: 'mobile', number: '+12025550123' },
      s,
    );
    expect(country.body.error.code).toBe('invalid_phone');
    const field = await call('POST', '/v1/self/number-changes', { field: 'pager', number: '+4520999111' }, s);
    expect(field.body.error.code).toBe('invalid_request');
    const window = await call('PUT', '/v1/self/personal-passcode', { passcode: 'short', validFrom: 'x' }, s);
    expect(window.body.error.code).toBe('invalid_request');
  });
});

describe('changing a number', () => {
  it('sends the passcode to the old number, applies the change, and tells the old number', async () => {
    await putUser('acme', 'dora', { mobile: '+4520300001', mobileType: 'mobile', groupPolicyId: groupId });
    const s = await signIn('dora');
    const started = await call(
      'POST',
      '/v1/self/number-changes',
      { field: 'mobile', number: '20 30 00 02' },
      s,
    );
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    expect(started.body).toMatchObject({ applied: false, destination: '+45 •• •• •• 01' });
    const [check] = await queued();
    expect(check?.to).toBe('+4520300001');
    const done = await call(
      'POST',
      `/v1/self/number-changes/${started.body.changeId}/confirm`,
      { passcode: codeIn(check!.text) },
      s,
    );
    expect(done.body).toEqual({ result: 'accept', field: 'mobile', number: '+45 •• •• •• 02' });
    const notice = await queued();
    expect(notice).toHaveLength(1);
    expect(notice[0]!.to).toBe('+4520300001');
    expect(notice[0]!.text).toContain('was changed to a number ending in 02');
    expect(notice[0]!.text).not.toMatch(/\d{6}/);
    const user = await d.dir.users.get('acme', 'dora');
    expect(user?.mobile).toBe('+4520300002');
    // The next sign-in goes to the new number.
    await call('POST', '/v1/self/sign-in', { tenant: 'acme', username: 'dora' });
    expect((await queued())[0]?.to).toBe('+4520300002');
  });

  it('applies a change once under 200 concurrent confirms with the right code', async () => {
    await putUser('acme', 'erik', { mobile: '+4520300011', mobileType: 'mobile', groupPolicyId: groupId });
    const s = await signIn('erik');
    const started = await call(
      'POST',
      '/v1/self/number-changes',
      { field: 'mobile', number: '+4520300012' },
      s,
    );
    const [check] = await queued();
    const results = await Promise.all(
      Array.from({ length: 200 }, () =>
        call(
          'POST',
          `/v1/self/number-changes/${started.body.changeId}/confirm`,
          { passcode: codeIn(check!.text) },
          s,
        ),
      ),
    );
    const accepted = results.filter((r) => r.body.result === 'accept');
    expect(accepted).toHaveLength(1);
    expect(results.every((r) => r.status === 200 || r.status === 429)).toBe(true);
    expect((await queued()).filter((q) => q.text.includes('was changed'))).toHaveLength(1);
  }, 120_000);

  it('lets only the first of two checks of the same old number change it', async () => {
    await putUser('acme', 'finn', { mobile: '+4520300021', mobileType: 'mobile', groupPolicyId: groupId });
    const s = await signIn('finn');
    const a = await call('POST', '/v1/self/number-changes', { field: 'mobile', number: '+4520300022' }, s);
    const b = await call('POST', '/v1/self/number-changes', { field: 'mobile', number: '+4520300023' }, s);
    const checks = await queued();
    const codeOf = (id: string) => codeIn(checks.find((q) => q.challengeId === id)!.text);
    const [ra, rb] = await Promise.all([
      call(
        'POST',
        `/v1/self/number-changes/${a.body.changeId}/confirm`,
        { passcode: codeOf(a.body.changeId) },
        s,
      ),
      call(
        'POST',
        `/v1/self/number-changes/${b.body.changeId}/confirm`,
        { passcode: codeOf(b.body.changeId) },
        s,
      ),
    ]);
    const statuses = [ra.status, rb.status].sort();
    expect(statuses).toEqual([200, 409]);
    expect([ra, rb].find((r) => r.status === 409)?.body.error.code).toBe('number_changed');
    const user = await d.dir.users.get('acme', 'finn');
    expect(['+4520300022', '+4520300023']).toContain(user?.mobile);
  });

  it('keeps users apart: B can neither confirm A’s change nor read A', async () => {
    const alice = await signIn('alice');
    const bob = await signIn('bob');
    const started = await call(
      'POST',
      '/v1/self/number-changes',
      { field: 'mobile', number: '+4520300031' },
      alice,
    );
    const [check] = await queued();
    const stolen = await call(
      'POST',
      `/v1/self/number-changes/${started.body.changeId}/confirm`,
      { passcode: codeIn(check!.text) },
      bob,
    );
    expect(stolen.status).toBe(404);
    expect((await call('GET', '/v1/self/profile', undefined, bob)).body.username).toBe('bob');
    expect((await d.dir.users.get('acme', 'alice'))?.mobile).toBe(d.seed.users[0]!.mobile);
  });

  it('keeps tenants apart: a session names its tenant, and another tenant’s name finds nobody', async () => {
    const alice = await signIn('alice');
    const forged = alice.replace(/^ps\.acme\./, 'ps.globex.');
    expect((await call('GET', '/v1/self/profile', undefined, forged)).status).toBe(401);
    // globex has an alice too, without self-service: her sign-in sends nothing.
    await queued();
    const other = await call('POST', '/v1/self/sign-in', { tenant: 'globex', username: 'alice' });
    expect(other.status).toBe(201);
    expect(await queued()).toEqual([]);
  });

  it('refuses what the policy does not allow', async () => {
    const narrow = await adminCall('POST', '/v1/group-policies', {
      name: 'numbers only',
      loadBalancingPolicyId: null,
      channels: ['sms_modem'],
      selfService: { enabled: true, fields: ['smsType'] },
      secondaryPhone: true,
    });
    await putUser('acme', 'gus', {
      mobile: '+4520300041',
      mobileType: 'mobile',
      groupPolicyId: narrow.body.id,
    });
    const s = await signIn('gus');
    const change = await call(
      'POST',
      '/v1/self/number-changes',
      { field: 'mobile', number: '+4520300042' },
      s,
    );
    expect([change.status, change.body.error.code]).toEqual([403, 'forbidden']);
    const flash = await call('PATCH', '/v1/self/profile', { smsType: 'flash' }, s);
    expect(flash.body.smsType).toBe('flash');
    // The choice is applied: the next code goes as flash SMS.
    await queued();
    await call('POST', '/v1/self/sign-in', { tenant: 'acme', username: 'gus' });
    expect((await queued())[0]?.flash).toBe(true);
  });
});

describe('personal passcode', () => {
  it('sets one that a login then accepts, stored only hashed', async () => {
    await putUser('acme', 'hana', { mobile: '+4520300051', mobileType: 'mobile', groupPolicyId: groupId });
    const s = await signIn('hana');
    const now = Date.now();
    const set = await call(
      'PUT',
      '/v1/self/personal-passcode',
      {
        passcode: 'Tr4velCode9',
        validFrom: new Date(now - 60_000).toISOString(),
        validUntil: new Date(now + 3600_000).toISOString(),
      },
      s,
    );
    expect(set.status, JSON.stringify(set.body)).toBe(200);
    const guard = await d.stores.directory.loadForRequest('-', 'acme', { username: 'hana' });
    expect(JSON.stringify(guard.guard)).not.toContain('Tr4velCode9');
    const login = await d.app.request('/v1/challenges', jsonRequest({ username: 'hana' }, d.seed.keys.auth));
    const { challengeId } = (await login.json()) as { challengeId: string };
    const verify = await d.app.request(
      `/v1/challenges/${challengeId}/verify`,
      jsonRequest({ passcode: 'Tr4velCode9' }, d.seed.keys.auth),
    );
    expect(await verify.json()).toEqual({ result: 'accept' });
  });
});

describe('enrolment links', () => {
  it('mails a single-use link that fills in a missing number, and nothing more', async () => {
    await putUser('acme', 'ivan', {
      mobile: '+4520300061',
      mobileType: 'mobile',
      email: 'ivan@corp.example.test',
      groupPolicyId: groupId,
    });
    mails.length = 0;
    const sent = await adminCall('POST', '/v1/users/ivan/enrolment-links', {});
    expect(sent.status, JSON.stringify(sent.body)).toBe(201);
    expect(sent.body).toMatchObject({ username: 'ivan', missing: ['secondaryMobile'] });
    expect(JSON.stringify(sent.body)).not.toContain('token=');
    // Quoted-printable: soft line breaks and `=` written as `=3D`.
    const mail = mails
      .join('')
      .replace(/=\r?\n/g, '')
      .replaceAll('=3D', '=');
    const token = /token=([A-Za-z0-9_-]{43})/.exec(mail)?.[1];
    expect(token).toBeDefined();

    const uses = await Promise.all(
      Array.from({ length: 200 }, () =>
        call('POST', '/v1/self/enrolment-links/redeem', { tenant: 'acme', token }),
      ),
    );
    const ok = uses.filter((u) => u.status === 200);
    expect(ok).toHaveLength(1);
    expect(uses.filter((u) => u.status !== 200).every((u) => u.body.error.code === 'token_used')).toBe(true);
    const s = ok[0]!.body.session as string;
    // Another tenant's name for the same token finds nothing.
    expect(
      (await call('POST', '/v1/self/enrolment-links/redeem', { tenant: 'globex', token })).body.error.code,
    ).toBe('token_used');

    const change = await call(
      'POST',
      '/v1/self/number-changes',
      { field: 'mobile', number: '+4520300062' },
      s,
    );
    expect([change.status, change.body.error.code]).toEqual([403, 'forbidden']);
    const pin = await call('PATCH', '/v1/self/profile', { smsType: 'flash' }, s);
    expect(pin.status).toBe(403);
    const fill = await call(
      'POST',
      '/v1/self/number-changes',
      { field: 'secondaryMobile', number: '+4520300063' },
      s,
    );
    expect(fill.body).toEqual({ applied: true, number: '+45 •• •• •• 63' });
    expect((await d.dir.users.get('acme', 'ivan'))?.secondaryMobile).toBe('+4520300063');
  }, 120_000);

  it('refuses a link for a user who lacks nothing, and for another tenant’s user', async () => {
    await putUser('acme', 'jon', {
      mobile: '+4520300071',
      mobileType: 'mobile',
      secondaryMobile: '+4520300072',
      secondaryMobileType: 'mobile',
      email: 'jon@corp.example.test',
    });
    const full = await adminCall('POST', '/v1/users/jon/enrolment-links', {});
    expect([full.status, full.body.error.code]).toEqual([409, 'nothing_missing']);
    const other = await adminCall('POST', '/v1/users/jon/enrolment-links', {}, d.other.keys.admin);
    expect([other.status, other.body.error.code]).toEqual([404, 'not_found']);
  });
});
