/**
 * The user's PIN, typed before the passcode (`PIN + passcode` in the one field) when `pin.required` says so:
 * set and changed in the portal's API, checked at verify, and counted as a wrong guess by the lockout exactly
 * as a wrong passcode is, without telling which of the two was wrong. Against the real stand-ins.
 */
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { challengeItem, userItem } from '../../functions/adapters/dynamo/keys.ts';
import { DispatchMessage } from '../../functions/contracts/queue.ts';
import { openDispatchPayload } from '../../functions/core/dispatch.ts';
import { hashPin } from '../../functions/core/pin.ts';
import { buildSelfServiceApp } from '../../functions/selfservice-deps.ts';
import { jsonRequest, TABLE } from '../support/cloud.ts';
import { type DirectoryFixture, startDirectory } from '../support/directory.ts';

let d: DirectoryFixture;
let portal: ReturnType<typeof buildSelfServiceApp>;
let serial = 0;

beforeAll(async () => {
  d = await startDirectory();
  portal = buildSelfServiceApp({
    dynamo: d.dynamo,
    table: TABLE,
    keys: d.keys,
    log: d.log,
    sqs: d.sqs,
    dispatchQueueUrl: d.queueUrl,
  });
}, 60_000);
afterAll(() => d?.close());

const codeIn = (text: string) => /code is ([A-Za-z0-9]+)\./.exec(text)?.[1] ?? '';

// biome-ignore lint/suspicious/noExplicitAny: replies are asserted field by field
type Reply = { status: number; body: any };

/** A tenant of its own, whose users are in a group policy that requires a PIN and lets them set it. */
class Tenant {
  id = `pin${++serial}`;
  adminKey = '';
  authKey = '';
  groupId = '';

  async open(security: Record<string, unknown> = {}, pin: Record<string, unknown> = { required: true }) {
    const made = await d.call(d.operator, 'POST', '/v1/operator/tenants', d.seed.keys.operator, {
      id: this.id,
      name: `PIN ${this.id}`,
      defaultCountry: 'DK',
      allowedCountries: ['DK'],
      userLimit: 100,
    });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    this.adminKey = made.body.adminKey;
    this.authKey = (await this.admin('POST', '/v1/keys', { kind: 'auth' })).body.key;
    if (Object.keys(security).length > 0) await this.admin('PATCH', '/v1/settings', { security });
    const group = await this.admin('POST', '/v1/group-policies', {
      name: 'pin users',
      loadBalancingPolicyId: null,
      channels: ['sms_modem'],
      selfService: { enabled: true, fields: ['pin', 'mobile'] },
      secondaryPhone: false,
      pin,
    });
    expect(group.status, JSON.stringify(group.body)).toBe(201);
    this.groupId = group.body.id;
    return this;
  }

  admin(method: string, path: string, body?: unknown): Promise<Reply> {
    return d.call(d.admin, method, path, this.adminKey, body);
  }

  async user(username: string, pin?: string) {
    await d.dynamo.send(
      new PutItemCommand({
        TableName: TABLE,
        Item: marshall(
          {
            ...userItem(this.id, username),
            tenantId: this.id,
            username,
            mobile: '+4520123456',
            mobileType: 'mobile',
            secondaryMobile: null,
            email: null,
            groupPolicyId: this.groupId,
            ...(pin && { pin: hashPin(pin) }),
          },
          { removeUndefinedValues: true },
        ),
      }),
    );
  }

  /** A login through the auth API, and the code its SMS carries ('' when nothing was sent). */
  async login(username: string): Promise<{ status: number; id: string; code: string }> {
    await d.drainQueue();
    const res = await d.app.request(
      '/v1/challenges',
      jsonRequest({ username, client: { ip: '203.0.113.7', name: 'vpn' } }, this.authKey),
    );
    const body = (await res.json()) as { challengeId: string };
    let code = '';
    for (const raw of await d.drainQueue()) {
      const message = DispatchMessage.parse(JSON.parse(raw));
      if (message.challengeId === body.challengeId) code = codeIn(openDispatchPayload(d.keys, message).text);
    }
    return { status: res.status, id: body.challengeId, code };
  }

