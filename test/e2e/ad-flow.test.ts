/**
 * Cloud, edge agent and Active Directory together, nothing played by the test: the local stack, a Samba AD DC,
 * and an edge agent enrolled with the real CLI (`edge-agent enroll`, then `edge-agent run` as a child process)
 * whose configuration has an `ad` section pointing at the DC and a `radius` section whose first factor is
 * `cloud`. The agent logs in to the broker with its enrolled certificate, opens sealed passwords with its
 * enrolled key, syncs the DC's users into the stack, and sends SMS through a simulated modem whose outbox the
 * test reads as a user reads her phone.
 *
 * - `POST /v1/password-checks` reaches the agent and binds against Samba; wrong passwords count in the lockout.
 * - The self-service password reset sets `unicodePwd` in Samba; AD's refusal reaches the user in plain words.
 * - RADIUS with the `cloud` first factor: radclient → the agent's front → the cloud's password check → the
 *   agent's AD RPC → Samba, then the challenge and its SMS.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, InvalidCredentialsError } from 'ldapts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningSimulator, startSimulator } from '../../edge-agent/simulator/server.ts';
import { createLogger } from '../../functions/adapters/log.ts';
import { RESET_REFUSALS } from '../../functions/contracts/password.ts';
import { type LocalStack, startLocalStack } from '../../functions/local/stack.ts';
import { domainConfig } from '../edge-agent/ad/support.ts';
import { attr, haveRadclient, RADCLIENT_MISSING, radclient } from '../support/radius.ts';
import { type SambaDc, sambaAvailable, startSambaDc } from '../support/samba.ts';

const CLI = path.join(import.meta.dirname, '..', '..', 'edge-agent', 'cli.ts');
const AGENT_ID = 'ad-branch';
const RADIUS_SECRET = 'ad-flow-gateway-secret';
const PERSONAL = 'Personal2026';

/** The users in AD, each with a test of its own, so one test's lockout or reset touches no other. */
const USERS = {
  erin: { password: 'Erin-Pass-1!', mobile: '+4520610001' },
  frank: { password: 'Frank-Pass-1!', mobile: '+4520610002' },
  gina: { password: 'Gina-Pass-1!', mobile: '+4520610003' },
  hank: { password: 'Hank-Pass-1!', mobile: '+4520610004' },
  ivy: { password: 'Ivy-Pass-1!', mobile: '+4520610005' },
  judy: { password: 'Judy-Pass-1!', mobile: '+4520610006' },
  // over 16 octets (chained User-Password blocks) and not ASCII, all the way to a bind in UTF-16LE
  kim: { password: 'Kím-Pässwörd-über-sechzehn!', mobile: '+4520610007' },
  max: { password: 'Max-Pass-1!', mobile: '+4520610008' },
  lou: { password: 'Lou-Pass-1!', mobile: '+4520610009' },
};
type Name = keyof typeof USERS;
const GINA_NEW = 'Gina-N3w-Pässword!';

const runs = sambaAvailable(it);
if (runs && !haveRadclient) {
  if (process.env.REQUIRE_PEERS === '1')
    it('has radclient installed (REQUIRE_PEERS=1)', () => {
      throw new Error(RADCLIENT_MISSING);
    });
  else console.warn(`skipping the RADIUS part of the AD flow: ${RADCLIENT_MISSING}`);
}

let dc: SambaDc;
let stack: LocalStack;
let sim: RunningSimulator;
let dir: string;
let outbox: string;
let radiusPort: number;
let agent: ChildProcess | undefined;
/** Everything the agent process wrote: checked for passwords and passcodes at the end. */
let agentOutput = '';

