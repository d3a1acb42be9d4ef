/**
 * The challenge API under attack: each test tries to break something and must be refused. Also the lockout,
 * rate limits, personal passcode, IP binding, resend, alphabets, the audit trail and the log hygiene.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonRequest } from '../support/cloud.ts';
import { type SecurityFixture, startSecurityFixture } from '../support/security.ts';

let fx: SecurityFixture;
beforeAll(async () => {
  fx = await startSecurityFixture();
});
afterAll(async () => {
  await fx?.close();
});

const wrongFor = (code: string) => (code === '000000' ? '111111' : '000000');

/** Makes a challenge for a known user and returns its id and the code the SMS carried. */
async function challengeWithCode(
  seed: Awaited<ReturnType<SecurityFixture['tenant']>>,
  username: string,
  client?: { ip?: string; name?: string },
) {
  await fx.sent();
  const created = await fx.create(seed, username, client);
  expect(created.status).toBe(201);
  const id = String(created.body.challengeId);
  const sms = (await fx.sent()).get(id);
  if (!sms) throw new Error('no SMS queued');
  return { id, code: fx.codeOf(sms.text), text: sms.text };
}

describe('attack tests', () => {
  it("refuses a key of tenant A on tenant B's challenge, for status, verify and resend alike", async () => {
    const a = await fx.tenant('atk-a', {}, [{ username: 'alice' }]);
    const b = await fx.tenant('atk-b', {}, [{ username: 'alice' }]);
    const { id, code } = await challengeWithCode(b, 'alice');
    const asA = { authorization: `Bearer ${a.keys.auth}` };
    expect((await fx.cloud.app.request(`/v1/challenges/${id}`, { headers: asA })).status).toBe(404);
    expect((await fx.verify(a, id, code)).status).toBe(404);
    expect(
      (await fx.cloud.app.request(`/v1/challenges/${id}/resend`, { method: 'POST', headers: asA })).status,
    ).toBe(404);
    // A key that claims tenant B in its text but is A's secret is no key at all.
    const forged = a.keys.auth.replace('.atk-a.', '.atk-b.');
    const res = await fx.cloud.app.request(`/v1/challenges/${id}`, {
      headers: { authorization: `Bearer ${forged}` },
    });
    expect(res.status).toBe(401);
    // B itself still can.
    expect((await fx.verify(b, id, code)).body).toEqual({ result: 'accept' });
  });

  it('refuses an auth key on the admin API, and an admin or sync key on the challenge API', async () => {
    const t = await fx.tenant('atk-kinds', {}, [{ username: 'alice' }]);
    for (const key of [t.keys.auth, t.keys.sync, t.keys.operator]) {
      const res = await fx.admin.fetch('/v1/keys', { headers: { authorization: `Bearer ${key}` } });
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
      const mint = await fx.admin.fetch('/v1/keys', jsonRequest({ kind: 'admin' }, key));
      expect(mint.status).toBe(401);
    }
    for (const key of [t.keys.admin, t.keys.sync]) {
      const res = await fx.cloud.app.request('/v1/challenges', jsonRequest({ username: 'alice' }, key));
      expect(res.status).toBe(401);
    }
  });

  it('refuses a verify after expiry, even with the right code', async () => {
    const t = await fx.tenant('atk-exp', {}, [{ username: 'alice' }]);
    const { id, code } = await challengeWithCode(t, 'alice');
    fx.clock.advance(301_000);
    try {
      expect((await fx.verify(t, id, code)).body).toEqual({
        result: 'reject',
        reason: 'expired',
        attemptsLeft: 0,
      });
      const view = await fx.cloud.app.request(`/v1/challenges/${id}`, {
        headers: { authorization: `Bearer ${t.keys.auth}` },
      });
      expect(((await view.json()) as { status: string }).status).toBe('expired');
    } finally {
      fx.clock.advance(-301_000);
    }
  });

  it('stops brute force at the lockout: 423 with Retry-After, and no further guess is even tried', async () => {
    const t = await fx.tenant('atk-brute', { security: { lockout: { maxFailures: 5, lockSeconds: 600 } } }, [
      { username: 'alice' },
    ]);
    let failures = 0;
    let locked: { status: number; body: Record<string, unknown> } | undefined;
    while (!locked && failures < 20) {
      const { id, code } = await challengeWithCode(t, 'alice');
      for (let i = 0; i < 3 && !locked; i++) {
        const reply = await fx.verify(t, id, wrongFor(code));
        failures++;
        if (reply.status === 423) locked = reply;
        else expect(reply.body).toMatchObject({ result: 'reject', reason: 'wrong' });
      }
    }
    expect(failures).toBe(5);
    expect(locked?.body).toEqual({ error: { code: 'user_locked', message: expect.any(String) } });
    const again = await fx.create(t, 'alice');
    expect(again.status).toBe(423);
    expect(Number(again.headers.get('retry-after'))).toBeGreaterThan(500);
    expect(await fx.sent()).toEqual(new Map());

    // The lock lifts by itself after its window.
    fx.clock.advance(601_000);
    try {
      const { id, code } = await challengeWithCode(t, 'alice');
      expect((await fx.verify(t, id, code)).body).toEqual({ result: 'accept' });
    } finally {
      fx.clock.advance(-601_000);
    }
  });

  it('locks an unknown username exactly like a known one, so a lock tells nothing about who exists', async () => {
    const t = await fx.tenant('atk-enum', { security: { lockout: { maxFailures: 3, lockSeconds: 600 } } }, [
      { username: 'alice' },
    ]);
    const run = async (username: string) => {
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) {
        const created = await fx.create(t, username);
        statuses.push(created.status);
        if (created.status !== 201) break;
        statuses.push((await fx.verify(t, String(created.body.challengeId), '999999')).status);
      }
      return statuses;
    };
    await fx.sent();
    expect(await run('mallory')).toEqual(await run('alice'));
  });

  it('refuses the replay of an accepted code', async () => {
    const t = await fx.tenant('atk-replay', {}, [{ username: 'alice' }]);
    const { id, code } = await challengeWithCode(t, 'alice');
    expect((await fx.verify(t, id, code)).body).toEqual({ result: 'accept' });
    for (let i = 0; i < 3; i++)
      expect((await fx.verify(t, id, code)).body).toEqual({
        result: 'reject',
        reason: 'used',
        attemptsLeft: 0,
      });
  });

  it("refuses a code on another user's challenge", async () => {
    const t = await fx.tenant('atk-cross', {}, [
      { username: 'alice' },
      { username: 'bob', mobile: '+4520654321' },
    ]);
    const alice = await challengeWithCode(t, 'alice');
    const bob = await challengeWithCode(t, 'bob');
    fx.secrets.add(alice.code);
    const reply = await fx.verify(t, bob.id, alice.code);
    expect(reply.body).toMatchObject({ result: 'reject', reason: 'wrong' });
    expect((await fx.verify(t, bob.id, bob.code)).body).toEqual({ result: 'accept' });
    expect((await fx.verify(t, alice.id, alice.code)).body).toEqual({ result: 'accept' });
  });

  it('refuses an oversized or deeply nested body with a clear error and stores nothing', async () => {
    const t = await fx.tenant('atk-body', {}, [{ username: 'alice' }]);
    // 2,000 levels fit under the 16 KiB body limit: it must be the schema, not the size, that refuses them.
    const nested = `${'{"a":'.repeat(2000)}"x"${'}'.repeat(2000)}`;
    const bodies: Array<[string, number, string]> = [
      [JSON.stringify({ username: 'alice', pad: 'x'.repeat(200_000) }), 413, 'payload_too_large'],
      [`{"username":"alice","client":${nested}}`, 400, 'invalid_request'],
      [`{"username":"alice","client":${'['.repeat(3000)}${']'.repeat(3000)}}`, 400, 'invalid_request'],
      [JSON.stringify({ username: { a: { b: { c: 'alice' } } } }), 400, 'invalid_request'],
    ];
    await fx.sent();
    for (const [body, status, code] of bodies) {
      const res = await fx.cloud.app.request('/v1/challenges', jsonRequest(body, t.keys.auth));
      expect(res.status).toBe(status);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe(code);
    }
    const verify = await fx.cloud.app.request(
      `/v1/challenges/${'A'.repeat(22)}/verify`,
      jsonRequest(`{"passcode":${nested}}`, t.keys.auth),
    );
    expect(verify.status).toBe(400);
    expect(await fx.sent()).toEqual(new Map());
  });

  it('refuses a username with control characters or 10,000 characters', async () => {
    const t = await fx.tenant('atk-name', {}, [{ username: 'alice' }]);
    for (const username of [
      'al\u0000ice',
      'alice\r\nINFO forged log line',
      'al\u202eice',
      'a'.repeat(10_000),
    ]) {
      const res = await fx.create(t, username);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ error: { code: 'invalid_request' } });
    }
    expect(fx.allLogs()).not.toContain('forged log line');
  });

  it('refuses a premium-rate destination (SMS pumping) and sends nothing', async () => {
    const t = await fx.tenant('atk-premium', {}, [
      { username: 'pumped', mobile: '+4590123456' },
      { username: 'stored-premium', mobile: '+4520123456', mobileType: 'premium_rate' },
    ]);
    await fx.sent();
    for (const username of ['pumped', 'stored-premium']) {
      // Answered like any login (no enumeration), and nothing goes out.
      const res = await fx.create(t, username);
      expect(res.status).toBe(201);
    }
    expect(await fx.sent()).toEqual(new Map());
  });

  it('refuses a country the tenant does not allow', async () => {
    const t = await fx.tenant('atk-country', { allowedCountries: ['DK'] }, [
      { username: 'sven', mobile: '+46701234567' },
      { username: 'alice' },
    ]);
    await fx.sent();
    // Answered like any login, so that a refusal tells nothing about who exists; nothing is sent.
    const refused = await fx.create(t, 'sven');
    expect(refused.status).toBe(201);
    expect(await fx.sent()).toEqual(new Map());
    expect((await fx.create(t, 'alice')).status).toBe(201);
  });
});

