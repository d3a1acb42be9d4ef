/**
 * The RADIUS front driven by FreeRADIUS's radclient (and a raw UDP client for what radclient cannot send),
 * on 127.0.0.1, against the real local stack: challenges go through the auth API, SMS through the edge agent
 * to the simulated modems, and the passcode is read from the simulator's outbox as a user reads her phone.
 *
 * The first factor is the LDAP-bind kind with the bind given here (the AD connector's is wired at the agent):
 * a directory of a few users and passwords.
 */
import { readFileSync } from 'node:fs';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../edge-agent/log.ts';
import { AuthApi } from '../../edge-agent/radius/auth-api.ts';
import { Attr, attributes, Code, checkReply, encodeRequest, text } from '../../edge-agent/radius/codec.ts';
import {
  CloudPasswordCheck,
  type FirstFactor,
  LdapBindFirstFactor,
} from '../../edge-agent/radius/first-factor.ts';
import { type RadiusServer, startRadiusServer } from '../../edge-agent/radius/server.ts';
import { userItem } from '../../functions/adapters/dynamo/keys.ts';
import { createLogger as createCloudLogger } from '../../functions/adapters/log.ts';
import { DEFAULT_PASSCODE } from '../../functions/core/passcode.ts';
import { localDynamo } from '../../functions/local/aws-local.ts';
import { type LocalStack, startLocalStack, TABLE_NAME } from '../../functions/local/stack.ts';
import {
  accessRequest,
  attr,
  decodeReply,
  haveRadclient,
  RADCLIENT_MISSING,
  RawClient,
  radclient,
} from '../support/radius.ts';

if (!haveRadclient) {
  if (process.env.REQUIRE_PEERS === '1') {
    it('has radclient installed (REQUIRE_PEERS=1)', () => {
      throw new Error(RADCLIENT_MISSING);
    });
  } else {
    console.warn(`skipping the RADIUS tests: ${RADCLIENT_MISSING}`);
  }
}

const SECRET = 'gw-shared-secret-1';
const LONG_PASSWORD = 'correct horse battery staple, and then some';
/** The directory the first factor binds against: username → password. */
const directory = new Map<string, string>();
/** Users whose bind takes this long (a slow domain controller), to make gateways retransmit. */
const slowBinds = new Map<string, number>();
const bind = async (username: string, password: string) => {
  const wait = slowBinds.get(username);
  if (wait) await new Promise((r) => setTimeout(r, wait));
  if (directory.get(username) !== password)
    throw Object.assign(
      new Error('80090308: LdapErr: DSID-0C09044E, comment: AcceptSecurityContext error, data 52e, v4563'),
      {
        code: 49,
      },
    );
};

let stack: LocalStack;
let offset = 0;
const servers: RadiusServer[] = [];
/** The main front: Message-Authenticator required, challenge/response, accounting on a port of its own. */
let main: RadiusServer;
/** A front for an old gateway that sends no Message-Authenticator. */
let legacy: RadiusServer;
/** A front whose gateway does single-step logins. */
let single: RadiusServer;
let serial = 0;
/** Challenge ids in the order their first step was queued (the tests run one at a time). */
const dispatched: string[] = [];

async function front(
  client: Record<string, unknown>,
  accounting = false,
  firstFactor: FirstFactor = new LdapBindFirstFactor(bind),
): Promise<RadiusServer> {
  const server = await startRadiusServer({
    host: '127.0.0.1',
    port: 0,
    accountingPort: accounting ? 0 : undefined,
    clients: [
      {
        name: 'vpn-gw-1',
        address: '127.0.0.0/8',
        secret: SECRET,
        requireMessageAuthenticator: true,
        singleStep: false,
        passcodeLength: 6,
        ...client,
      },
    ],
    firstFactor,
    api: new AuthApi({ apiUrl: stack.json.apiUrl, authKey: stack.json.authKey }),
    log: createLogger({ level: 'warn' }),
    now: () => Date.now() + offset,
  });
  servers.push(server);
  return server;
}