async function until<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${agentOutput.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// biome-ignore lint/suspicious/noExplicitAny: replies are asserted field by field in the tests
type Json = Record<string, any>;
async function call(method: string, route: string, key: string | undefined, body?: unknown) {
  const res = await fetch(`${stack.json.apiUrl}${route}`, {
    method,
    headers: {
      ...(key && { authorization: `Bearer ${key}` }),
      ...(body !== undefined && { 'content-type': 'application/json' }),
    },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as Json };
}
const admin = (method: string, route: string, body?: unknown) =>
  call(method, route, stack.json.adminKey, body);
const passwordCheck = (username: string, password: string) =>
  call('POST', '/v1/password-checks', stack.json.authKey, { username, password });

const smsTo = (mobile: string): string[] => {
  let lines: string[] = [];
  try {
    lines = readFileSync(outbox, 'utf8').split('\n').filter(Boolean);
  } catch {
    return [];
  }
  return lines
    .map((l) => JSON.parse(l) as { to: string; text: string })
    .filter((m) => m.to === mobile)
    .map((m) => m.text);
};
/** The passcode of the `nth` SMS (1-based) to the number. */
const passcodeFor = async (mobile: string, nth = 1) => {
  const text = await until(`SMS ${nth} to ${mobile}`, () => smsTo(mobile)[nth - 1]);
  return /code is (\d+)/.exec(text)![1]!;
};

/** A bind as the user straight against Samba: the truth the flows must leave behind. */
async function bindsInSamba(name: Name, password: string): Promise<boolean> {
  const client = new Client({ url: dc.ldapsUrl, tlsOptions: { ca: dc.caPem } });
  try {
    await client.bind(dc.userDn(name), password);
    return true;
  } catch (err) {
    if (err instanceof InvalidCredentialsError) return false;
    throw err;
  } finally {
    await client.unbind().catch(() => {});
  }
}

/** A UDP port nobody uses right now, for the agent's RADIUS front. */
async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
  const { port } = socket.address();
  await new Promise<void>((r) => socket.close(() => r()));
  return port;
}

function cli(args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
    agentOutput += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
    agentOutput += d.toString();
  });
  const done = new Promise<{ code: number | null; out: string }>((resolve) =>
    child.once('exit', (code) => resolve({ code, out })),
  );
  return { child, done };
}

beforeAll(async () => {
  if (!runs) return;
  dir = await mkdtemp(path.join(tmpdir(), 'ad-flow-e2e-'));
  outbox = path.join(dir, 'outbox.jsonl');
  [dc, stack, sim] = await Promise.all([
    startSambaDc({
      users: Object.entries(USERS).map(([name, u]) => ({ name, password: u.password, mobile: u.mobile })),
      groups: [{ name: 'VPN Users', members: Object.keys(USERS) }],
    }),
    // no demo agent: the tenant's only agent is the one enrolled here
    startLocalStack({ edge: false, log: createLogger({}, { level: 'error' }) }),
    startSimulator({ name: 'ad-branch-modem', outboxPath: outbox, sendDelayMs: 1 }),
  ]);
  const group = dc.groupDn('VPN Users');

  const settings = await admin('PATCH', '/v1/settings', {
    security: {
      lockout: { maxFailures: 3, lockSeconds: 600 },
      limits: { perUser: 1000, perClientIp: 100_000 },
    },
  });
  expect(settings.status, JSON.stringify(settings.body)).toBe(200);
  const gp = await admin('POST', '/v1/group-policies', {
    name: 'VPN users',
    loadBalancingPolicyId: null,
    channels: ['sms_modem'],
    selfService: { enabled: false, fields: [] },
    secondaryPhone: false,
  });
  expect(gp.status, JSON.stringify(gp.body)).toBe(201);
  const ip = await admin('POST', '/v1/integration-policies', {
    domain: dc.dnsDomain,
    groupDn: group,
    groupPolicyId: gp.body.id,
    priority: 1,
  });
  expect(ip.status, JSON.stringify(ip.body)).toBe(201);

  const registered = await admin('POST', '/v1/agents', {
    agentId: AGENT_ID,
    displayName: 'AD branch',
    modemGroups: ['default'],
  });
  expect(registered.status, JSON.stringify(registered.body)).toBe(201);
  const yaml = path.join(dir, 'etc', 'config.yaml');
  const enrolled = await cli([
    'enroll',
    '--url',
    stack.json.apiUrl,
    '--token',
    registered.body.enrolment.token,
    '--config',
    yaml,
    '--modem',
    `default=${sim.url}`,
  ]).done;
  expect(enrolled.code, enrolled.out).toBe(0);

  // what an administrator adds to the enrolled file: the AD domain and a RADIUS front for the VPN gateway
  const config = (await import('yaml')).default.parse(await readFile(yaml, 'utf8')) as Json;
  radiusPort = await freeUdpPort();
  config.ad = {
    domains: [domainConfig(dc, [group])],
    sync: { apiUrl: stack.json.apiUrl, key: stack.json.syncKey, intervalMinutes: 0 },
  };
  config.radius = {
    host: '127.0.0.1',
    port: radiusPort,
    firstFactor: 'cloud',
    api: { url: stack.json.apiUrl, authKey: stack.json.authKey },
    clients: [{ name: 'vpn-gw', address: '127.0.0.1', secret: RADIUS_SECRET }],
  };
  config.log = { ...config.log, level: 'debug' };
  const json = path.join(dir, 'etc', 'config.json');
  await writeFile(json, JSON.stringify(config, null, 2), { mode: 0o600 });

  agent = cli(['run', '--config', json]).child;
  await until('the agent online with its modem', async () => {
    const shown = await admin('GET', `/v1/agents/${AGENT_ID}`);
    return shown.body.state === 'online' && shown.body.modems?.[0]?.healthy === true;
  });

  // the console's sync-now, over the RPC topic; then the users are in the cloud with their domain
  const sync = await admin('POST', `/v1/agents/${AGENT_ID}/sync`, { mode: 'full' });
  expect(sync.body, JSON.stringify(sync.body)).toEqual({ agentId: AGENT_ID, started: true });
  await until('the synced users', async () => {
    const page = await admin('GET', '/v1/users?limit=100');
    const names = (page.body.users as Array<{ username: string }>).map((u) => u.username);
    return Object.keys(USERS).every((n) => names.includes(n));
  });
}, 180_000);

