import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SECRET_MASK } from '../../functions/core/channels/provider-params.ts';
import { adUsers, type DirectoryFixture, startDirectory } from '../support/directory.ts';

let t: DirectoryFixture;
let A: string;
let B: string;
beforeAll(async () => {
  t = await startDirectory();
  A = t.seed.keys.admin;
  B = t.other.keys.admin;
  // acme has the demo users plus a few synced ones.
  const sync = t.seed.keys.sync;
  const runId = (await t.call(t.sync, 'POST', '/v1/sync/runs', sync)).body.runId;
  await t.call(t.sync, 'PUT', `/v1/sync/runs/${runId}/users`, sync, { users: adUsers('ann', 5) });
});
afterAll(async () => t?.close());

const admin = (method: string, path: string, body?: unknown, key = A) =>
  t.call(t.admin, method, path, key, body);

const rule = (route: string | null, over: Record<string, unknown> = {}) => ({
  channel: 'sms_modem',
  target: 'primary',
  route,
  timeoutSeconds: 30,
  ...over,
});
const groupPolicy = (loadBalancingPolicyId: string | null, over: Record<string, unknown> = {}) => ({
  name: 'Staff',
  loadBalancingPolicyId,
  channels: ['sms_modem', 'email'],
  selfService: { enabled: true, fields: ['mobile', 'pin'] },
  secondaryPhone: true,
  ...over,
});