describe('rate limits', () => {
  it('answers 429 with Retry-After past the per-user limit, for known and unknown users alike', async () => {
    const t = await fx.tenant('rl-user', { security: { limits: { perUser: 3 } } }, [{ username: 'alice' }]);
    for (const username of ['alice', 'nobody']) {
      const statuses = [];
      for (let i = 0; i < 5; i++) statuses.push((await fx.create(t, username)).status);
      expect(statuses).toEqual([201, 201, 201, 429, 429]);
    }
    const limited = await fx.create(t, 'alice');
    expect(limited.body).toMatchObject({ error: { code: 'rate_limited' } });
    const retry = Number(limited.headers.get('retry-after'));
    expect(retry).toBeGreaterThanOrEqual(1);
    expect(retry).toBeLessThanOrEqual(60);
    fx.clock.advance(60_000);
    try {
      expect((await fx.create(t, 'alice')).status).toBe(201);
    } finally {
      fx.clock.advance(-60_000);
    }
  });

  it('keeps parallel challenge creation within the limit: exactly the limit gets through', async () => {
    const t = await fx.tenant('rl-parallel', { security: { limits: { perUser: 5 } } }, [
      { username: 'alice' },
    ]);
    await fx.sent();
    const replies = await Promise.all(Array.from({ length: 25 }, () => fx.create(t, 'alice')));
    expect(replies.filter((r) => r.status === 201)).toHaveLength(5);
    expect(replies.filter((r) => r.status === 429)).toHaveLength(20);
    expect((await fx.sent()).size).toBe(5);
  });

  it('limits per destination number, per client IP and per tenant', async () => {
    const t = await fx.tenant(
      'rl-dims',
      { security: { limits: { perUser: 100, perDestination: 2, perClientIp: 3, perTenant: 6 } } },
      [
        { username: 'twin1', mobile: '+4520111111' },
        { username: 'twin2', mobile: '+4520111111' },
        { username: 'u1', mobile: '+4520222221' },
        { username: 'u2', mobile: '+4520222222' },
        { username: 'u3', mobile: '+4520222223' },
        { username: 'u4', mobile: '+4520222224' },
      ],
    );
    // Two users sharing one number: the number's limit holds across them.
    expect((await fx.create(t, 'twin1', { ip: '198.51.100.1' })).status).toBe(201);
    expect((await fx.create(t, 'twin2', { ip: '198.51.100.2' })).status).toBe(201);
    expect((await fx.create(t, 'twin1', { ip: '198.51.100.3' })).status).toBe(429);
    // One client IP spraying usernames.
    const ip = { ip: '198.51.100.9' };
    expect([
      (await fx.create(t, 'u1', ip)).status,
      (await fx.create(t, 'u2', ip)).status,
      (await fx.create(t, 'u3', ip)).status,
      (await fx.create(t, 'u4', ip)).status,
    ]).toEqual([201, 201, 201, 429]);
    // The tenant: 2 + 3 so far; one more fits, then nothing from anyone.
    expect((await fx.create(t, 'u4', { ip: '198.51.100.10' })).status).toBe(201);
    expect((await fx.create(t, 'u4', { ip: '198.51.100.11' })).status).toBe(429);
    // Another tenant is not affected.
    const other = await fx.tenant('rl-dims-other', {}, [{ username: 'u1' }]);
    expect((await fx.create(other, 'u1', ip)).status).toBe(201);
  });
});