  async verify(id: string, passcode: string): Promise<Reply> {
    const res = await d.app.request(
      `/v1/challenges/${id}/verify`,
      jsonRequest({ passcode, client: { ip: '203.0.113.7' } }, this.authKey),
    );
    return { status: res.status, body: await res.json() };
  }

  /** Signs the user in to the portal's API (no PIN there: it is where the PIN is set). */
  async portalSession(username: string): Promise<string> {
    await d.drainQueue();
    const started = await portal.request('/v1/self/sign-in', jsonRequest({ tenant: this.id, username }));
    expect(started.status).toBe(201);
    const { signInId } = (await started.json()) as { signInId: string };
    const step0 = (await d.drainQueue())
      .map((raw) => DispatchMessage.parse(JSON.parse(raw)))
      .find((m) => m.challengeId === signInId);
    expect(step0, 'a sign-in code').toBeDefined();
    const verified = await portal.request(
      `/v1/self/sign-in/${signInId}/verify`,
      jsonRequest({ tenant: this.id, passcode: codeIn(openDispatchPayload(d.keys, step0!).text) }),
    );
    const body = (await verified.json()) as { result: string; session: string };
    expect(body.result).toBe('accept');
    return body.session;
  }

  async self(method: string, path: string, session: string, body?: unknown): Promise<Reply> {
    const res = await portal.request(path, {
      method,
      headers: {
        authorization: `Bearer ${session}`,
        ...(body !== undefined && { 'content-type': 'application/json' }),
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  }
}

describe('PIN + passcode at login', () => {
  it('accepts the PIN followed by the passcode, and refuses the passcode alone', async () => {
    const t = await new Tenant().open();
    await t.user('ann', '739146');
    const first = await t.login('ann');
    expect(first.status).toBe(201);
    expect(first.code).not.toBe('');
    expect((await t.verify(first.id, first.code)).body).toMatchObject({ result: 'reject', reason: 'wrong' });
    expect((await t.verify(first.id, `739146${first.code}`)).body).toEqual({ result: 'accept' });
    // The accepted challenge lives on as an audit entry: the copy of the PIN hash goes with the accept.
    const stored = await d.dynamo.send(
      new GetItemCommand({
        TableName: TABLE,
        Key: marshall(challengeItem(t.id, first.id)),
        ConsistentRead: true,
      }),
    );
    expect(unmarshall(stored.Item!).status).toBe('accepted');
    expect(unmarshall(stored.Item!).pin).toBeUndefined();
    // Spaces between the two parts are read away, as in any typed code.
    const second = await t.login('ann');
    expect((await t.verify(second.id, `739146 ${second.code}`)).body).toEqual({ result: 'accept' });
  });

  it('answers a wrong PIN exactly as a wrong passcode', async () => {
    const t = await new Tenant().open();
    await t.user('ann', '739146');
    const a = await t.login('ann');
    const b = await t.login('ann');
    const wrongPin = await t.verify(a.id, `739145${a.code}`);
    const wrongCode = await t.verify(b.id, `739146${a.code === '000000' ? '000001' : '000000'}`);
    expect(wrongPin).toEqual(wrongCode);
    expect(wrongPin.body).toEqual({ result: 'reject', reason: 'wrong', attemptsLeft: expect.any(Number) });
  });

  it('sends nothing to a user who must have a PIN but has none, and says why in the message log', async () => {
    const t = await new Tenant().open();
    await t.user('bob');
    const sent = await t.login('bob');
    // Answered like an unknown name: an attacker learns nothing, and no SMS is paid for.
    expect(sent.status).toBe(201);
    expect(sent.code).toBe('');
    const log = await t.admin('GET', '/v1/message-log?username=bob');
    expect(JSON.stringify(log.body)).toContain('pin_not_set');
  });

  it('takes the passcode alone where no PIN is required, even from a user who has one', async () => {
    const t = await new Tenant().open({}, { required: false });
    await t.user('ann', '739146');
    const sent = await t.login('ann');
    expect((await t.verify(sent.id, sent.code)).body).toEqual({ result: 'accept' });
  });
});

describe('wrong PINs and the lockout', () => {
  it('counts 200 parallel wrong-PIN guesses (with the right passcode) against the lockout threshold', {
    timeout: 120_000,
  }, async () => {
    const maxFailures = 5;
    const t = await new Tenant().open({
      lockout: { maxFailures, lockSeconds: 600 },
      limits: { perUser: 100, perDestination: 100 },
    });
    await t.user('ann', '739146');
    const challenges = [];
    for (let i = 0; i < 10; i++) challenges.push(await t.login('ann'));
    const guesses = challenges.flatMap((c) =>
      Array.from({ length: 20 }, (_, i) => ({ id: c.id, typed: `${String(100000 + i * 7)}${c.code}` })),
    );
    const replies = await Promise.all(guesses.map((g) => t.verify(g.id, g.typed)));
    for (const r of replies) expect([200, 423]).toContain(r.status);
    expect(replies.filter((r) => r.body.result === 'accept')).toEqual([]);
    expect(replies.filter((r) => r.body.reason === 'wrong').length).toBeLessThan(maxFailures);
    // Locked now: not even the right PIN and passcode of a challenge opened before get in.
    const right = challenges.at(-1)!;
    expect((await t.verify(right.id, `739146${right.code}`)).body.result).not.toBe('accept');
    expect((await t.login('ann')).status).toBe(423);
  });

  it('accepts the right PIN + passcode exactly once when it arrives 200 times at once', {
    timeout: 120_000,
  }, async () => {
    const t = await new Tenant().open({ lockout: { maxFailures: 100, lockSeconds: 600 } });
    await t.user('ann', '739146');
    const c = await t.login('ann');
    const replies = await Promise.all(Array.from({ length: 200 }, () => t.verify(c.id, `739146${c.code}`)));
    const failed = replies.filter((r) => r.status !== 200);
    expect(
      failed,
      `${JSON.stringify(failed[0])} ${d.logLines.filter((l) => l.includes('error')).slice(-3)}`,
    ).toEqual([]);
    expect(replies.filter((r) => r.body.result === 'accept')).toHaveLength(1);
  });
});

describe('setting and changing the PIN in the portal API', () => {
  it('sets a PIN, then changes it only with the current one, and logins follow', async () => {
    const t = await new Tenant().open({}, { required: true, minLength: 6 });
    await t.user('cat');
    const session = await t.portalSession('cat');
    const profile = await t.self('GET', '/v1/self/profile', session);
    expect(profile.body.pin).toEqual({ set: false, required: true, minLength: 6 });
    expect(profile.body.editable).toContain('pin');

    expect((await t.self('PUT', '/v1/self/pin', session, { pin: '12' })).body.error.code).toBe(
      'invalid_request',
    );
    const short = await t.self('PUT', '/v1/self/pin', session, { pin: '73914' });
    expect(short).toMatchObject({ status: 422, body: { error: { code: 'weak_pin' } } });
    for (const easy of ['111111', '123456', '987654'])
      expect((await t.self('PUT', '/v1/self/pin', session, { pin: easy })).body.error.code).toBe('weak_pin');

    expect((await t.self('PUT', '/v1/self/pin', session, { pin: '739146' })).status).toBe(200);
    const set = await t.login('cat');
    expect((await t.verify(set.id, `739146${set.code}`)).body.result).toBe('accept');

    const noCurrent = await t.self('PUT', '/v1/self/pin', session, { pin: '482913' });
    expect(noCurrent).toMatchObject({ status: 422, body: { error: { code: 'wrong_pin' } } });
    const wrongCurrent = await t.self('PUT', '/v1/self/pin', session, {
      pin: '482913',
      currentPin: '739145',
    });
    expect(wrongCurrent).toMatchObject({ status: 422, body: { error: { code: 'wrong_pin' } } });
    const changed = await t.self('PUT', '/v1/self/pin', session, { pin: '482913', currentPin: '739146' });
    expect(changed.status).toBe(200);

    const old = await t.login('cat');
    expect((await t.verify(old.id, `739146${old.code}`)).body.result).toBe('reject');
    const fresh = await t.login('cat');
    expect((await t.verify(fresh.id, `482913${fresh.code}`)).body.result).toBe('accept');
    expect((await t.self('GET', '/v1/self/profile', session)).body.pin.set).toBe(true);
  });

  it('counts wrong current PINs in the portal toward the lockout, so the portal is no way around it', async () => {
    const t = await new Tenant().open({ lockout: { maxFailures: 3, lockSeconds: 600 } });
    await t.user('dan', '739146');
    const session = await t.portalSession('dan');
    const tries = [];
    for (const current of ['111111', '222222', '333333', '739146'])
      tries.push(await t.self('PUT', '/v1/self/pin', session, { pin: '482913', currentPin: current }));
    expect(tries.map((r) => r.status)).toEqual([422, 422, 422, 423]);
    expect((await t.login('dan')).status).toBe(423);
  });

  it('shows the admin whether a PIN is set, never the PIN, and lets the admin clear it', async () => {
    const t = await new Tenant().open();
    await t.user('gil', '739146');
    const shown = await t.admin('GET', '/v1/users/gil');
    expect(shown.body.pinSet).toBe(true);
    expect(JSON.stringify(shown.body)).not.toContain('scrypt');
    const cleared = await t.admin('DELETE', '/v1/users/gil/pin');
    expect(cleared).toMatchObject({ status: 200, body: { pinSet: false } });
    const audit = await t.admin('GET', '/v1/audit?limit=5');
    expect(JSON.stringify(audit.body)).toContain('user.pin_cleared');
    expect(JSON.stringify(audit.body)).not.toContain('scrypt');
    // Required and now unset: the next login sends nothing until gil sets a new PIN.
    expect((await t.login('gil')).code).toBe('');
  });

  it('refuses the PIN to a user whose policy does not list it', async () => {
    const t = new Tenant();
    await t.open();
    await t.admin('PUT', `/v1/group-policies/${t.groupId}`, {
      name: 'pin users',
      loadBalancingPolicyId: null,
      channels: ['sms_modem'],
      selfService: { enabled: true, fields: ['mobile'] },
      secondaryPhone: false,
    });
    await t.user('eve');
    const session = await t.portalSession('eve');
    const res = await t.self('PUT', '/v1/self/pin', session, { pin: '739146' });
    expect(res.status).toBe(403);
  });

  it('never writes a PIN to the log', async () => {
    const t = await new Tenant().open();
    await t.user('fay');
    const session = await t.portalSession('fay');
    await t.self('PUT', '/v1/self/pin', session, { pin: '80427193' });
    await t.self('PUT', '/v1/self/pin', session, { pin: '95310862', currentPin: '80427190' });
    const sent = await t.login('fay');
    await t.verify(sent.id, `80427190${sent.code}`);
    await t.verify(sent.id, `80427193${sent.code}`);
    const logged = d.logLines.join('\n');
    expect(logged).not.toContain('80427193');
    expect(logged).not.toContain('80427190');
    expect(logged).not.toContain('95310862');
  });
});

describe('the PIN settings within the operator ceilings', () => {
  it('refuses a tenant or group PIN setting more lenient than the operator allows', async () => {
    const t = await new Tenant().open();
    const ceil = await d.call(d.operator, 'PATCH', `/v1/operator/tenants/${t.id}`, d.seed.keys.operator, {
      ceilings: { pin: { required: true, minLength: 6 } },
    });
    expect(ceil.status, JSON.stringify(ceil.body)).toBe(200);
    const off = await t.admin('PATCH', '/v1/settings', { security: { pin: { required: false } } });
    expect(off).toMatchObject({ status: 422, body: { error: { code: 'above_ceiling' } } });
    const short = await t.admin('PATCH', '/v1/settings', { security: { pin: { minLength: 4 } } });
    expect(short).toMatchObject({ status: 422, body: { error: { code: 'above_ceiling' } } });
    const group = await t.admin('POST', '/v1/group-policies', {
      name: 'lenient',
      loadBalancingPolicyId: null,
      channels: ['sms_modem'],
      selfService: { enabled: false, fields: [] },
      secondaryPhone: false,
      pin: { required: false },
    });
    expect(group).toMatchObject({ status: 422, body: { error: { code: 'above_ceiling' } } });
  });
});