describe('modem groups, providers and load-balancing policies', () => {
  it('builds a failover chain from objects that exist, and refuses rules that point at nothing', async () => {
    expect((await admin('POST', '/v1/modem-groups', { name: 'carrier-a', description: 'A' })).status).toBe(
      201,
    );
    expect((await admin('POST', '/v1/modem-groups', { name: 'carrier-b' })).status).toBe(201);
    expect((await admin('POST', '/v1/modem-groups', { name: 'carrier-b' })).body.error.code).toBe(
      'already_exists',
    );
    const provider = await admin('POST', '/v1/providers', {
      name: 'websms',
      kind: 'sms_web',
      params: { url: 'https://sms.example.test/send', token: 'tok-123' },
    });
    expect(provider.status, JSON.stringify(provider.body)).toBe(201);
    expect(provider.body.params).toMatchObject({ url: 'https://sms.example.test/send', token: SECRET_MASK });

    const chain = await admin('POST', '/v1/load-balancing-policies', {
      name: 'A then B then web',
      rules: [
        rule('carrier-a'),
        rule('carrier-b'),
        rule('carrier-a', { target: 'secondary', requireDeliveryReport: true }),
        rule('websms', { channel: 'sms_web', timeoutSeconds: 60 }),
      ],
    });
    expect(chain.status, JSON.stringify(chain.body)).toBe(201);
    expect(chain.body.rules).toHaveLength(4);

    const missing = await admin('POST', '/v1/load-balancing-policies', { name: 'x', rules: [rule('nope')] });
    expect(missing.status).toBe(422);
    expect(missing.body.error).toEqual({
      code: 'missing_reference',
      message: 'Rule 1 (sms_modem) names the modem group "nope", which does not exist.',
    });
    const wrongKind = await admin('POST', '/v1/load-balancing-policies', {
      name: 'x',
      rules: [rule('websms', { channel: 'voice' })],
    });
    expect(wrongKind.body.error.code).toBe('missing_reference');
    expect(wrongKind.body.error.message).toContain('sms_web provider, not voice');
  });

  it('refuses an empty chain, a repeated step and a fallback loop, each saying why', async () => {
    const empty = await admin('POST', '/v1/load-balancing-policies', { name: 'x', rules: [] });
    expect(empty.status).toBe(422);
    expect(empty.body.error.code).toBe('empty_chain');

    const repeated = await admin('POST', '/v1/load-balancing-policies', {
      name: 'x',
      rules: [rule('carrier-a'), rule('carrier-b'), rule('carrier-a')],
    });
    expect(repeated.body.error.code).toBe('chain_loop');
    expect(repeated.body.error.message).toContain('Rule 3');

    const first = (
      await admin('POST', '/v1/load-balancing-policies', { name: 'one', rules: [rule('carrier-a')] })
    ).body;
    const second = (
      await admin('POST', '/v1/load-balancing-policies', {
        name: 'two',
        rules: [rule('carrier-b')],
        fallbackPolicyId: first.id,
      })
    ).body;
    const loop = await admin('PUT', `/v1/load-balancing-policies/${first.id}`, {
      name: 'one',
      rules: [rule('carrier-a')],
      fallbackPolicyId: second.id,
    });
    expect(loop.status).toBe(422);
    expect(loop.body.error.code).toBe('chain_loop');
    const self = await admin('PUT', `/v1/load-balancing-policies/${first.id}`, {
      name: 'one',
      rules: [rule('carrier-a')],
      fallbackPolicyId: first.id,
    });
    expect(self.body.error.code).toBe('chain_loop');
  });

  it('refuses a wrong type in a rule and unknown fields', async () => {
    const bad = [
      { name: 'x', rules: [rule('carrier-a', { timeoutSeconds: '30' })] },
      { name: 'x', rules: [rule('carrier-a', { channel: 'pigeon' })] },
      { name: 'x', rules: [rule('carrier-a', { channel: 'email' })] },
      { name: 'x', rules: [rule(null)] },
      { name: 'x', rules: [rule('carrier-a', { priority: 1 })] },
      { name: 'x', rules: [rule('carrier-a')], owner: 'me' },
    ];
    for (const body of bad) {
      const res = await admin('POST', '/v1/load-balancing-policies', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe('invalid_request');
    }
  });

  it('refuses to delete what is still in use, and deletes it once it is not', async () => {
    const lb = (await admin('POST', '/v1/load-balancing-policies', { name: 'g', rules: [rule('carrier-b')] }))
      .body;
    const group = (await admin('POST', '/v1/group-policies', groupPolicy(lb.id))).body;

    const modem = await admin('DELETE', '/v1/modem-groups/carrier-b');
    expect(modem.status).toBe(409);
    expect(modem.body.error.code).toBe('in_use');
    expect((await admin('DELETE', '/v1/providers/websms')).body.error.code).toBe('in_use');
    expect((await admin('DELETE', '/v1/modem-groups/default')).body.error.message).toContain(
      'default modem group',
    );
    const policy = await admin('DELETE', `/v1/load-balancing-policies/${lb.id}`);
    expect(policy.body.error.code).toBe('in_use');
    expect(policy.body.error.message).toContain('"Staff"');

    const mapping = (
      await admin('POST', '/v1/integration-policies', {
        domain: 'corp.example.test',
        groupDn: 'CN=Staff,DC=corp',
        groupPolicyId: group.id,
        priority: 1,
      })
    ).body;
    expect((await admin('DELETE', `/v1/group-policies/${group.id}`)).body.error.code).toBe('in_use');
    expect((await admin('DELETE', `/v1/integration-policies/${mapping.id}`)).status).toBe(204);
    expect((await admin('DELETE', `/v1/group-policies/${group.id}`)).status).toBe(204);
    expect((await admin('DELETE', `/v1/load-balancing-policies/${lb.id}`)).status).toBe(204);
    expect((await admin('GET', `/v1/load-balancing-policies/${lb.id}`)).status).toBe(404);
  });

  it('refuses a group policy that points at a missing load-balancing policy', async () => {
    const res = await admin('POST', '/v1/group-policies', groupPolicy('missing'));
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('missing_reference');
  });
});

describe('the passcode entropy floor', () => {
  it('refuses settings that would make passcodes weaker than six digits, at every level', async () => {
    const weak = await admin(
      'POST',
      '/v1/group-policies',
      groupPolicy(null, { passcode: { length: 5, alphabet: 'numeric' } }),
    );
    expect(weak.status).toBe(422);
    expect(weak.body.error.code).toBe('weak_passcode');
    expect(weak.body.error.message).toContain('bits of entropy');
    const ok = await admin(
      'POST',
      '/v1/group-policies',
      groupPolicy(null, { passcode: { length: 5, alphabet: 'alphanumeric' } }),
    );
    expect(ok.status).toBe(201);

    const user = await admin('PATCH', '/v1/users/alice', { overrides: { length: 4 } });
    expect(user.status).toBe(422);
    expect(user.body.error.code).toBe('weak_passcode');

    const tenant = await t.call(t.operator, 'PATCH', '/v1/operator/tenants/acme', t.seed.keys.operator, {
      passcode: { length: 4, validitySeconds: 300, maxAttempts: 3 },
    });
    expect(tenant.status).toBe(422);
    expect(tenant.body.error.code).toBe('weak_passcode');
    // Defaults that are strong alone but weak with a group policy's override (5 characters, numeric) are refused.
    const digits = await admin(
      'POST',
      '/v1/group-policies',
      groupPolicy(null, { name: 'Digits', passcode: { alphabet: 'numeric' } }),
    );
    expect(digits.status).toBe(201);
    const combo = await t.call(t.operator, 'PATCH', '/v1/operator/tenants/acme', t.seed.keys.operator, {
      passcode: { length: 5, alphabet: 'alphanumeric', validitySeconds: 300, maxAttempts: 3 },
    });
    expect(combo.status).toBe(422);
    expect(combo.body.error.message).toContain('user group policy');
  });
});

describe('users', () => {
  it('lists with search and pagination', async () => {
    const all: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await admin('GET', `/v1/users?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.status).toBe(200);
      expect(page.body.users.length).toBeLessThanOrEqual(2);
      all.push(...page.body.users.map((u: { username: string }) => u.username));
      cursor = page.body.cursor;
    } while (cursor);
    expect(all).toEqual(['alice', 'ann0', 'ann1', 'ann2', 'ann3', 'ann4', 'bob']);
    const search = await admin('GET', '/v1/users?search=AN');
    expect(search.body.users.map((u: { username: string }) => u.username)).toEqual([
      'ann0',
      'ann1',
      'ann2',
      'ann3',
      'ann4',
    ]);
    expect((await admin('GET', '/v1/users?limit=0')).status).toBe(400);
    expect((await admin('GET', '/v1/users?cursor=%%%')).status).toBe(400);
  });

  it('sets overrides, and shows where each setting comes from', async () => {
    const patched = await admin('PATCH', '/v1/users/ann0', {
      overrides: { validitySeconds: 120, flash: true },
    });
    expect(patched.status).toBe(200);
    expect(patched.body.overrides).toEqual({ validitySeconds: 120, flash: true });
    const eff = await admin('GET', '/v1/users/ann0/effective-settings');
    expect(eff.status).toBe(200);
    expect(eff.body.settings['passcode.validitySeconds']).toEqual({ value: 120, from: 'user' });
    expect(eff.body.settings['passcode.flash']).toEqual({ value: true, from: 'user' });
    expect(eff.body.settings['passcode.length']).toEqual({ value: 6, from: 'tenant' });
    expect(eff.body.settings.channels).toEqual({ value: ['sms_modem'], from: 'default' });
    expect((await admin('PATCH', '/v1/users/ann0', { overrides: { colour: 'red' } })).status).toBe(400);
    expect((await admin('PATCH', '/v1/users/ann0', { overrides: { maxAttempts: 'many' } })).status).toBe(400);
    // Clearing the overrides brings the tenant's values back.
    await admin('PATCH', '/v1/users/ann0', { overrides: null });
    const cleared = await admin('GET', '/v1/users/ann0/effective-settings');
    expect(cleared.body.settings['passcode.validitySeconds']).toEqual({ value: 300, from: 'tenant' });
  });

  it('takes a group policy value over the tenant one', async () => {
    const group = (
      await admin('POST', '/v1/group-policies', groupPolicy(null, { name: 'Field', passcode: { length: 8 } }))
    ).body;
    await admin('POST', '/v1/integration-policies', {
      domain: 'corp.example.test',
      groupDn: 'CN=VPN Users,OU=Groups,DC=corp,DC=example,DC=test',
      groupPolicyId: group.id,
      priority: 5,
    });
    const sync = t.seed.keys.sync;
    const runId = (await t.call(t.sync, 'POST', '/v1/sync/runs', sync)).body.runId;
    await t.call(t.sync, 'PUT', `/v1/sync/runs/${runId}/users`, sync, { users: adUsers('ann', 2) });
    const eff = await admin('GET', '/v1/users/ann1/effective-settings');
    expect(eff.body.groupPolicy).toEqual({ id: group.id, name: 'Field' });
    expect(eff.body.settings['passcode.length']).toEqual({ value: 8, from: 'group' });
    expect(eff.body.settings.channels).toEqual({ value: ['sms_modem', 'email'], from: 'group' });
  });

  it('locks, unlocks and deletes, and the user count follows', async () => {
    const locked = await admin('POST', '/v1/users/ann2/lock');
    expect(locked.body).toMatchObject({ locked: true, lockedAt: expect.any(String) });
    expect((await t.dir.users.get('acme', 'ann2'))?.locked).toBe(true);
    expect((await admin('POST', '/v1/users/ann2/unlock')).body).toMatchObject({
      locked: false,
      lockedAt: null,
    });
    const before = await t.dir.limit.current('acme');
    expect((await admin('DELETE', '/v1/users/ann3')).status).toBe(204);
    expect((await admin('GET', '/v1/users/ann3')).status).toBe(404);
    expect(await t.dir.limit.current('acme')).toBe(before - 1);
    expect((await admin('DELETE', '/v1/users/ann3')).status).toBe(404);
  });
});

describe('tenant isolation', () => {
  it("answers every admin route with tenant B's key on tenant A's objects with 404, leaking nothing", async () => {
    const lb = (
      await admin('POST', '/v1/load-balancing-policies', { name: 'iso', rules: [rule('carrier-a')] })
    ).body;
    const gp = (await admin('POST', '/v1/group-policies', groupPolicy(null, { name: 'iso' }))).body;
    const ip = (
      await admin('POST', '/v1/integration-policies', {
        domain: 'corp.example.test',
        groupDn: 'CN=Iso,DC=corp',
        groupPolicyId: gp.id,
        priority: 1,
      })
    ).body;
    const targets: Array<[string, string, unknown?]> = [
      ['GET', '/v1/modem-groups/carrier-a'],
      ['PUT', '/v1/modem-groups/carrier-a', { description: 'pwned' }],
      ['DELETE', '/v1/modem-groups/carrier-a'],
      ['GET', '/v1/providers/websms'],
      ['PUT', '/v1/providers/websms', { description: 'pwned' }],
      ['DELETE', '/v1/providers/websms'],
      ['GET', `/v1/load-balancing-policies/${lb.id}`],
      ['PUT', `/v1/load-balancing-policies/${lb.id}`, { name: 'pwned', rules: [rule('default')] }],
      ['DELETE', `/v1/load-balancing-policies/${lb.id}`],
      ['GET', `/v1/group-policies/${gp.id}`],
      ['PUT', `/v1/group-policies/${gp.id}`, groupPolicy(null)],
      ['DELETE', `/v1/group-policies/${gp.id}`],
      ['GET', `/v1/integration-policies/${ip.id}`],
      [
        'PUT',
        `/v1/integration-policies/${ip.id}`,
        { domain: 'x.test', groupDn: 'CN=x', groupPolicyId: gp.id, priority: 1 },
      ],
      ['DELETE', `/v1/integration-policies/${ip.id}`],
      ['GET', '/v1/users/ann1'],
      ['PATCH', '/v1/users/ann1', { overrides: { flash: true } }],
      ['POST', '/v1/users/ann1/lock'],
      ['POST', '/v1/users/ann1/unlock'],
      ['GET', '/v1/users/ann1/effective-settings'],
      ['DELETE', '/v1/users/ann4'],
    ];
    for (const [method, path, body] of targets) {
      const res = await admin(method, path, body, B);
      expect([403, 404], `${method} ${path}`).toContain(res.status);
      const text = JSON.stringify(res.body);
      for (const secret of ['acme', 'carrier-a', 'websms', 'iso', '+45', 'alice@'])
        expect(text).not.toContain(secret);
    }
    // B's listings hold only B's objects, and A's objects are untouched.
    for (const path of [
      '/v1/modem-groups',
      '/v1/providers',
      '/v1/load-balancing-policies',
      '/v1/group-policies',
      '/v1/integration-policies',
    ]) {
      const list = await admin('GET', path, undefined, B);
      expect(JSON.stringify(list.body)).not.toMatch(/carrier-a|websms|iso/);
    }
    expect(
      (await admin('GET', '/v1/users', undefined, B)).body.users.every(
        (u: { username: string }) => !u.username.startsWith('ann'),
      ),
    ).toBe(true);
    expect((await admin('GET', '/v1/users/ann4')).status).toBe(200);
    expect((await admin('GET', '/v1/users/ann1')).body.locked).toBe(false);
    expect((await admin('GET', `/v1/load-balancing-policies/${lb.id}`)).body.name).toBe('iso');
  });

  it('refuses other kinds of keys with 403 and a forged one with 401', async () => {
    expect((await admin('GET', '/v1/users', undefined, t.seed.keys.sync)).status).toBe(403);
    expect((await admin('GET', '/v1/users', undefined, t.seed.keys.operator)).status).toBe(403);
    expect((await admin('GET', '/v1/users', undefined, `sp.admin.acme.${'A'.repeat(32)}`)).status).toBe(401);
  });
});

describe('the audit log', () => {
  it('records who changed what, before and after, with no secrets and no full numbers', async () => {
    await admin('PUT', '/v1/providers/websms', {
      params: { url: 'https://sms2.example.test', token: 'tok-456' },
    });
    const page = await admin('GET', '/v1/audit?limit=200');
    expect(page.status).toBe(200);
    const entries = page.body.entries as Array<Record<string, unknown>>;
    const update = entries.find((e) => e.action === 'provider.updated');
    expect(update).toMatchObject({
      tenantId: 'acme',
      actor: expect.stringMatching(/^key:sp\.admin\.acme\./),
      target: 'provider:websms',
    });
    const text = JSON.stringify(entries);
    expect(text).toContain('sms2.example.test');
    expect(text).not.toContain('tok-');
    expect(text).not.toMatch(/\+45\d{8}/);
    for (const action of [
      'modem_group.created',
      'load_balancing_policy.created',
      'group_policy.deleted',
      'user.locked',
      'user.deleted',
      'user.updated',
    ])
      expect(
        entries.some((e) => e.action === action),
        action,
      ).toBe(true);
    expect(JSON.stringify((await admin('GET', '/v1/audit', undefined, B)).body)).not.toContain('websms');
  });
});

describe('provider secrets', () => {
  const stored = async (name: string) =>
    (await t.dir.config.get('acme', 'provider', name)) as { params: Record<string, unknown> } | undefined;

  it('checks params against the kind, naming the bad one, and stores nothing then', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ url: 'https://sms.example.test', apiToken: 'x' }, 'apiToken'],
      [{ token: 'x' }, 'url'],
      [{ url: 'https://sms.example.test', method: 'DELETE' }, 'method'],
      [{ url: 'https://sms.example.test', headers: 'X-Key: {{param.nope}}' }, 'headers'],
    ];
    for (const [params, param] of cases) {
      const res = await admin('POST', '/v1/providers', { name: 'bad-web', kind: 'sms_web', params });
      expect(res.status, JSON.stringify(params)).toBe(400);
      expect(res.body.error.code).toBe('invalid_request');
      expect(res.body.error.message).toContain(param);
    }
    expect(await stored('bad-web')).toBeUndefined();
    // A mask with nothing stored behind it is not a value.
    const masked = await admin('POST', '/v1/providers', {
      name: 'bad-web',
      kind: 'sms_web',
      params: { url: 'https://sms.example.test', token: SECRET_MASK },
    });
    expect(masked.status).toBe(400);
    expect(masked.body.error.message).toContain('token');
  });

  it('seals secrets for the tenant and provider, shows them masked everywhere, and keeps one sent back masked', async () => {
    const params = {
      url: 'https://sms.example.test/send',
      headers: 'Authorization: Bearer {{param.token}}',
      username: 'acct',
      password: 'pw-secret-1',
      token: 'tok-secret-1',
    };
    const created = await admin('POST', '/v1/providers', { name: 'sealed', kind: 'sms_web', params });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const item = (await stored('sealed'))!;
    expect(JSON.stringify(item)).not.toMatch(/pw-secret|tok-secret/);
    expect(item.params.username).toBe('acct');
    const ctx = { tenantId: 'acme', providerId: 'sealed' };
    expect(await t.cipher.decrypt(String(item.params.token), ctx)).toBe('tok-secret-1');
    expect(await t.cipher.decrypt(String(item.params.password), ctx)).toBe('pw-secret-1');
    // Bound to the tenant and the provider: it does not open for another.
    await expect(
      t.cipher.decrypt(String(item.params.token), { tenantId: 'globex', providerId: 'sealed' }),
    ).rejects.toThrow();

    const shown = [
      created.body,
      (await admin('GET', '/v1/providers/sealed')).body,
      (await admin('GET', '/v1/providers')).body.items.find((p: { name: string }) => p.name === 'sealed'),
    ];
    for (const view of shown) {
      expect(view.params).toMatchObject({ username: 'acct', password: SECRET_MASK, token: SECRET_MASK });
      expect(JSON.stringify(view)).not.toMatch(/secret-1|local:v1/);
    }

    // A kept secret goes only where it went before: another server needs it typed again.
    const moved = await admin('PUT', '/v1/providers/sealed', {
      params: { ...shown[1].params, url: 'https://collector.example.test/send', password: 'pw-secret-2' },
    });
    expect(moved.status).toBe(400);
    expect(moved.body.error.message).toContain('token');
    expect((await stored('sealed'))!.params).toEqual(item.params);

    // The console sends back what it was shown, with a new path on the same server and a new password.
    const update = await admin('PUT', '/v1/providers/sealed', {
      params: { ...shown[1].params, url: 'https://sms.example.test/v2/send', password: 'pw-secret-2' },
    });
    expect(update.status, JSON.stringify(update.body)).toBe(200);
    expect(update.body.params).toMatchObject({ url: 'https://sms.example.test/v2/send', token: SECRET_MASK });
    const after = (await stored('sealed'))!;
    expect(after.params.token).toBe(item.params.token);
    expect(await t.cipher.decrypt(String(after.params.password), ctx)).toBe('pw-secret-2');
    // Only the description: params untouched.
    expect((await admin('PUT', '/v1/providers/sealed', { description: 'gw' })).status).toBe(200);
    expect((await stored('sealed'))!.params).toEqual(after.params);
    // Bad params on update are refused and the stored provider is intact.
    const bad = await admin('PUT', '/v1/providers/sealed', { params: { url: 'nope' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain('url');
    expect((await stored('sealed'))!.params).toEqual(after.params);

    const audit = JSON.stringify((await admin('GET', '/v1/audit?limit=200')).body);
    expect(audit).toContain('provider:sealed');
    expect(audit).not.toMatch(/secret-1|secret-2|local:v1/);
  });

  it('asks for a secret again when the stored one does not open (saved before sealing)', async () => {
    await t.dir.config.put(
      'acme',
      'provider',
      'legacy',
      {
        name: 'legacy',
        kind: 'sms_web',
        description: '',
        params: { url: 'https://sms.example.test', token: 'plain-legacy' },
        createdAt: '2026-01-01T00:00:00.000Z',
        updatedAt: '2026-01-01T00:00:00.000Z',
      },
      'create',
    );
    const view = (await admin('GET', '/v1/providers/legacy')).body;
    expect(view.params.token).toBe(SECRET_MASK);
    const kept = await admin('PUT', '/v1/providers/legacy', { params: view.params });
    expect(kept.status).toBe(400);
    expect(kept.body.error.message).toContain('token');
    const fixed = await admin('PUT', '/v1/providers/legacy', {
      params: { ...view.params, token: 'new-tok' },
    });
    expect(fixed.status).toBe(200);
    const item = (await stored('legacy'))!;
    expect(
      await t.cipher.decrypt(String(item.params.token), { tenantId: 'acme', providerId: 'legacy' }),
    ).toBe('new-tok');
  });

  it('describes the provider kinds and their params, secrets marked', async () => {
    const res = await admin('GET', '/v1/provider-kinds');
    expect(res.status).toBe(200);
    const web = res.body.items.find((k: { kind: string }) => k.kind === 'sms_web');
    expect(web.parameters.find((p: { name: string }) => p.name === 'token')).toMatchObject({ secret: true });
    expect(res.body.items.map((k: { kind: string }) => k.kind).sort()).toEqual(['email', 'sms_web', 'voice']);
    expect((await t.call(t.admin, 'GET', '/v1/provider-kinds', undefined)).status).toBe(401);
  });
});