afterAll(async () => {
  if (agent && agent.exitCode === null) {
    const exited = new Promise((r) => agent!.once('exit', r));
    agent.kill('SIGTERM');
    await exited;
  }
  await Promise.allSettled([sim?.close(), stack?.stop(), dc?.stop()]);
  if (dir) await rm(dir, { recursive: true, force: true });
  if (runs) {
    // the agent handled every password and passcode of this file: none of them may be in what it wrote
    for (const u of Object.values(USERS)) expect(agentOutput).not.toContain(u.password);
    expect(agentOutput).not.toContain(GINA_NEW);
    expect(agentOutput).not.toMatch(/code is \d/);
  }
}, 60_000);

describe.skipIf(!runs)('password check through the agent against Samba', () => {
  it('takes the right password, refuses a wrong one', async () => {
    expect(await passwordCheck('erin', USERS.erin.password)).toEqual({
      status: 200,
      body: { result: 'valid' },
    });
    expect(await passwordCheck('erin', 'Not-Erins-1!')).toEqual({
      status: 200,
      body: { result: 'invalid', attemptsLeft: 2 },
    });
    // the right one clears the count
    expect((await passwordCheck('erin', USERS.erin.password)).body).toEqual({ result: 'valid' });
  });

  it('locks the user after the limit of wrong passwords, then refuses even the right one unasked', async () => {
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await passwordCheck('frank', `Wrong-${i}-pw!`));
    expect(results.map((r) => r.status)).toEqual([200, 200, 423, 423]);
    expect(results[0]!.body).toEqual({ result: 'invalid', attemptsLeft: 2 });
    expect(results[2]!.body.error.code).toBe('user_locked');
    expect((await admin('GET', '/v1/lockouts/frank')).body).toMatchObject({ locked: true });
    const right = await passwordCheck('frank', USERS.frank.password);
    expect(right.status).toBe(423);
    // the lock is the service's, not AD's: Samba still takes the password
    expect(await bindsInSamba('frank', USERS.frank.password)).toBe(true);
  });
});

describe.skipIf(!runs)('self-service password reset through the agent into Samba', () => {
  it('resets with personal passcode and SMS passcode; AD refuses a short password in plain words', async () => {
    const set = await admin('PUT', '/v1/personal-passcodes/gina', {
      passcode: PERSONAL,
      validFrom: new Date(Date.now() - 60_000).toISOString(),
      validUntil: new Date(Date.now() + 3600_000).toISOString(),
    });
    expect(set.status, JSON.stringify(set.body)).toBe(200);
    const started = await call('POST', '/v1/self/password-reset', undefined, {
      tenant: stack.json.tenantId,
      username: 'gina',
      personalPasscode: PERSONAL,
    });
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    const { resetId } = started.body;
    const code = await passcodeFor(USERS.gina.mobile);
    const verified = await call('POST', `/v1/self/password-reset/${resetId}/verify`, undefined, {
      passcode: code,
    });
    expect(verified.body).toEqual({ result: 'accept' });

    const short = await call('POST', `/v1/self/password-reset/${resetId}/password`, undefined, {
      newPassword: 'Ab1!',
    });
    expect(short.status, JSON.stringify(short.body)).toBe(422);
    expect(short.body.error).toMatchObject({
      code: 'password_policy',
      reason: 'too_short',
      message: RESET_REFUSALS.too_short,
    });
    expect(await bindsInSamba('gina', USERS.gina.password)).toBe(true);

    const changed = await call('POST', `/v1/self/password-reset/${resetId}/password`, undefined, {
      newPassword: GINA_NEW,
    });
    expect(changed, JSON.stringify(changed.body)).toEqual({ status: 200, body: { result: 'changed' } });
    expect(await bindsInSamba('gina', GINA_NEW)).toBe(true);
    expect(await bindsInSamba('gina', USERS.gina.password)).toBe(false);
    // and through the cloud, as the RADIUS front and the portal ask
    expect((await passwordCheck('gina', GINA_NEW)).body).toEqual({ result: 'valid' });
    expect((await passwordCheck('gina', USERS.gina.password)).body).toMatchObject({ result: 'invalid' });
  }, 60_000);
});

