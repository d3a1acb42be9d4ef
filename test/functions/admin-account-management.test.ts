/**
 * Console accounts against dynalite and fauxqs: the operator API and the first-operator CLI make accounts with
 * set-up links; a link is spent once however many use it at once, and its authenticator codes are few; an SMS
 * second factor goes out through the product's own challenge path and holds its limits; a tenant admin
 * manages their own tenant's admins only; every change leaves an audit entry.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminAccountManager, adminSmsCodes } from '../../functions/admin-account-deps.ts';
import { main as adminCli } from '../../functions/cli/admin-command.ts';
import { DispatchMessage } from '../../functions/contracts/queue.ts';
import { type AccountActor, setUpPath } from '../../functions/core/admin-account-management.ts';
import {
  type AdminAccountService,
  MAX_FAILURES,
  SETUP_MAX_ATTEMPTS,
  SetUpLinkError,
  SignInError,
} from '../../functions/core/admin-accounts.ts';
import { base32Decode, totp } from '../../functions/core/channels/totp.ts';
import { openDispatchPayload } from '../../functions/core/dispatch.ts';
import { DomainError } from '../../functions/core/errors.ts';
import { buildChallengeService } from '../../functions/deps.ts';
import { ensureTable } from '../../functions/local/dynamo.ts';
import { adminAccounts } from '../../functions/web-deps.ts';
import { TABLE } from '../support/cloud.ts';
import { type DirectoryFixture, startDirectory } from '../support/directory.ts';

let t: DirectoryFixture;
let accounts: AdminAccountService;
let OP: string;
const PASSWORD = 'correct horse battery staple';

beforeAll(async () => {
  t = await startDirectory();
  OP = t.seed.keys.operator;
  const ctx = { dynamo: t.dynamo, table: TABLE, log: t.log, cipher: t.cipher };
  accounts = adminAccounts(
    ctx,
    adminSmsCodes(buildChallengeService({ ...ctx, keys: t.keys, sqs: t.sqs, dispatchQueueUrl: t.queueUrl })),
  );
});
afterAll(async () => t?.close());

const op = (method: string, path: string, body?: unknown, key = OP) =>
  t.call(t.operator, method, path, key, body);
const tokenOf = (url: string) => new URL(url).searchParams.get('token')!;

/** The code an SMS would carry: from the sealed dispatch message. */
async function smsCode(): Promise<string> {
  const bodies = await t.drainQueue();
  expect(bodies).toHaveLength(1);
  const { text } = openDispatchPayload(t.keys, DispatchMessage.parse(JSON.parse(bodies[0]!)));
  return /code is (\d+)/.exec(text)![1]!;
}

async function invite(body: Record<string, unknown>) {
  const made = await op('POST', '/v1/operator/admin-accounts', body);
  expect(made.status).toBe(201);
  return { account: made.body.account, token: tokenOf(made.body.setUpUrl as string) };
}

const settled = async <T>(work: Array<Promise<T>>) =>
  (await Promise.allSettled(work)).map((r) =>
    r.status === 'fulfilled' ? 'ok' : r.reason instanceof DomainError ? r.reason.code : String(r.reason),
  );
const count = (results: string[]) =>
  results.reduce<Record<string, number>>((acc, r) => {
    acc[r] = (acc[r] ?? 0) + 1;
    return acc;
  }, {});