describe('challenge lifecycle', () => {
  it('gives exactly one accept to twenty simultaneous verifies with the right code', async () => {
    const t = await fx.tenant(
      'lc-race',
      { passcode: { length: 8, alphabet: 'alphanumeric', validitySeconds: 300, maxAttempts: 3 } },
      [{ username: 'alice' }],
    );
    const { id, code } = await challengeWithCode(t, 'alice');
    const replies = await Promise.all(Array.from({ length: 20 }, () => fx.verify(t, id, code)));
    expect(replies.filter((r) => r.body.result === 'accept')).toHaveLength(1);
    expect(replies.filter((r) => r.body.reason === 'used')).toHaveLength(19);
  });

  it('puts the session facts into the SMS and reads back memo codes however they are typed', async () => {
    const t = await fx.tenant(
      'lc-memo',
      {
        passcode: { length: 8, alphabet: 'memo', validitySeconds: 300, maxAttempts: 3 },
        messageTemplate: 'Your login code is {code}. Login from {ip} via {client}.',
      },
      [{ username: 'alice' }],
    );
    const { id, code, text } = await challengeWithCode(t, 'alice', { ip: '203.0.113.7', name: 'vpn-gw-1' });
    expect(text).toContain('Login from 203.0.113.7 via vpn-gw-1');
    expect(code).toMatch(/^([bdfghkmnprstvz][aeiou]){4}$/);
    const typed = `${code.slice(0, 4).toUpperCase()} ${code.slice(4)}`;
    expect((await fx.verify(t, id, typed)).body).toEqual({ result: 'accept' });
  });

  it('binds a challenge to the client IP that made it when the policy says so', async () => {
    const t = await fx.tenant('lc-bind', { security: { bindClientIp: true } }, [{ username: 'alice' }]);
    const { id, code } = await challengeWithCode(t, 'alice', { ip: '203.0.113.7' });
    expect((await fx.verify(t, id, code, { ip: '198.51.100.66' })).body).toMatchObject({ reason: 'wrong' });
    expect((await fx.verify(t, id, code)).body).toMatchObject({ reason: 'wrong' });
    expect((await fx.verify(t, id, code, { ip: '203.0.113.7' })).body).toEqual({ result: 'accept' });
  });

  it('resends with a new code and kills the old one', async () => {
    const t = await fx.tenant('lc-resend', {}, [{ username: 'alice' }]);
    const first = await challengeWithCode(t, 'alice');
    const res = await fx.cloud.app.request(`/v1/challenges/${first.id}/resend`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.keys.auth}` },
    });
    expect(res.status).toBe(201);
    const second = (await res.json()) as { challengeId: string };
    expect(second.challengeId).not.toBe(first.id);
    const sms = (await fx.sent()).get(second.challengeId)!;
    expect((await fx.verify(t, first.id, first.code)).body).toEqual({
      result: 'reject',
      reason: 'locked',
      attemptsLeft: 0,
    });
    expect((await fx.verify(t, second.challengeId, fx.codeOf(sms.text))).body).toEqual({ result: 'accept' });
  });

  it('accepts a personal passcode only inside its window and only when policy allows, counted by the lockout', async () => {
    const t = await fx.tenant(
      'lc-personal',
      { security: { allowPersonalPasscode: true, lockout: { maxFailures: 4, lockSeconds: 600 } } },
      [{ username: 'alice' }],
    );
    const now = fx.clock.now();
    const personal = 'Lastresort2026';
    fx.secrets.add(personal);
    const set = await fx.admin.fetch(
      '/v1/personal-passcodes/alice',
      jsonRequest(
        {
          passcode: personal,
          validFrom: new Date(now - 1000).toISOString(),
          validUntil: new Date(now + 3_600_000).toISOString(),
        },
        t.keys.admin,
        { method: 'PUT' },
      ),
    );
    expect(set.status).toBe(200);
    expect(JSON.stringify(await set.json())).not.toContain(personal);

    const inWindow = await challengeWithCode(t, 'alice');
    expect((await fx.verify(t, inWindow.id, personal)).body).toEqual({ result: 'accept' });

    // Outside the window it is just a wrong code, and it counts toward the lock.
    fx.clock.advance(3_700_000);
    try {
      const late = await challengeWithCode(t, 'alice');
      expect((await fx.verify(t, late.id, personal)).body).toMatchObject({
        result: 'reject',
        reason: 'wrong',
      });
      const lockout = await fx.admin.fetch('/v1/lockouts/alice', {
        headers: { authorization: `Bearer ${t.keys.admin}` },
      });
      expect(await lockout.json()).toMatchObject({ locked: false, failures: 1 });
    } finally {
      fx.clock.advance(-3_700_000);
    }

    // A tenant whose policy does not allow personal passcodes never accepts one.
    const strict = await fx.tenant('lc-personal-off', {}, [{ username: 'alice' }]);
    await fx.admin.fetch(
      '/v1/personal-passcodes/alice',
      jsonRequest(
        {
          passcode: personal,
          validFrom: new Date(now - 1000).toISOString(),
          validUntil: new Date(now + 3_600_000).toISOString(),
        },
        strict.keys.admin,
        { method: 'PUT' },
      ),
    );
    const c = await challengeWithCode(strict, 'alice');
    expect((await fx.verify(strict, c.id, personal)).body).toMatchObject({ result: 'reject' });
  });

  it('lets an admin unlock a locked user, and a success clears the failure count', async () => {
    const t = await fx.tenant('lc-unlock', { security: { lockout: { maxFailures: 2, lockSeconds: 900 } } }, [
      { username: 'alice' },
    ]);
    const auth = { authorization: `Bearer ${t.keys.admin}` };
    const a = await challengeWithCode(t, 'alice');
    await fx.verify(t, a.id, wrongFor(a.code));
    expect((await fx.verify(t, a.id, wrongFor(a.code))).status).toBe(423);
    expect((await fx.create(t, 'alice')).status).toBe(423);
    expect(await (await fx.admin.fetch('/v1/lockouts/alice', { headers: auth })).json()).toMatchObject({
      locked: true,
    });
    expect((await fx.admin.fetch('/v1/lockouts/alice', { method: 'DELETE', headers: auth })).status).toBe(
      204,
    );
    expect((await fx.admin.fetch('/v1/lockouts/alice', { method: 'DELETE', headers: auth })).status).toBe(
      404,
    );
    const b = await challengeWithCode(t, 'alice');
    await fx.verify(t, b.id, wrongFor(b.code));
    expect((await fx.verify(t, b.id, b.code)).body).toEqual({ result: 'accept' });
    expect(await (await fx.admin.fetch('/v1/lockouts/alice', { headers: auth })).json()).toMatchObject({
      locked: false,
      failures: 0,
    });
  });
});

describe('audit trail', () => {
  it('records created, accepted, rejected, locked and unlocked, with masked numbers and never the code', async () => {
    const t = await fx.tenant(
      'audit-trail',
      { security: { lockout: { maxFailures: 2, lockSeconds: 900 } } },
      [{ username: 'alice' }],
    );
    const ok = await challengeWithCode(t, 'alice');
    await fx.verify(t, ok.id, ok.code);
    const bad = await challengeWithCode(t, 'alice');
    await fx.verify(t, bad.id, wrongFor(bad.code));
    await fx.verify(t, bad.id, wrongFor(bad.code));
    await fx.admin.fetch('/v1/lockouts/alice', {
      method: 'DELETE',
      headers: { authorization: `Bearer ${t.keys.admin}` },
    });

    const { DynamoAuditLog } = await import('../../functions/adapters/dynamo/audit-store.ts');
    const log = new DynamoAuditLog(fx.cloud.dynamo, 'smspass-test', fx.clock);
    const { entries } = await log.list('audit-trail', { limit: 50 });
    const actions = entries.map((e) => e.action);
    for (const action of [
      'challenge.created',
      'challenge.accepted',
      'challenge.rejected',
      'user.locked',
      'user.unlocked',
    ])
      expect(actions).toContain(action);
    const created = entries.find(
      (e) => e.action === 'challenge.created' && e.target === `challenge:${ok.id}`,
    );
    expect(created).toMatchObject({
      actor: expect.stringMatching(/^key:sp\.auth\.audit-trail\./),
      details: { destination: '+45 •• •• •• 56', clientIp: '203.0.113.7' },
    });
    const dump = JSON.stringify(entries);
    expect(dump).not.toContain(ok.code);
    expect(dump).not.toContain(bad.code);
    expect(dump).not.toMatch(/\+45\d{8}/);
  });
});

describe('logs', () => {
  it('never held a passcode or key in any log line during this suite', () => {
    fx.assertNoSecretsLogged();
  });
});