describe.skipIf(!runs || !haveRadclient)('RADIUS with the cloud first factor against Samba', () => {
  const signed = (lines: string[]) => [...lines, 'Message-Authenticator = 0x00'];
  /** radclient reads `\` in a quoted value as an escape. */
  const quoted = (value: string) => `"${value.replace(/\\/g, '\\\\')}"`;
  const leg1 = (name: string, password: string) =>
    radclient(
      radiusPort,
      'auth',
      RADIUS_SECRET,
      signed([`User-Name = ${quoted(name)}`, `User-Password = ${quoted(password)}`]),
      { timeout: 10, retries: 1 },
    );
  const leg2 = (name: string, passcode: string, state: string) =>
    radclient(
      radiusPort,
      'auth',
      RADIUS_SECRET,
      signed([`User-Name = ${quoted(name)}`, `User-Password = "${passcode}"`, `State = ${state}`]),
      { timeout: 10, retries: 1 },
    );

  it('checks the AD password through the cloud, challenges, and accepts the SMS passcode', async () => {
    const first = await leg1('hank', USERS.hank.password);
    expect(first.code).toBe('Access-Challenge');
    expect(attr(first, 'Reply-Message')).toMatch(/^Enter the passcode sent to \+45 /);
    const code = await passcodeFor(USERS.hank.mobile);
    expect((await leg2('hank', code, attr(first, 'State')!)).code).toBe('Access-Accept');
    expect(smsTo(USERS.hank.mobile)).toHaveLength(1);
  });

  it('rejects a wrong AD password at once, sends no SMS, and counts it in the lockout', async () => {
    const reply = await leg1('ivy', 'Not-Ivys-1!');
    expect(reply.code).toBe('Access-Reject');
    expect(attr(reply, 'State')).toBeUndefined();
    expect((await admin('GET', '/v1/lockouts/ivy')).body).toMatchObject({ locked: false, failures: 1 });
    // a witness's SMS through the same single modem: had ivy been sent one, it would be out by then
    const witness = await leg1('judy', USERS.judy.password);
    expect(witness.code).toBe('Access-Challenge');
    await passcodeFor(USERS.judy.mobile);
    expect(smsTo(USERS.ivy.mobile)).toEqual([]);
  });

  it('takes a long, non-ASCII AD password through the chained blocks and the sealed RPC', async () => {
    const first = await leg1('kim', USERS.kim.password);
    expect(first.code).toBe('Access-Challenge');
  });

  it('locks out after the limit of wrong RADIUS passwords: the right one is then refused, no SMS', async () => {
    const wrong = [];
    for (let i = 0; i < 3; i++) wrong.push(await leg1('max', `Wrong-${i}-pw!`));
    expect(wrong.map((r) => r.code)).toEqual(['Access-Reject', 'Access-Reject', 'Access-Reject']);
    const right = await leg1('max', USERS.max.password);
    expect(right.code).toBe('Access-Reject');
    expect(attr(right, 'Reply-Message')).toBe('Too many attempts. Try again later.');
    expect((await admin('GET', '/v1/lockouts/max')).body).toMatchObject({ locked: true });
    const witness = await leg1('judy', USERS.judy.password);
    expect(witness.code).toBe('Access-Challenge');
    await passcodeFor(USERS.judy.mobile, 2);
    expect(smsTo(USERS.max.mobile)).toEqual([]);
  });

  it('logs in a domain-qualified name when the tenant stores UPNs (CORP\\lou → lou@corp.example.test)', async () => {
    const policy = await admin('PUT', '/v1/settings/usernames', {
      format: 'upn',
      accept: ['upn', 'netbios', 'sAMAccountName'],
      defaultDomain: dc.dnsDomain,
    });
    expect(policy.status, JSON.stringify(policy.body)).toBe(200);
    // the next sync stores the users under their new names
    const sync = await admin('POST', `/v1/agents/${AGENT_ID}/sync`, { mode: 'full' });
    expect(sync.body).toEqual({ agentId: AGENT_ID, started: true });
    await until('the users renamed to UPNs', async () => {
      const page = await admin('GET', '/v1/users?limit=100');
      return (page.body.users as Array<{ username: string }>).some(
        (u) => u.username === 'lou@corp.example.test',
      );
    });
    expect((await passwordCheck('lou@corp.example.test', USERS.lou.password)).body).toEqual({
      result: 'valid',
    });
    expect((await passwordCheck('lou', USERS.lou.password)).body).toEqual({ result: 'valid' });
    const first = await leg1('CORP\\lou', USERS.lou.password);
    expect(first.code).toBe('Access-Challenge');
    const code = await passcodeFor(USERS.lou.mobile);
    expect((await leg2('CORP\\lou', code, attr(first, 'State')!)).code).toBe('Access-Accept');
  }, 60_000);
});
