/**
 * No setting is decorative. For every setting `effective-settings` shows, and for every level where it may be
 * set (product default, operator ceiling, tenant, group policy, user), this table sets it through the API the
 * way an admin would, then checks two things: `effective-settings` shows the value with that level as its
 * source, and a login does something different (what is sent, where, how, or what is accepted). A setting that
 * `effective-settings` returns without a row here fails the first test, so a new setting must come with proof.
 */
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { userItem } from '../../functions/adapters/dynamo/keys.ts';
import { DispatchMessage } from '../../functions/contracts/queue.ts';
import { openDispatchPayload } from '../../functions/core/dispatch.ts';
import { hashPin } from '../../functions/core/pin.ts';
import type { SettingLevel, SettingName } from '../../functions/core/settings.ts';
import { DEFAULT_TEMPLATE } from '../../functions/core/tenants.ts';
import { buildSelfServiceApp } from '../../functions/selfservice-deps.ts';
import { jsonRequest, TABLE } from '../support/cloud.ts';
import { type DirectoryFixture, startDirectory } from '../support/directory.ts';

/** One hour windows start on the hour: the clock sits one second into one, so Retry-After is exact. */
const HOUR = 3600_000;
const BASE = Math.floor(Date.now() / HOUR) * HOUR + 1000;
let offset = 0;
/** Stands still, so that expiry times, lock times and windows read exactly. */
const clock = { now: () => BASE + offset };

let d: DirectoryFixture;
/** The self-service portal's API, which applies `selfService`. */
let portal: ReturnType<typeof buildSelfServiceApp>;
let serial = 0;

beforeAll(async () => {
  d = await startDirectory({ clock });
  portal = buildSelfServiceApp({
    dynamo: d.dynamo,
    table: TABLE,
    keys: d.keys,
    log: d.log,
    clock,
    sqs: d.sqs,
    dispatchQueueUrl: d.queueUrl,
  });
}, 60_000);
afterAll(() => d?.close());

interface Sent {
  status: number;
  body: Record<string, unknown>;
  headers: Headers;
  /** Step 0 as queued, when anything was queued. */
  message?: DispatchMessage;
  text?: string;
  targets?: { primary: string | null; secondary: string | null; email: string | null };
}

/** A tenant of its own for each case, made by the operator, with an auth key minted by its admin. */
class Case {
  tenantId = `set${++serial}`;
  adminKey = '';
  authKey = '';
  groupId: string | undefined;

  async open(operatorFields: Record<string, unknown> = {}) {
    const made = await d.call(d.operator, 'POST', '/v1/operator/tenants', d.seed.keys.operator, {
      id: this.tenantId,
      name: `Settings ${this.tenantId}`,
      defaultCountry: 'DK',
      allowedCountries: ['DK', 'SE'],
      userLimit: 100,
    });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    this.adminKey = made.body.adminKey;
    if (Object.keys(operatorFields).length > 0) await this.operator(operatorFields);
    const key = await this.admin('POST', '/v1/keys', { kind: 'auth' });
    this.authKey = key.key;
    return this;
  }