beforeAll(async () => {
  stack = await startLocalStack({
    log: createCloudLogger({}, { level: 'warn' }),
    tap: {
      dispatchBatch: (event) => {
        for (const r of event.Records)
          dispatched.push((JSON.parse(r.body) as { challengeId: string }).challengeId);
      },
    },
  });
  main = await front({}, true);
  legacy = await front({ requireMessageAuthenticator: false });
  single = await front({ singleStep: true });
}, 60_000);
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  await stack?.stop();
});

/** A user of the demo tenant with a number of their own, so limits and lockouts of one test touch no other. */
async function newUser(
  password = 'Passw0rd!',
  groupPolicyId?: string,
): Promise<{ username: string; mobile: string; password: string }> {
  const n = ++serial;
  const username = `rad${n}`;
  const mobile = `+45211${String(n).padStart(5, '0')}`;
  await localDynamo(stack.dynamoEndpoint).send(
    new PutItemCommand({
      TableName: TABLE_NAME,
      Item: marshall({
        ...userItem(stack.json.tenantId, username),
        tenantId: stack.json.tenantId,
        username,
        mobile,
        mobileType: 'mobile',
        secondaryMobile: null,
        email: `${username}@corp.example.test`,
        ...(groupPolicyId && { groupPolicyId }),
      }),
    }),
  );
  directory.set(username, password);
  return { username, mobile, password };
}

interface OutboxLine {
  to: string;
  text: string;
}
const outbox = (): OutboxLine[] => {
  try {
    return readFileSync(stack.json.simulator.outbox, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as OutboxLine);
  } catch {
    return [];
  }
};
const smsTo = (mobile: string) => outbox().filter((l) => l.to === mobile);

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The passcode of the `nth` SMS (1-based) to the number. */
const passcodeFor = async (mobile: string, nth = 1) => {
  const line = await until(`SMS ${nth} to ${mobile}`, () => smsTo(mobile)[nth - 1]);
  return /code is (\d+)/.exec(line.text)![1]!;
};

const signed = (lines: string[]) => [...lines, 'Message-Authenticator = 0x00'];
const leg1 = (user: { username: string; password: string }, extra: string[] = []) =>
  radclient(
    main.address.port,
    'auth',
    SECRET,
    signed([`User-Name = "${user.username}"`, `User-Password = "${user.password}"`, ...extra]),
  );
const leg2 = (username: string, passcode: string, state: string, server = main) =>
  radclient(
    server.address.port,
    'auth',
    SECRET,
    signed([`User-Name = "${username}"`, `User-Password = "${passcode}"`, `State = ${state}`]),
  );

/** Waits for a sign that the stack finished sending for the user; then no SMS in the outbox means none sent. */
async function settled(): Promise<void> {
  const witness = await newUser();
  const reply = await leg1(witness);
  expect(reply.code).toBe('Access-Challenge');
  await passcodeFor(witness.mobile);
}