describe('the operator API and a set-up link', () => {
  it('makes a tenant admin with SMS codes, who sets a password and signs in with a code sent once', async () => {
    const made = await op('POST', '/v1/operator/admin-accounts', {
      email: 'Dana@Acme.example.test',
      role: 'tenant_admin',
      tenantId: 'acme',
      secondFactor: 'sms',
      smsUsername: 'alice',
    });
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({
      account: {
        email: 'dana@acme.example.test',
        role: 'tenant_admin',
        tenantId: 'acme',
        secondFactor: 'sms',
        sms: { tenantId: 'acme', username: 'alice' },
        state: 'pending',
      },
      setUpUrl: expect.stringMatching(/^http:\/\/localhost\/admin\/set-up\?token=[\w-]{43}$/),
    });
    const token = tokenOf(made.body.setUpUrl);
    // Nothing to sign in with before the set-up: the password step refuses as for an unknown address.
    await expect(accounts.checkPassword('dana@acme.example.test', '', '198.51.100.1')).rejects.toThrow(
      SignInError,
    );
    const view = await accounts.setUpView(token);
    expect(view).toMatchObject({ email: 'dana@acme.example.test', secondFactor: 'sms' });
    expect(view.totp).toBeUndefined();
    await expect(
      accounts.completeSetUp(token, { password: 'short', confirm: 'short' }),
    ).rejects.toMatchObject({
      code: 'invalid_request',
    });
    await accounts.completeSetUp(token, { password: PASSWORD, confirm: PASSWORD });
    await expect(accounts.setUpView(token)).rejects.toThrow(SetUpLinkError);

    await t.drainQueue();
    const who = await accounts.checkPassword('dana@acme.example.test', PASSWORD, '198.51.100.1');
    const step = await accounts.startSecondStep(who.email, '198.51.100.1');
    expect(step).toMatchObject({ factor: 'sms', destination: expect.stringContaining('••') });
    const challengeId = step.factor === 'sms' ? step.challengeId : '';
    const code = await smsCode();
    // A code is for its own challenge only, and good once.
    await expect(accounts.checkCode(who.email, code, '198.51.100.1', 'no-such-challenge')).rejects.toThrow(
      SignInError,
    );
    expect(await accounts.checkCode(who.email, code, '198.51.100.1', challengeId)).toEqual({
      email: 'dana@acme.example.test',
      role: 'tenant_admin',
      tenantId: 'acme',
    });
    await expect(accounts.checkCode(who.email, code, '198.51.100.1', challengeId)).rejects.toThrow(
      SignInError,
    );

    const list = await op('GET', '/v1/operator/admin-accounts?tenantId=acme');
    expect(list.body.items).toEqual([
      expect.objectContaining({ email: 'dana@acme.example.test', state: 'active' }),
    ]);
  });

  it('refuses bad input with a stable code, and the API without the operator key', async () => {
    const bad = await op('POST', '/v1/operator/admin-accounts', { email: 'x@y.example', role: 'boss' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('invalid_request');
    const noUser = await op('POST', '/v1/operator/admin-accounts', {
      email: 'eve@acme.example.test',
      role: 'tenant_admin',
      tenantId: 'acme',
      secondFactor: 'sms',
      smsUsername: 'nobody',
    });
    expect(noUser.status).toBe(400);
    expect(noUser.body.error.message).toMatch(/smsUsername: tenant acme has no user nobody/);
    const noTenant = await op('POST', '/v1/operator/admin-accounts', {
      email: 'eve@acme.example.test',
      role: 'auditor',
      tenantId: 'no-such-tenant',
    });
    expect(noTenant.body.error.code).toBe('not_found');
    const withAdminKey = await op('GET', '/v1/operator/admin-accounts', undefined, t.seed.keys.admin);
    expect(withAdminKey.status).toBe(403);
  });

  it('spends one set-up link once, whatever the number of uses at once', async () => {
    const { token } = await invite({
      email: 'race@acme.example.test',
      role: 'auditor',
      tenantId: 'acme',
      secondFactor: 'sms',
      smsUsername: 'bob',
    });
    const results = await settled(
      Array.from({ length: 200 }, (_, i) =>
        accounts.completeSetUp(token, { password: `${PASSWORD} ${i}`, confirm: `${PASSWORD} ${i}` }),
      ),
    );
    expect(count(results)).toEqual({ ok: 1, token_expired: 199 });
    // The one password that landed is the only one that signs in.
    const winner = results.indexOf('ok');
    await expect(
      accounts.checkPassword('race@acme.example.test', `${PASSWORD} ${winner}`, '198.51.100.2'),
    ).resolves.toMatchObject({ role: 'auditor' });
  }, 120_000);

  it('lets a set-up link try a few authenticator codes, however many arrive at once', async () => {
    const { token } = await invite({
      email: 'totp@globex.example.test',
      role: 'tenant_admin',
      tenantId: 'globex',
    });
    const view = await accounts.setUpView(token);
    // A reload shows the same seed: the app enrolled from the first look keeps working.
    expect((await accounts.setUpView(token)).totp!.secret).toBe(view.totp!.secret);
    const seedOf = base32Decode(view.totp!.secret);
    const right = totp(seedOf, Date.now());
    // A code no step near the clock gives.
    const near = [-1, 0, 1].map((s) => totp(seedOf, Date.now() + s * 30_000));
    const wrong = ['000000', '111111', '222222', '333333'].find((c) => !near.includes(c))!;
    const results = await settled(
      Array.from({ length: 200 }, () => accounts.completeSetUp(token, { password: PASSWORD, code: wrong })),
    );
    expect(count(results)).toEqual({
      wrong_code: SETUP_MAX_ATTEMPTS,
      token_expired: 200 - SETUP_MAX_ATTEMPTS,
    });
    await expect(accounts.completeSetUp(token, { password: PASSWORD, code: right })).rejects.toThrow(
      SetUpLinkError,
    );
    // A reset makes a new link; the authenticator from it signs in, its set-up code only once.
    const reset = await op('POST', '/v1/operator/admin-accounts/totp@globex.example.test/reset');
    expect(reset.status).toBe(200);
    const fresh = tokenOf(reset.body.setUpUrl);
    const seed = base32Decode((await accounts.setUpView(fresh)).totp!.secret);
    const code = totp(seed, Date.now());
    await accounts.completeSetUp(fresh, { password: PASSWORD, confirm: PASSWORD, code });
    await accounts.checkPassword('totp@globex.example.test', PASSWORD, '198.51.100.3');
    await expect(accounts.checkCode('totp@globex.example.test', code, '198.51.100.3')).rejects.toThrow(
      SignInError,
    );
  }, 120_000);

  it('holds the SMS code limit against hundreds of wrong codes at once', async () => {
    const { token } = await invite({
      email: 'storm@acme.example.test',
      role: 'tenant_admin',
      tenantId: 'acme',
      secondFactor: 'sms',
      smsUsername: 'bob',
    });
    await accounts.completeSetUp(token, { password: PASSWORD, confirm: PASSWORD });
    await t.drainQueue();
    await accounts.checkPassword('storm@acme.example.test', PASSWORD, '198.51.100.4');
    const step = await accounts.startSecondStep('storm@acme.example.test', '198.51.100.4');
    const challengeId = step.factor === 'sms' ? step.challengeId : '';
    const code = await smsCode();
    const wrong =
      code === '00000000'.slice(0, code.length) ? '9'.repeat(code.length) : '0'.repeat(code.length);
    const results = await settled(
      Array.from({ length: 300 }, (_, i) =>
        accounts.checkCode('storm@acme.example.test', wrong, `203.0.113.${i % 250}`, challengeId),
      ),
    );
    expect(results).not.toContain('ok');
    // Five wrong steps lock the account: the right code, typed now, is refused too (as locked, or by the
    // per-account rate limit if the burst is still in its minute).
    await expect(
      accounts.checkCode('storm@acme.example.test', code, '198.51.100.4', challengeId),
    ).rejects.toThrow(/wrong, or the account is locked|Too many requests/);
    const audit = await t.dir.audit.list('acme', { limit: 100 });
    expect(
      audit.entries.some((e) => e.action === 'admin.locked' && e.target === 'admin:storm@acme.example.test'),
    ).toBe(true);
    expect(MAX_FAILURES).toBeLessThan(300);
  }, 120_000);
});

describe('who may manage whom', () => {
  const manager = () => adminAccountManager({ dynamo: t.dynamo, table: TABLE });
  const acmeAdmin: AccountActor = {
    role: 'tenant_admin',
    tenantId: 'acme',
    actor: 'admin:boss@acme.example.test',
    email: 'boss@acme.example.test',
  };

  it('lets a tenant admin manage their own tenant’s admins and auditors only', async () => {
    const m = manager();
    const own = await m.invite(acmeAdmin, { email: 'aud@acme.example.test', role: 'auditor' });
    expect(own.account).toMatchObject({ tenantId: 'acme', role: 'auditor', state: 'pending' });
    await expect(
      m.invite(acmeAdmin, { email: 'x@globex.example.test', role: 'tenant_admin', tenantId: 'globex' }),
    ).rejects.toMatchObject({ code: 'forbidden' });
    await expect(m.invite(acmeAdmin, { email: 'op2@example.test', role: 'operator' })).rejects.toMatchObject({
      code: 'forbidden',
    });
    // Another tenant's account, and an operator's, are not there for them.
    await m.invite(
      { role: 'operator', tenantId: '-', actor: 'test' },
      {
        email: 'g@globex.example.test',
        role: 'tenant_admin',
        tenantId: 'globex',
      },
    );
    await m.invite(
      { role: 'operator', tenantId: '-', actor: 'test' },
      { email: 'op@example.test', role: 'operator' },
    );
    for (const email of ['g@globex.example.test', 'op@example.test']) {
      await expect(m.setDisabled(acmeAdmin, email, true)).rejects.toMatchObject({ code: 'not_found' });
      await expect(m.resetSignIn(acmeAdmin, email)).rejects.toMatchObject({ code: 'not_found' });
    }
    await expect(m.list(acmeAdmin, 'globex')).rejects.toMatchObject({ code: 'not_found' });
    await expect(m.setDisabled(acmeAdmin, 'boss@acme.example.test', true)).rejects.toMatchObject({
      code: expect.stringMatching(/not_found|forbidden/),
    });
    const auditor: AccountActor = { role: 'auditor', tenantId: 'acme', actor: 'admin:aud@acme.example.test' };
    await expect(m.invite(auditor, { email: 'y@acme.example.test', role: 'auditor' })).rejects.toMatchObject({
      code: 'forbidden',
    });
    await expect(m.setDisabled(auditor, 'aud@acme.example.test', true)).rejects.toMatchObject({
      code: 'forbidden',
    });
    expect((await m.list(auditor, 'acme')).map((a) => a.email)).toContain('aud@acme.example.test');

    const disabled = await m.setDisabled(acmeAdmin, 'aud@acme.example.test', true);
    expect(disabled.state).toBe('disabled');
    // A disabled account's link sets nothing up.
    await expect(accounts.setUpView(own.setUp.token)).rejects.toThrow(SetUpLinkError);
    expect((await m.setDisabled(acmeAdmin, 'aud@acme.example.test', false)).state).toBe('pending');
  });

  it('audits each change, under the tenant, naming who did it', async () => {
    const m = manager();
    const made = await m.invite(acmeAdmin, { email: 'logged@acme.example.test', role: 'auditor' });
    await m.setDisabled(acmeAdmin, made.account.email, true);
    await m.setDisabled(acmeAdmin, made.account.email, false);
    const reset = await m.resetSignIn(acmeAdmin, made.account.email);
    // The first link is worthless once a reset made a new one.
    await expect(accounts.setUpView(made.setUp.token)).rejects.toThrow(SetUpLinkError);
    await accounts.completeSetUp(reset.setUp.token, {
      password: PASSWORD,
      confirm: PASSWORD,
      code: totp(base32Decode((await accounts.setUpView(reset.setUp.token)).totp!.secret), Date.now()),
    });
    const { entries } = await t.dir.audit.list('acme', { limit: 200 });
    const mine = entries
      .filter((e) => e.target === 'admin:logged@acme.example.test')
      .map((e) => `${e.action} by ${e.actor}`)
      .reverse();
    expect(mine).toEqual([
      'admin_account.created by admin:boss@acme.example.test',
      'admin_account.disabled by admin:boss@acme.example.test',
      'admin_account.enabled by admin:boss@acme.example.test',
      'admin_account.sign_in_reset by admin:boss@acme.example.test',
      'admin_account.set_up by admin:logged@acme.example.test',
    ]);
  });
});

describe('npm run admin (the first operator)', () => {
  it('makes an operator on the local stack and prints its set-up link once', async () => {
    // The local stack's table, in the same dynalite, as `npm start` leaves it for the CLI.
    await ensureTable(t.dynamo, 'smspass');
    const dir = mkdtempSync(join(tmpdir(), 'smspass-cli-'));
    writeFileSync(
      join(dir, 'stack.json'),
      JSON.stringify({ adminUrl: 'http://127.0.0.1:8787/admin', dynamoEndpoint: t.dynamoEndpoint }),
    );
    const before = process.env.SMSPASS_DATA_DIR;
    process.env.SMSPASS_DATA_DIR = dir;
    try {
      const lines: string[] = [];
      const code = await adminCli(['create-operator', '--email', 'first@ops.example.test', '--json'], (l) =>
        lines.push(l),
      );
      expect(code).toBe(0);
      const out = JSON.parse(lines.join('\n'));
      expect(out).toMatchObject({
        account: { email: 'first@ops.example.test', role: 'operator', tenantId: '-', state: 'pending' },
        setUpUrl: expect.stringMatching(/^http:\/\/127\.0\.0\.1:8787\/admin\/set-up\?token=/),
      });
      expect(out.setUpUrl).toBe(`http://127.0.0.1:8787/admin${setUpPath(tokenOf(out.setUpUrl))}`);
      // The same address again is refused; `reset` is the way to a new link.
      await expect(
        adminCli(['create-operator', '--email', 'first@ops.example.test'], () => {}),
      ).rejects.toMatchObject({
        code: 'already_exists',
      });
      const human: string[] = [];
      expect(await adminCli(['reset', '--email', 'first@ops.example.test'], (l) => human.push(l))).toBe(0);
      expect(human.join('\n')).toMatch(
        /Sign-in reset for first@ops\.example\.test[\s\S]*\/admin\/set-up\?token=/,
      );
      const listed: string[] = [];
      await adminCli(['list'], (l) => listed.push(l));
      expect(listed).toEqual(['first@ops.example.test\toperator\ttotp\tpending']);
    } finally {
      if (before === undefined) delete process.env.SMSPASS_DATA_DIR;
      else process.env.SMSPASS_DATA_DIR = before;
    }
  });
});
