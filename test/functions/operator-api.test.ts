import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adUsers, type DirectoryFixture, startDirectory } from '../support/directory.ts';

let t: DirectoryFixture;
let OP: string;
beforeAll(async () => {
  t = await startDirectory();
  OP = t.seed.keys.operator;
});
afterAll(async () => t?.close());

const op = (method: string, path: string, body?: unknown, key = OP) =>
  t.call(t.operator, method, path, key, body);

describe('tenants', () => {
  it('creates a tenant with its limit, countries and passcode defaults, and hands out one admin key', async () => {
    const created = await op('POST', '/v1/operator/tenants', {
      id: 'initech',
      name: 'Initech',
      defaultCountry: 'se',
      allowedCountries: ['SE', 'NO'],
      userLimit: 250,
      passcode: { length: 8, validitySeconds: 120, maxAttempts: 3 },
    });
    expect(created.status).toBe(201);
    expect(created.body.tenant).toMatchObject({
      id: 'initech',
      status: 'active',
      defaultCountry: 'SE',
      allowedCountries: ['SE', 'NO'],
      userLimit: 250,
      passcode: { length: 8, validitySeconds: 120, maxAttempts: 3 },
      defaultModemGroup: 'default',
    });
    expect(created.body.adminKey).toMatch(/^sp\.admin\.initech\./);
    // The key works on the admin API, for this tenant only.
    const groups = await t.call(t.admin, 'GET', '/v1/modem-groups', created.body.adminKey);
    expect(groups.body.items.map((g: { name: string }) => g.name)).toEqual(['default']);

    expect(
      (
        await op('POST', '/v1/operator/tenants', {
          id: 'initech',
          name: 'x',
          defaultCountry: 'SE',
          userLimit: 1,
        })
      ).body.error.code,
    ).toBe('already_exists');
    // "-" is the operator keys' "no tenant"; a tenant may not take it.
    for (const id of ['-', '--', '_']) {
      const refused = await op('POST', '/v1/operator/tenants', {
        id,
        name: 'x',
        defaultCountry: 'SE',
        userLimit: 1,
      });
      expect(refused.status).toBe(400);
    }
    const list = await op('GET', '/v1/operator/tenants');
    expect(list.body.items.map((x: { id: string }) => x.id).sort()).toEqual(['acme', 'globex', 'initech']);
    expect((await op('GET', '/v1/operator/tenants/initech')).body.name).toBe('Initech');
  });

  it('updates limits and settings, refusing bad input', async () => {
    const patched = await op('PATCH', '/v1/operator/tenants/initech', {
      userLimit: 300,
      allowedCountries: ['SE'],
    });
    expect(patched.body).toMatchObject({ userLimit: 300, allowedCountries: ['SE'] });
    for (const body of [
      { userLimit: -1 },
      { userLimit: '300' },
      { colour: 'red' },
      { defaultCountry: 'Sweden' },
      { id: 'other' },
    ])
      expect((await op('PATCH', '/v1/operator/tenants/initech', body)).status, JSON.stringify(body)).toBe(
        400,
      );
    expect(
      (await op('PATCH', '/v1/operator/tenants/initech', { defaultModemGroup: 'nope' })).body.error.code,
    ).toBe('missing_reference');
    expect((await op('PATCH', '/v1/operator/tenants/nobody', { userLimit: 1 })).status).toBe(404);
  });

  it("reports usage: active users against the limit, and this month's challenges and messages", async () => {
    const runId = (await t.call(t.sync, 'POST', '/v1/sync/runs', t.seed.keys.sync)).body.runId;
    await t.call(t.sync, 'PUT', `/v1/sync/runs/${runId}/users`, t.seed.keys.sync, { users: adUsers('u', 7) });
    const month = new Date().toISOString().slice(0, 7);
    const before = (await op('GET', '/v1/operator/tenants/acme/usage')).body.challenges as number;
    // Challenges are counted where they are stored; messages as the delivery side adds them up.
    for (let i = 0; i < 3; i++) {
      const created = await t.app.request('/v1/challenges', {
        method: 'POST',
        headers: { authorization: `Bearer ${t.seed.keys.auth}`, 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'alice' }),
      });
      expect(created.status).toBe(201);
    }
    await t.dir.usage.add('acme', month, { messages: 2 });
    const usage = await op('GET', '/v1/operator/tenants/acme/usage');
    expect(usage.body).toEqual({
      tenantId: 'acme',
      activeUsers: 9,
      userLimit: 1000,
      month,
      challenges: before + 3,
      messages: 2,
    });
  });

  it('suspends a tenant: its keys stop at once, its data stays, and resuming brings them back', async () => {
    const admin = t.seed.keys.admin;
    expect((await t.call(t.admin, 'GET', '/v1/users', admin)).status).toBe(200);
    const auth = { authorization: `Bearer ${t.seed.keys.auth}`, 'content-type': 'application/json' };
    const open = await t.app.request('/v1/challenges', {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ username: 'alice' }),
    });
    const { challengeId } = (await open.json()) as { challengeId: string };
    expect((await op('POST', '/v1/operator/tenants/acme/suspend')).body.status).toBe('suspended');
    // A challenge made before the suspension can be neither read, verified nor resent.
    expect((await t.app.request(`/v1/challenges/${challengeId}`, { headers: auth })).status).toBe(401);
    const verify = await t.app.request(`/v1/challenges/${challengeId}/verify`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ passcode: '123456' }),
    });
    expect(verify.status).toBe(401);
    const resend = await t.app.request(`/v1/challenges/${challengeId}/resend`, {
      method: 'POST',
      headers: auth,
    });
    expect(resend.status).toBe(401);
    expect((await t.call(t.admin, 'GET', '/v1/users', admin)).status).toBe(401);
    expect((await t.call(t.sync, 'POST', '/v1/sync/runs', t.seed.keys.sync)).status).toBe(401);
    const challenge = await t.app.request('/v1/challenges', {
      method: 'POST',
      headers: { authorization: `Bearer ${t.seed.keys.auth}`, 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'alice' }),
    });
    expect(challenge.status).toBe(401);
    expect(await t.dir.counter.countStored('acme')).toBe(9);
    expect((await op('POST', '/v1/operator/tenants/acme/resume')).body.status).toBe('active');
    expect((await t.call(t.admin, 'GET', '/v1/users', admin)).status).toBe(200);
  });

  it('deletes only a suspended tenant, purging its data and keeping its id from coming back', async () => {
    const created = await op('POST', '/v1/operator/tenants', {
      id: 'doomed',
      name: 'Doomed',
      defaultCountry: 'DK',
      userLimit: 5,
    });
    const key = created.body.adminKey as string;
    expect((await op('DELETE', '/v1/operator/tenants/doomed')).body.error.code).toBe('tenant_state');
    await op('POST', '/v1/operator/tenants/doomed/suspend');
    expect((await op('DELETE', '/v1/operator/tenants/doomed')).status).toBe(202);
    expect((await op('GET', '/v1/operator/tenants/doomed')).status).toBe(404);
    // Sending the delete again finishes a purge that was cut short, and is harmless otherwise.
    expect((await op('DELETE', '/v1/operator/tenants/doomed')).status).toBe(202);
    // The purge runs in the background; its status says when it is done.
    while ((await op('GET', '/v1/operator/tenants/doomed/deletion')).body.state !== 'done')
      await new Promise((r) => setTimeout(r, 20));
    expect((await t.call(t.admin, 'GET', '/v1/modem-groups', key)).status).toBe(401);
    expect(await t.dir.config.list('doomed', 'modemGroup')).toEqual([]);
    expect(
      (
        await op('POST', '/v1/operator/tenants', {
          id: 'doomed',
          name: 'Again',
          defaultCountry: 'DK',
          userLimit: 5,
        })
      ).status,
    ).toBe(409);
    expect(
      (await op('GET', '/v1/operator/tenants')).body.items.map((x: { id: string }) => x.id),
    ).not.toContain('doomed');
  });

  it('audits every operator change with the operator key as actor and no key in it', async () => {
    const page = await op('GET', '/v1/operator/audit?limit=200');
    const actions = page.body.entries.map((e: { action: string }) => e.action);
    for (const a of [
      'tenant.created',
      'tenant.updated',
      'tenant.suspended',
      'tenant.resumed',
      'tenant.deleted',
    ])
      expect(actions).toContain(a);
    expect(page.body.entries.every((e: { actor: string }) => e.actor.startsWith('key:sp.operator.-.'))).toBe(
      true,
    );
    expect(JSON.stringify(page.body)).not.toMatch(/sp\.admin\.[\w-]+\.[\w-]{32}/);
    // The tenant's admins see what the operator changed about their tenant.
    const own = await t.call(t.admin, 'GET', '/v1/audit?limit=200', t.seed.keys.admin);
    const ownActions = own.body.entries.map((e: { action: string }) => e.action);
    expect(ownActions).toEqual(expect.arrayContaining(['tenant.suspended', 'tenant.resumed']));
    expect(JSON.stringify(own.body)).not.toContain('initech');
  });
});