describe.skipIf(!haveRadclient)('RADIUS front with radclient', () => {
  it('logs a user in with challenge/response, Calling-Station-Id in the SMS', async () => {
    const user = await newUser();
    const first = await leg1(user, ['Calling-Station-Id = "203.0.113.9"']);
    expect(first.code).toBe('Access-Challenge');
    expect(attr(first, 'Reply-Message')).toMatch(/^Enter the passcode sent to \+45 /);
    const state = attr(first, 'State')!;
    expect(state).toMatch(/^0x[0-9a-f]{36}$/);
    // radclient checks the Response Authenticator and the Message-Authenticator; the latter comes first
    expect(first.attributes[0]?.[0]).toBe('Message-Authenticator');
    const sms = await until('the SMS', () => smsTo(user.mobile)[0]);
    expect(sms.text).toContain('Login from 203.0.113.9 via vpn-gw-1');
    const code = await passcodeFor(user.mobile);

    const second = await leg2(user.username, code, state);
    expect(second.code).toBe('Access-Accept');
    expect(second.attributes[0]?.[0]).toBe('Message-Authenticator');
    expect(smsTo(user.mobile)).toHaveLength(1);
  });

  it("sends the group policy's Class and Filter-Id in the Access-Accept", async () => {
    const admin = (path: string, body: unknown) =>
      fetch(`${stack.json.apiUrl}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${stack.json.adminKey}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const policy = {
      name: 'VPN contractors',
      loadBalancingPolicyId: null,
      channels: ['sms_modem'],
      selfService: { enabled: false, fields: [] },
      secondaryPhone: false,
    };
    const bad = await admin('/v1/group-policies', { ...policy, radius: { class: 'x'.repeat(254) } });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(await bad.json())).toContain('radius.class');
    const made = await admin('/v1/group-policies', {
      ...policy,
      radius: { class: 'contractors', filterId: 'acl-contractors' },
    });
    expect(made.status).toBe(201);
    const { id } = (await made.json()) as { id: string };
    const user = await newUser('Passw0rd!', id);
    const first = await leg1(user);
    const code = await passcodeFor(user.mobile);
    const second = await leg2(user.username, code, attr(first, 'State')!);
    expect(second.code).toBe('Access-Accept');
    expect(second.attributes.map(([name]) => name)).toEqual(['Message-Authenticator', 'Class', 'Filter-Id']);
    expect(attr(second, 'Class')).toBe('0x636f6e74726163746f7273');
    expect(attr(second, 'Filter-Id')).toBe('acl-contractors');
  });

  it('rejects a wrong passcode, and the State is then spent', async () => {
    const user = await newUser();
    const first = await leg1(user);
    const state = attr(first, 'State')!;
    const code = await passcodeFor(user.mobile);
    const wrong = code === '000000' ? '111111' : '000000';
    const second = await leg2(user.username, wrong, state);
    expect(second.code).toBe('Access-Reject');
    expect(attr(second, 'Reply-Message')).toBe('Wrong passcode.');
    const again = await leg2(user.username, code, state);
    expect(again.code).toBe('Access-Reject');
    expect(attr(again, 'Reply-Message')).toBe('The login has expired. Log in again.');
  });

  it('rejects a wrong first-factor password at once, and sends no SMS', async () => {
    const user = await newUser();
    const before = main.stats.challenges;
    const reply = await leg1({ username: user.username, password: 'not-the-password' });
    expect(reply.code).toBe('Access-Reject');
    expect(attr(reply, 'State')).toBeUndefined();
    expect(main.stats.challenges).toBe(before);
    await settled();
    expect(smsTo(user.mobile)).toEqual([]);
  });

  it('drops a request signed with a wrong shared secret', async () => {
    const user = await newUser();
    const dropped = main.stats.dropped.bad_message_authenticator ?? 0;
    const reply = await radclient(
      main.address.port,
      'auth',
      'not-the-secret',
      signed([`User-Name = "${user.username}"`, `User-Password = "${user.password}"`]),
      { timeout: 0.5, retries: 1 },
    );
    expect(reply.code).toBeUndefined();
    expect(main.stats.dropped.bad_message_authenticator).toBe(dropped + 1);
    await settled();
    expect(smsTo(user.mobile)).toEqual([]);
  });

  it('drops a request without Message-Authenticator where it is required, answers it where not', async () => {
    const user = await newUser();
    const unsigned = [`User-Name = "${user.username}"`, `User-Password = "${user.password}"`];
    const refused = await radclient(main.address.port, 'auth', SECRET, unsigned, {
      timeout: 0.5,
      retries: 1,
    });
    expect(refused.code).toBeUndefined();
    expect(main.stats.dropped.missing_message_authenticator).toBeGreaterThan(0);
    const old = await radclient(legacy.address.port, 'auth', SECRET, unsigned);
    expect(old.code).toBe('Access-Challenge');
    // the reply carries one all the same
    expect(old.attributes[0]?.[0]).toBe('Message-Authenticator');
    await passcodeFor(user.mobile);
    expect(smsTo(user.mobile)).toHaveLength(1);
  });

  it('answers radclient retransmits from the cache: one reply, one SMS', async () => {
    const user = await newUser();
    slowBinds.set(user.username, 1500);
    const duplicates = main.stats.duplicates;
    const reply = await radclient(
      main.address.port,
      'auth',
      SECRET,
      signed([`User-Name = "${user.username}"`, `User-Password = "${user.password}"`]),
      { timeout: 0.4, retries: 6 },
    );
    expect(reply.code).toBe('Access-Challenge');
    expect(main.stats.duplicates).toBeGreaterThan(duplicates);
    await passcodeFor(user.mobile);
    await settled();
    expect(smsTo(user.mobile)).toHaveLength(1);
  });

  it('gives the same packet sent twice from one port the same reply bytes, and sends one SMS', async () => {
    const user = await newUser();
    const client = await RawClient.open();
    try {
      const { datagram, authenticator } = accessRequest(SECRET, user.username, user.password);
      await client.send(main.address.port, datagram);
      await client.send(main.address.port, datagram);
      const [a, b] = await client.receive(2);
      expect(a && b).toBeTruthy();
      expect(b!.equals(a!)).toBe(true);
      expect(checkReply(a!, authenticator, Buffer.from(SECRET))).toBe(true);
      expect(decodeReply(a!).code).toBe(Code.AccessChallenge);
      // once more after the answer: still from the cache
      await client.send(main.address.port, datagram);
      const [c] = await client.receive(1);
      expect(c!.equals(a!)).toBe(true);
      await passcodeFor(user.mobile);
      await settled();
      expect(smsTo(user.mobile)).toHaveLength(1);
    } finally {
      client.close();
    }
  });

  it('answers Status-Server, and drops one without Message-Authenticator', async () => {
    const reply = await radclient(main.address.port, 'status', SECRET, ['Message-Authenticator = 0x00']);
    expect(reply.code).toBe('Access-Accept');
    const client = await RawClient.open();
    try {
      const bare = encodeRequest(Code.StatusServer, 7, Buffer.alloc(16, 9), [], Buffer.from(SECRET), {
        messageAuthenticator: false,
      });
      await client.send(main.address.port, bare);
      expect(await client.receive(1, 500)).toEqual([]);
      const good = encodeRequest(Code.StatusServer, 8, Buffer.alloc(16, 9), [], Buffer.from(SECRET));
      await client.send(main.address.port, good);
      const [answer] = await client.receive(1);
      expect(checkReply(answer!, Buffer.alloc(16, 9), Buffer.from(SECRET))).toBe(true);
    } finally {
      client.close();
    }
  });

  it('drops malformed packets and keeps serving', async () => {
    const client = await RawClient.open();
    const key = Buffer.from(SECRET);
    const status = () => encodeRequest(Code.StatusServer, 1, Buffer.alloc(16, 1), [], key);
    const withLength = (b: Buffer, n: number) => {
      const copy = Buffer.from(b);
      copy.writeUInt16BE(n, 2);
      return copy;
    };
    const appended = (tail: number[]) => {
      const b = Buffer.concat([status(), Buffer.from(tail)]);
      return withLength(b, b.length);
    };
    const random4096 = Buffer.from(Array.from({ length: 4096 }, () => Math.floor(Math.random() * 256)));
    const bad = [
      withLength(status(), status().length + 10), // length past the datagram
      withLength(status(), 19), // under the minimum
      withLength(Buffer.concat([status(), Buffer.alloc(4100)]), 4097), // over the maximum
      status().subarray(0, 12), // shorter than a header
      appended([Attr.ReplyMessage, 0]), // attribute length 0
      appended([Attr.ReplyMessage, 1]), // attribute length 1
      appended([Attr.ReplyMessage, 9, 65, 66]), // truncated attribute
      random4096,
    ];
    try {
      for (const datagram of bad) await client.send(main.address.port, datagram);
      expect(await client.receive(1, 500)).toEqual([]);
      expect(main.stats.dropped.length_past_datagram).toBeGreaterThan(0);
      expect(main.stats.dropped.attribute_too_short).toBeGreaterThanOrEqual(2);
      await client.send(main.address.port, status());
      expect(await client.receive(1)).toHaveLength(1);
      const user = await newUser();
      expect((await leg1(user)).code).toBe('Access-Challenge');
    } finally {
      client.close();
    }
  });

  it('copies Proxy-State unchanged and in order into every reply, Rejects included', async () => {
    const user = await newUser();
    const client = await RawClient.open();
    const proxy = [text('first-proxy'), Buffer.from([0, 1, 2, 255]), text('third')];
    const extra = proxy.map((value) => ({ type: Attr.ProxyState, value }));
    try {
      const wrong = accessRequest(SECRET, user.username, 'wrong-password', extra);
      await client.send(main.address.port, wrong.datagram);
      const [reject] = await client.receive(1);
      expect(decodeReply(reject!).code).toBe(Code.AccessReject);
      expect(attributes(decodeReply(reject!), Attr.ProxyState)).toEqual(proxy);
      expect(decodeReply(reject!).attributes[0]?.type).toBe(Attr.MessageAuthenticator);
      expect(checkReply(reject!, wrong.authenticator, Buffer.from(SECRET))).toBe(true);

      const right = accessRequest(SECRET, user.username, user.password, extra);
      await client.send(main.address.port, right.datagram);
      const [challenge] = await client.receive(1);
      const c = decodeReply(challenge!);
      expect(c.code).toBe(Code.AccessChallenge);
      expect(attributes(c, Attr.ProxyState)).toEqual(proxy);
      const state = attributes(c, Attr.State)[0]!;

      const code = await passcodeFor(user.mobile);
      const done = accessRequest(SECRET, user.username, code, [{ type: Attr.State, value: state }, ...extra]);
      await client.send(main.address.port, done.datagram);
      const [accept] = await client.receive(1);
      expect(decodeReply(accept!).code).toBe(Code.AccessAccept);
      expect(attributes(decodeReply(accept!), Attr.ProxyState)).toEqual(proxy);
      expect(checkReply(accept!, done.authenticator, Buffer.from(SECRET))).toBe(true);
    } finally {
      client.close();
    }
  });

  it('takes a User-Password over 16 characters (chained blocks)', async () => {
    const user = await newUser(LONG_PASSWORD);
    const reply = await leg1(user);
    expect(reply.code).toBe('Access-Challenge');
    const code = await passcodeFor(user.mobile);
    expect((await leg2(user.username, code, attr(reply, 'State')!)).code).toBe('Access-Accept');
  });

  it('ties the State to its user: another name is refused, and the State is spent', async () => {
    const alice = await newUser();
    const mallory = await newUser();
    const first = await leg1(alice);
    const state = attr(first, 'State')!;
    const code = await passcodeFor(alice.mobile);
    expect((await leg2(mallory.username, code, state)).code).toBe('Access-Reject');
    expect((await leg2(alice.username, code, state)).code).toBe('Access-Reject');
  });

  it('spends one of the challenge’s attempts on a State offered under another name', async () => {
    const alice = await newUser();
    const mallory = await newUser();
    const before = dispatched.length;
    const first = await leg1(alice);
    const challengeId = await until('the dispatch', () =>
      dispatched.length > before ? dispatched.at(-1) : undefined,
    );
    const code = await passcodeFor(alice.mobile);
    const wrong = code === '000000' ? '111111' : '000000';
    expect((await leg2(mallory.username, wrong, attr(first, 'State')!)).code).toBe('Access-Reject');
    // asked through the API: the guess under mallory's name was counted against alice's challenge
    const res = await fetch(`${stack.json.apiUrl}/v1/challenges/${challengeId}/verify`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.json.authKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ passcode: wrong }),
    });
    expect(await res.json()).toEqual({
      result: 'reject',
      reason: 'wrong',
      attemptsLeft: DEFAULT_PASSCODE.maxAttempts - 2,
    });
  });

  it('takes one guess per State: a second try with the same State is refused unasked', async () => {
    const user = await newUser();
    const first = await leg1(user);
    const state = attr(first, 'State')!;
    const code = await passcodeFor(user.mobile);
    const wrong = code === '000000' ? '111111' : '000000';
    const replies: string[] = [];
    // the same State is refused after its first use, whatever comes with it
    for (let i = 0; i < 3; i++) replies.push(attr(await leg2(user.username, wrong, state), 'Reply-Message')!);
    expect(replies).toEqual([
      'Wrong passcode.',
      'The login has expired. Log in again.',
      'The login has expired. Log in again.',
    ]);
  });

  it('refuses a State past its challenge’s expiry', async () => {
    const user = await newUser();
    const first = await leg1(user);
    const state = attr(first, 'State')!;
    const code = await passcodeFor(user.mobile);
    const timeout = Number(attr(first, 'Session-Timeout'));
    expect(timeout).toBeGreaterThan(0);
    offset = (timeout + 1) * 1000;
    try {
      const late = await leg2(user.username, code, state);
      expect(late.code).toBe('Access-Reject');
      expect(attr(late, 'Reply-Message')).toBe('The login has expired. Log in again.');
    } finally {
      offset = 0;
    }
  });

  it('does not answer while the password cannot be checked, so the gateway fails over; no SMS', async () => {
    const user = await newUser();
    // nothing listens on the discard port: the password check API is unreachable
    const cut = await front(
      {},
      false,
      new CloudPasswordCheck({ apiUrl: 'http://127.0.0.1:9', authKey: 'k' }),
    );
    const reply = await radclient(
      cut.address.port,
      'auth',
      SECRET,
      signed([`User-Name = "${user.username}"`, `User-Password = "${user.password}"`]),
      { timeout: 1, retries: 1 },
    );
    expect(reply.code).toBeUndefined();
    expect(cut.stats.challenges).toBe(0);
    await settled();
    expect(smsTo(user.mobile)).toEqual([]);
  });

  it('acknowledges accounting, on the accounting port and on the auth port', async () => {
    const lines = ['Acct-Status-Type = Start', 'Acct-Session-Id = "s-1"', 'User-Name = "someone"'];
    const a = await radclient(main.address.accountingPort!, 'acct', SECRET, lines);
    expect(a.code).toBe('Accounting-Response');
    const b = await radclient(main.address.port, 'acct', SECRET, lines);
    expect(b.code).toBe('Accounting-Response');
    expect(main.stats.accounting).toBeGreaterThanOrEqual(2);
    const wrong = await radclient(main.address.accountingPort!, 'acct', 'not-the-secret', lines, {
      timeout: 0.5,
      retries: 1,
    });
    expect(wrong.code).toBeUndefined();
  });

  it('does single-step logins only where the client is set so: password+passcode, sent in advance', async () => {
    const user = await newUser();
    const signedFor = (password: string) =>
      signed([`User-Name = "${user.username}"`, `User-Password = "${password}"`]);
    // the default front: a password alone gets a challenge, never a Reject with a passcode sent
    const challenge = await radclient(main.address.port, 'auth', SECRET, signedFor(user.password));
    expect(challenge.code).toBe('Access-Challenge');
    const first = await passcodeFor(user.mobile, 1);
    // ...and password+passcode there is a wrong password: Reject, no SMS
    const joined = await radclient(main.address.port, 'auth', SECRET, signedFor(`${user.password}${first}`));
    expect(joined.code).toBe('Access-Reject');

    // single-step: the password alone sends a passcode in advance and asks to log in again with both
    const ask = await radclient(single.address.port, 'auth', SECRET, signedFor(user.password));
    expect(ask.code).toBe('Access-Reject');
    expect(attr(ask, 'Reply-Message')).toMatch(/password followed by the passcode/);
    const advance = await passcodeFor(user.mobile, 2);
    const wrongPassword = await radclient(single.address.port, 'auth', SECRET, signedFor(`nope${advance}`));
    expect(wrongPassword.code).toBe('Access-Reject');
    const ok = await radclient(single.address.port, 'auth', SECRET, signedFor(`${user.password}${advance}`));
    expect(ok.code).toBe('Access-Accept');
    // the next login's passcode is on its way already
    const next = await passcodeFor(user.mobile, 3);
    const again = await radclient(single.address.port, 'auth', SECRET, signedFor(`${user.password}${next}`));
    expect(again.code).toBe('Access-Accept');
    // a used passcode does not log in twice
    const replay = await radclient(single.address.port, 'auth', SECRET, signedFor(`${user.password}${next}`));
    expect(replay.code).toBe('Access-Reject');
  });
});