  async operator(fields: Record<string, unknown>) {
    const res = await d.call(
      d.operator,
      'PATCH',
      `/v1/operator/tenants/${this.tenantId}`,
      d.seed.keys.operator,
      fields,
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  }

  // biome-ignore lint/suspicious/noExplicitAny: replies are read field by field
  async admin(method: string, path: string, body?: unknown, status?: number): Promise<any> {
    const res = await d.call(d.admin, method, path, this.adminKey, body);
    expect(res.status, `${method} ${path}: ${JSON.stringify(res.body)}`).toBe(
      status ?? (method === 'POST' ? 201 : 200),
    );
    return res.body;
  }

  settings(patch: Record<string, unknown>) {
    return this.admin('PATCH', '/v1/settings', patch);
  }

  /** A group policy (SMS through `route`, or the given chain) that the case's users are then put in. */
  async group(fields: Record<string, unknown> = {}, rules?: unknown[]) {
    let loadBalancingPolicyId: string | null = null;
    if (rules) {
      const lb = await this.admin('POST', '/v1/load-balancing-policies', { name: 'chain', rules });
      loadBalancingPolicyId = lb.id;
    }
    const group = await this.admin('POST', '/v1/group-policies', {
      name: 'group',
      loadBalancingPolicyId,
      channels: ['sms_modem', 'sms_web', 'voice', 'email', 'totp'],
      selfService: { enabled: false, fields: [] },
      secondaryPhone: true,
      ...fields,
    });
    this.groupId = group.id;
    return group;
  }

  async user(username = 'ann', fields: Record<string, unknown> = {}) {
    await d.dynamo.send(
      new PutItemCommand({
        TableName: TABLE,
        Item: marshall(
          {
            ...userItem(this.tenantId, username),
            tenantId: this.tenantId,
            username,
            mobile: '+4520123456',
            mobileType: 'mobile',
            secondaryMobile: '+4520999999',
            secondaryMobileType: 'mobile',
            email: `${username}@example.test`,
            ...(this.groupId && { groupPolicyId: this.groupId }),
            ...fields,
          },
          { removeUndefinedValues: true },
        ),
      }),
    );
  }

  overrides(overrides: Record<string, unknown>, username = 'ann') {
    return this.admin('PATCH', `/v1/users/${username}`, { overrides });
  }

  async effective(name: SettingName, username = 'ann') {
    const body = await this.admin('GET', `/v1/users/${username}/effective-settings`);
    return body.settings[name] as { value: unknown; from: SettingLevel };
  }

  /** Asks for a challenge and reads back step 0 as the queue carries it (the text the SMS would carry). */
  async login(username = 'ann', ip = '203.0.113.7'): Promise<Sent> {
    await d.drainQueue();
    const res = await d.app.request(
      '/v1/challenges',
      jsonRequest({ username, client: { ip, name: 'gw' } }, this.authKey),
    );
    const body = (await res.json()) as Record<string, unknown>;
    const sent: Sent = { status: res.status, body, headers: res.headers };
    for (const raw of await d.drainQueue()) {
      const message = DispatchMessage.parse(JSON.parse(raw));
      if (message.challengeId !== body.challengeId) continue;
      const opened = openDispatchPayload(d.keys, message);
      Object.assign(sent, { message, text: opened.text, targets: opened.targets });
    }
    return sent;
  }

  /**
   * What the self-service portal does for the user: whether a sign-in sends a code at all, and once signed in
   * with it, which fields the profile lets them change.
   */
  async portal(username = 'ann'): Promise<{ enabled: boolean; fields: unknown }> {
    await d.drainQueue();
    const started = await portal.request(
      '/v1/self/sign-in',
      jsonRequest({ tenant: this.tenantId, username }),
    );
    const { signInId } = (await started.json()) as { signInId: string };
    const step0 = (await d.drainQueue())
      .map((raw) => DispatchMessage.parse(JSON.parse(raw)))
      .find((m) => m.challengeId === signInId);
    if (!step0) return { enabled: false, fields: [] };
    const passcode = codeIn(openDispatchPayload(d.keys, step0).text);
    const verified = await portal.request(
      `/v1/self/sign-in/${signInId}/verify`,
      jsonRequest({ tenant: this.tenantId, passcode }),
    );
    const { session } = (await verified.json()) as { session: string };
    const profile = await portal.request('/v1/self/profile', {
      headers: { authorization: `Bearer ${session}` },
    });
    return { enabled: true, fields: ((await profile.json()) as { editable: unknown }).editable };
  }

  /** A portal session for the user, signed in with the code the portal's sign-in sent. */
  async portalSession(username = 'ann'): Promise<string> {
    await d.drainQueue();
    const started = await portal.request(
      '/v1/self/sign-in',
      jsonRequest({ tenant: this.tenantId, username }),
    );
    const { signInId } = (await started.json()) as { signInId: string };
    const step0 = (await d.drainQueue())
      .map((raw) => DispatchMessage.parse(JSON.parse(raw)))
      .find((m) => m.challengeId === signInId);
    const verified = await portal.request(
      `/v1/self/sign-in/${signInId}/verify`,
      jsonRequest({ tenant: this.tenantId, passcode: codeIn(openDispatchPayload(d.keys, step0!).text) }),
    );
    return ((await verified.json()) as { session: string }).session;
  }

  async verify(challengeId: unknown, passcode: string, ip = '203.0.113.7') {
    const res = await d.app.request(
      `/v1/challenges/${String(challengeId)}/verify`,
      jsonRequest({ passcode, client: { ip } }, this.authKey),
    );
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }
}

const codeIn = (text: string | undefined) => /code is ([A-Za-z0-9]+)\./.exec(text ?? '')?.[1] ?? '';

/**
 * How a setting is set at one level. `set` runs before the case's user exists (group policies must exist
 * first); `afterUser` runs after, for settings on the user itself.
 */
interface Level {
  level: SettingLevel;
  value: unknown;
  operator?: Record<string, unknown>;
  set?: (c: Case) => Promise<unknown>;
  afterUser?: (c: Case) => Promise<unknown>;
}

interface Row {
  setting: SettingName;
  /** What a login shows of the setting, on a case where it is at `value`. */
  observe: (c: Case, value: unknown) => Promise<unknown>;
  /** What `observe` returns with the setting at `value` (defaults to the value itself). */
  expected?: (value: unknown) => unknown;
  levels: Level[];
}

const sms = (route: string, target = 'primary') => ({
  channel: 'sms_modem',
  target,
  route,
  timeoutSeconds: 30,
});

/** The accept reply's RADIUS attribute, after a login with the right code. */
const acceptedRadius = (name: 'class' | 'filterId') => async (c: Case) => {
  const sent = await c.login();
  const res = await c.verify(sent.body.challengeId, codeIn(sent.text));
  expect(res.body.result).toBe('accept');
  return (res.body.radius as Record<string, string> | undefined)?.[name] ?? null;
};

const ROWS: Row[] = [
  {
    setting: 'radius.class',
    observe: acceptedRadius('class'),
    levels: [
      { level: 'default', value: null },
      { level: 'group', value: 'vpn-staff', set: (c) => c.group({ radius: { class: 'vpn-staff' } }) },
    ],
  },
  {
    setting: 'radius.filterId',
    observe: acceptedRadius('filterId'),
    levels: [
      { level: 'default', value: null },
      {
        level: 'group',
        value: 'acl-contractors',
        set: (c) => c.group({ radius: { class: 'x', filterId: 'acl-contractors' } }),
      },
    ],
  },
  {
    setting: 'passcode.length',
    observe: async (c) => codeIn((await c.login()).text).length,
    levels: [
      { level: 'tenant', value: 6 },
      { level: 'tenant', value: 8, set: (c) => c.settings({ passcode: { length: 8 } }) },
      { level: 'group', value: 9, set: (c) => c.group({ passcode: { length: 9 } }) },
      { level: 'user', value: 10, afterUser: (c) => c.overrides({ length: 10 }) },
      { level: 'operator', value: 11, operator: { ceilings: { passcode: { minLength: 11 } } } },
    ],
  },
  {
    setting: 'passcode.alphabet',
    observe: async (c) => {
      const code = codeIn((await c.login()).text);
      return /^\d+$/.test(code) ? 'numeric' : /^[a-z]+$/.test(code) ? 'memo' : 'alphanumeric';
    },
    levels: [
      { level: 'tenant', value: 'numeric' },
      {
        level: 'tenant',
        value: 'memo',
        set: (c) => c.settings({ passcode: { alphabet: 'memo', length: 10 } }),
      },
      {
        level: 'group',
        value: 'alphanumeric',
        set: (c) => c.group({ passcode: { alphabet: 'alphanumeric' } }),
      },
      { level: 'user', value: 'memo', afterUser: (c) => c.overrides({ alphabet: 'memo', length: 10 }) },
    ],
  },
  {
    setting: 'passcode.validitySeconds',
    observe: async (c) => (Date.parse(String((await c.login()).body.expiresAt)) - clock.now()) / 1000,
    levels: [
      { level: 'tenant', value: 300 },
      { level: 'tenant', value: 600, set: (c) => c.settings({ passcode: { validitySeconds: 600 } }) },
      { level: 'group', value: 900, set: (c) => c.group({ passcode: { validitySeconds: 900 } }) },
      { level: 'user', value: 120, afterUser: (c) => c.overrides({ validitySeconds: 120 }) },
      {
        level: 'operator',
        value: 60,
        operator: { ceilings: { passcode: { maxValiditySeconds: 60 } } },
      },
    ],
  },
  {
    setting: 'passcode.maxAttempts',
    // A wrong code answers how many attempts are left.
    observe: async (c) => {
      const sent = await c.login();
      const wrong = codeIn(sent.text) === '00000000' ? '11111111' : '00000000';
      const res = await c.verify(sent.body.challengeId, wrong);
      return Number(res.body.attemptsLeft) + 1;
    },
    levels: [
      { level: 'tenant', value: 3 },
      { level: 'tenant', value: 5, set: (c) => c.settings({ passcode: { maxAttempts: 5 } }) },
      { level: 'group', value: 7, set: (c) => c.group({ passcode: { maxAttempts: 7 } }) },
      { level: 'user', value: 2, afterUser: (c) => c.overrides({ maxAttempts: 2 }) },
      { level: 'operator', value: 1, operator: { ceilings: { passcode: { maxAttempts: 1 } } } },
    ],
  },
  {
    setting: 'passcode.flash',
    observe: async (c) => (await c.login()).message?.flash,
    levels: [
      { level: 'default', value: false },
      { level: 'group', value: true, set: (c) => c.group({ passcode: { flash: true } }) },
      { level: 'user', value: true, afterUser: (c) => c.overrides({ flash: true }) },
    ],
  },
  {
    setting: 'passcode.messageTemplate',
    observe: async (c) => (await c.login()).text?.split(' ')[0],
    expected: (value) => String(value).split(' ')[0],
    levels: [
      { level: 'tenant', value: DEFAULT_TEMPLATE },
      {
        level: 'tenant',
        value: 'TENANT: code is {code}.',
        set: (c) => c.settings({ messageTemplate: 'TENANT: code is {code}.' }),
      },
      {
        level: 'group',
        value: 'GROUP: code is {code}.',
        set: (c) => c.group({ passcode: { messageTemplate: 'GROUP: code is {code}.' } }),
      },
      {
        level: 'user',
        value: 'USER: code is {code}.',
        afterUser: (c) => c.overrides({ messageTemplate: 'USER: code is {code}.' }),
      },
    ],
  },
  {
    setting: 'passcode.webOtpOrigin',
    // The last line of the SMS, with the code replaced by a placeholder.
    observe: async (c) => {
      const text = (await c.login()).text ?? '';
      const last = text.split('\n').at(-1) ?? '';
      return last.startsWith('@') ? last.replace(/#\S+$/, '#CODE').slice(1, -6) : null;
    },
    levels: [
      { level: 'default', value: null },
      {
        level: 'tenant',
        value: 'login.example.com',
        set: (c) => c.settings({ webOtpOrigin: 'login.example.com' }),
      },
      {
        level: 'group',
        value: 'vpn.example.com',
        set: async (c) => {
          await c.settings({ webOtpOrigin: 'login.example.com' });
          await c.group({ webOtpOrigin: 'vpn.example.com' });
        },
      },
      {
        level: 'group',
        value: null,
        set: async (c) => {
          await c.settings({ webOtpOrigin: 'login.example.com' });
          await c.group({ webOtpOrigin: null });
        },
      },
    ],
  },
  {
    setting: 'loadBalancingPolicyId',
    observe: async (c) => (await c.login()).message?.modemGroup,
    expected: (value) => (value === null ? 'default' : 'carrier-x'),
    levels: [
      { level: 'default', value: null },
      {
        level: 'group',
        value: 'LB',
        set: async (c) => {
          await c.admin('POST', '/v1/modem-groups', { name: 'carrier-x' });
          await c.group({}, [sms('carrier-x')]);
        },
      },
    ],
  },
  {
    setting: 'defaultModemGroup',
    observe: async (c) => (await c.login()).message?.modemGroup,
    levels: [
      { level: 'tenant', value: 'default' },
      {
        level: 'tenant',
        value: 'carrier-y',
        set: async (c) => {
          await c.admin('POST', '/v1/modem-groups', { name: 'carrier-y' });
          await c.operator({ defaultModemGroup: 'carrier-y' });
        },
      },
    ],
  },
  {
    setting: 'channels',
    // The chain is SMS then e-mail: a group that allows only e-mail starts at e-mail.
    observe: async (c) => (await c.login()).body.channel,
    expected: (value) => ((value as string[]).includes('sms_modem') ? 'sms' : 'email'),
    levels: [
      { level: 'default', value: ['sms_modem'] },
      {
        level: 'group',
        value: ['email'],
        set: async (c) => {
          await c.admin('POST', '/v1/providers', {
            name: 'mail',
            kind: 'email',
            params: { host: '127.0.0.1', port: 2525, from: 'otp@example.test', security: 'none' },
          });
          await c.group({ channels: ['email'] }, [
            sms('default'),
            { channel: 'email', target: 'email', route: 'mail', timeoutSeconds: 30 },
          ]);
        },
      },
    ],
  },
  {
    setting: 'selfService',
    // Off: the portal answers the user like an unknown name and sends nothing. On: the profile offers exactly
    // the fields the policy names.
    observe: (c) => c.portal(),
    expected: (v) => {
      const value = v as { enabled: boolean; fields: string[] };
      return { enabled: value.enabled, fields: value.enabled ? value.fields : [] };
    },
    levels: [
      { level: 'default', value: { enabled: false, fields: [] } },
      {
        level: 'group',
        value: { enabled: true, fields: ['smsType', 'mobile'] },
        set: (c) => c.group({ selfService: { enabled: true, fields: ['smsType', 'mobile'] } }),
      },
      {
        level: 'group',
        value: { enabled: false, fields: ['mobile'] },
        set: (c) => c.group({ selfService: { enabled: false, fields: ['mobile'] } }),
      },
    ],
  },
  {
    setting: 'secondaryPhone',
    // The chain starts at the secondary number: without it, at the primary one.
    observe: async (c) => (await c.login()).message?.rule.target,
    expected: (value) => (value ? 'secondary' : 'primary'),
    levels: [
      {
        level: 'group',
        value: true,
        set: (c) => c.group({ secondaryPhone: true }, [sms('default', 'secondary'), sms('default')]),
      },
      {
        level: 'group',
        value: false,
        set: (c) => c.group({ secondaryPhone: false }, [sms('default', 'secondary'), sms('default')]),
      },
    ],
  },
  {
    setting: 'security.allowPersonalPasscode',
    // The user's personal passcode is accepted in place of the sent code only when allowed.
    observe: async (c) => {
      const put = await c.admin('PUT', '/v1/personal-passcodes/ann', {
        passcode: 'Lastresort2026',
        validFrom: new Date(clock.now() - HOUR).toISOString(),
        validUntil: new Date(clock.now() + HOUR).toISOString(),
      });
      const sent = await c.login();
      const accepted = (await c.verify(sent.body.challengeId, 'Lastresort2026')).body.result === 'accept';
      // The admin who set it is told whether logins take it.
      expect(put.acceptedAtLogin).toBe(accepted);
      return accepted;
    },
    levels: [
      { level: 'default', value: false },
      {
        level: 'tenant',
        value: true,
        set: (c) => c.settings({ security: { allowPersonalPasscode: true } }),
      },
      {
        level: 'operator',
        value: false,
        set: async (c) => {
          await c.settings({ security: { allowPersonalPasscode: true } });
          await c.operator({ ceilings: { allowPersonalPasscode: false } });
        },
      },
    ],
  },
  {
    setting: 'pin.required',
    // A user with a PIN types only the sent code: refused exactly when a PIN is required.
    observe: async (c) => {
      await c.user('ann', { pin: hashPin('739146') });
      const sent = await c.login();
      const alone = await c.verify(sent.body.challengeId, codeIn(sent.text));
      const both = await c.verify(sent.body.challengeId, `739146${codeIn(sent.text)}`);
      expect(alone.body.result === 'accept' || both.body.result === 'accept').toBe(true);
      return alone.body.result !== 'accept';
    },
    levels: [
      { level: 'default', value: false },
      { level: 'tenant', value: true, set: (c) => c.settings({ security: { pin: { required: true } } }) },
      { level: 'group', value: true, set: (c) => c.group({ pin: { required: true } }) },
      { level: 'operator', value: true, operator: { ceilings: { pin: { required: true } } } },
    ],
  },
  {
    setting: 'pin.minLength',
    // The shortest PIN the portal lets the user set.
    observe: async (c) => {
      if (!c.groupId) {
        await c.group({ selfService: { enabled: true, fields: ['pin'] } });
        await c.user();
      }
      const session = await c.portalSession();
      for (const pin of ['2580', '25803', '258031', '2580316', '25803169']) {
        const res = await portal.request('/v1/self/pin', {
          method: 'PUT',
          headers: { authorization: `Bearer ${session}`, 'content-type': 'application/json' },
          body: JSON.stringify({ pin }),
        });
        if (res.status === 200) return pin.length;
      }
      return -1;
    },
    levels: [
      { level: 'default', value: 4 },
      {
        level: 'tenant',
        value: 6,
        set: async (c) => {
          await c.settings({ security: { pin: { minLength: 6 } } });
        },
      },
      {
        level: 'group',
        value: 5,
        set: (c) => c.group({ pin: { minLength: 5 }, selfService: { enabled: true, fields: ['pin'] } }),
      },
      { level: 'operator', value: 8, operator: { ceilings: { pin: { minLength: 8 } } } },
    ],
  },
  {
    setting: 'security.bindClientIp',
    // The right code from another client IP.
    observe: async (c) => {
      const sent = await c.login('ann', '203.0.113.7');
      const res = await c.verify(sent.body.challengeId, codeIn(sent.text), '198.51.100.9');
      return res.body.result !== 'accept';
    },
    levels: [
      { level: 'default', value: false },
      { level: 'tenant', value: true, set: (c) => c.settings({ security: { bindClientIp: true } }) },
    ],
  },
  {
    setting: 'security.allowedCountries',
    // The user's number is Danish: a tenant that sends only to Sweden sends nothing (and answers alike).
    observe: async (c) => {
      const sent = await c.login();
      expect(sent.status).toBe(201);
      return sent.message ? 'DK sent' : 'refused';
    },
    expected: (value) => ((value as string[]).includes('DK') ? 'DK sent' : 'refused'),
    levels: [
      { level: 'operator', value: ['DK', 'SE'] },
      {
        level: 'tenant',
        value: ['SE'],
        set: (c) => c.settings({ security: { allowedCountries: ['SE'] } }),
      },
      {
        level: 'operator',
        value: ['SE'],
        set: (c) => c.operator({ allowedCountries: ['SE'] }),
      },
    ],
  },
  {
    setting: 'lockout.maxFailures',
    // Wrong codes until the user is locked: how many it took.
    observe: async (c) => {
      for (let failures = 0; failures < 20; ) {
        const sent = await c.login();
        if (sent.status === 423) return failures;
        for (let i = 0; i < 3; i++) {
          const res = await c.verify(sent.body.challengeId, '00000000');
          if (res.status === 423 || res.body.reason === 'locked') break;
          failures++;
        }
      }
      return -1;
    },
    // The guess that reaches the threshold locks without being counted as answered.
    expected: (value) => Number(value) - 1,
    levels: [
      { level: 'default', value: 10 },
      { level: 'tenant', value: 4, set: (c) => c.settings({ security: { lockout: { maxFailures: 4 } } }) },
      { level: 'operator', value: 2, operator: { ceilings: { lockout: { maxFailures: 2 } } } },
    ],
  },
  {
    setting: 'lockout.lockSeconds',
    // Locked after the failures, a new challenge says when to come back.
    observe: async (c) => {
      await c.settings({ security: { lockout: { maxFailures: 1 } } });
      const sent = await c.login();
      await c.verify(sent.body.challengeId, '00000000');
      return Number((await c.login()).headers.get('retry-after'));
    },
    levels: [
      { level: 'default', value: 900 },
      {
        level: 'tenant',
        value: 120,
        set: (c) => c.settings({ security: { lockout: { lockSeconds: 120 } } }),
      },
      {
        level: 'operator',
        value: 1800,
        operator: { ceilings: { lockout: { minLockSeconds: 1800 } } },
      },
    ],
  },
  {
    setting: 'limits.windowSeconds',
    // One challenge per window: the second says when the window ends (the clock is 1 s into the hour).
    observe: async (c) => {
      await c.settings({ security: { limits: { perUser: 1 } } });
      await c.login();
      return Number((await c.login()).headers.get('retry-after')) + 1;
    },
    levels: [
      { level: 'default', value: 60 },
      {
        level: 'tenant',
        value: 3600,
        set: (c) => c.settings({ security: { limits: { windowSeconds: 3600 } } }),
      },
      {
        level: 'operator',
        value: 1200,
        operator: { ceilings: { limits: { minWindowSeconds: 1200 } } },
      },
    ],
  },
  ...(['perUser', 'perDestination', 'perClientIp', 'perTenant'] as const).map(
    (limit): Row => ({
      setting: `limits.${limit}`,
      // Challenges that share only what this limit counts (the user, the number, the client IP, the tenant),
      // until one is refused: how many got through.
      observe: async (c) => {
        for (let n = 0; n < 12; n++) {
          const username = limit === 'perUser' ? 'ann' : n === 0 ? 'ann' : `u${n}`;
          if (n > 0 && limit !== 'perUser')
            await c.user(
              username,
              limit === 'perDestination' ? {} : { mobile: `+45201${String(n).padStart(5, '0')}` },
            );
          const ip = limit === 'perClientIp' ? '203.0.113.7' : `203.0.113.${n + 10}`;
          if ((await c.login(username, ip)).status === 429) return n;
        }
        return -1;
      },
      levels: [
        { level: 'tenant', value: 2, set: (c) => c.settings({ security: { limits: { [limit]: 2 } } }) },
        { level: 'operator', value: 3, operator: { ceilings: { limits: { [limit]: 3 } } } },
      ],
    }),
  ),
];

describe('every setting effective-settings shows changes what a login does', () => {
  it('has a row in this table for every setting, and every row has cases', async () => {
    const c = await new Case().open();
    await c.user();
    const body = await c.admin('GET', '/v1/users/ann/effective-settings');
    expect(Object.keys(body.settings).sort()).toEqual(ROWS.map((r) => r.setting).sort());
    for (const row of ROWS) expect(row.levels.length, row.setting).toBeGreaterThan(0);
  });

  for (const row of ROWS)
    for (const level of row.levels)
      it(`${row.setting} at ${level.level} level (${JSON.stringify(level.value)})`, async () => {
        offset = 0;
        const c = await new Case().open(level.operator);
        await level.set?.(c);
        await c.user();
        await level.afterUser?.(c);
        const shown = await c.effective(row.setting);
        // A load-balancing policy's id is generated; the row's value names its role.
        if (row.setting === 'loadBalancingPolicyId' && level.value !== null)
          expect(shown).toEqual({ value: expect.any(String), from: level.level });
        else expect(shown).toEqual({ value: level.value, from: level.level });
        const expected = row.expected ? row.expected(level.value) : level.value;
        expect(await row.observe(c, level.value)).toEqual(expected);
      });

  it('shows a change on one level as a change in what is sent, not only in effective-settings', async () => {
    // The same tenant, before and after: the hands-on finding (group length 8, user 10 and a template, yet
    // every SMS was 6 digits in the tenant's template) cannot come back.
    const c = await new Case().open();
    await c.group({ passcode: { length: 8 } });
    await c.user();
    expect(codeIn((await c.login()).text)).toHaveLength(8);
    await c.overrides({ length: 10, alphabet: 'memo', messageTemplate: 'CODE {code} code is {code}.' });
    const text = (await c.login()).text ?? '';
    expect(text.startsWith('CODE ')).toBe(true);
    expect(codeIn(text)).toMatch(/^[a-z]{10}$/);
  });
});