describe('isolation', () => {
  it('refuses the operator routes to tenant keys with 403, and to no key with 401', async () => {
    const routes: Array<[string, string, unknown?]> = [
      ['GET', '/v1/operator/tenants'],
      [
        'POST',
        '/v1/operator/tenants',
        { id: 'evil', name: 'Evil', defaultCountry: 'DK', userLimit: 1_000_000 },
      ],
      ['GET', '/v1/operator/tenants/acme'],
      ['PATCH', '/v1/operator/tenants/acme', { userLimit: 1_000_000 }],
      ['DELETE', '/v1/operator/tenants/globex'],
      ['POST', '/v1/operator/tenants/globex/suspend'],
      ['POST', '/v1/operator/tenants/acme/resume'],
      ['GET', '/v1/operator/tenants/acme/usage'],
      ['GET', '/v1/operator/audit'],
    ];
    for (const key of [t.seed.keys.admin, t.seed.keys.sync, t.seed.keys.auth, t.other.keys.admin]) {
      for (const [method, path, body] of routes) {
        const res = await op(method, path, body, key);
        expect(res.status, `${method} ${path}`).toBe(403);
        expect(res.body.error.code).toBe('forbidden');
      }
    }
    expect((await op('GET', '/v1/operator/tenants', undefined, '')).status).toBe(401);
    expect((await op('GET', '/v1/operator/tenants/acme')).body.userLimit).toBe(1000);
    expect((await op('GET', '/v1/operator/tenants/globex')).body.status).toBe('active');
  });
});
