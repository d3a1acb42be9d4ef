/**
 * Console sessions and admin sign-in against dynalite: idle and absolute ends, rotation, sign-out, a cookie
 * that names another tenant, and the sign-in defences under a burst of wrong guesses.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyFileCredentialCipher } from '../../functions/adapters/credentials/key-file-cipher.ts';
import { DynamoWebSessionStore } from '../../functions/adapters/dynamo/web-session-store.ts';
import { MAX_FAILURES, SignInError } from '../../functions/core/admin-accounts.ts';
import { base32Decode, totp } from '../../functions/core/channels/totp.ts';
import { WebSessions } from '../../functions/core/web-sessions.ts';
import { adminAccounts } from '../../functions/web-deps.ts';
import { type CloudFixture, startCloud, TABLE } from '../support/cloud.ts';

let t: CloudFixture;
let now = Date.parse('2026-01-05T09:00:00Z');
const clock = { now: () => now };

beforeAll(async () => {
  t = await startCloud();
});
afterAll(async () => t?.close());

describe('web sessions', () => {
  const sessions = () =>
    new WebSessions(new DynamoWebSessionStore(t.dynamo, TABLE), clock, {
      kind: 'admin',
      idleSeconds: 900,
      absoluteSeconds: 8 * 3600,
    });

  it('ends after the idle time, and at the absolute end however busy', async () => {
    const s = sessions();
    const idle = await s.start('acme', { who: 'a' });
    now += 899_000;
    expect(await s.load(idle.cookieValue)).toBeDefined();
    now += 900_000;
    expect(await s.load(idle.cookieValue)).toBeUndefined();

    const busy = await s.start('acme', { who: 'b' });
    for (let i = 0; i < 40; i++) {
      now += 12 * 60_000;
      if (i < 39) expect(await s.load(busy.cookieValue)).toBeDefined();
    }
    expect(await s.load(busy.cookieValue)).toBeUndefined();
  });

  it('keeps only a hash: a cookie with another tenant, a forged id or after sign-out opens nothing', async () => {
    const s = sessions();
    const one = await s.start('acme', { who: 'a' });
    const id = one.cookieValue.split('.')[1]!;
    expect(await s.load(`globex.${id}`)).toBeUndefined();
    expect(await s.load(`acme.${'A'.repeat(43)}`)).toBeUndefined();
    expect(await s.load('acme.')).toBeUndefined();
    await s.end(one.cookieValue);
    expect(await s.load(one.cookieValue)).toBeUndefined();
  });

  it('compares CSRF tokens in full', async () => {
    const one = await sessions().start('acme', {});
    expect(WebSessions.csrfMatches(one, one.csrf)).toBe(true);
    expect(WebSessions.csrfMatches(one, one.csrf.slice(0, -1))).toBe(false);
    expect(WebSessions.csrfMatches(one, undefined)).toBe(false);
  });
});

describe('admin sign-in', () => {
  const accounts = () =>
    adminAccounts({
      dynamo: t.dynamo,
      table: TABLE,
      log: t.log,
      clock,
      cipher: KeyFileCredentialCipher.fromDirectory(mkdtempSync(join(tmpdir(), 'smspass-web-'))),
    });

  it('answers an unknown address, a wrong password and a locked account alike', async () => {
    const service = accounts();
    await service.create('test', { email: 'ann@acme.example.test', role: 'tenant_admin', tenantId: 'acme' });
    const messages = await Promise.all(
      ['nobody@acme.example.test', 'ann@acme.example.test'].map((email) =>
        service
          .checkPassword(email, 'not the password', `10.0.0.${email.length}`)
          .catch((e: SignInError) => e.message),
      ),
    );
    expect(messages[0]).toBe(messages[1]);
  });

  it('refuses every guess of a burst of 100, then holds the lock against the right password', async () => {
    const service = accounts();
    const made = await service.create('test', {
      email: 'bob@acme.example.test',
      role: 'tenant_admin',
      tenantId: 'acme',
    });
    const results = await Promise.allSettled(
      Array.from({ length: 100 }, (_, i) =>
        service.checkPassword(made.account.email, `wrong-${i}`, `10.1.${i}.1`),
      ),
    );
    const refusals = results.map((r) => (r.status === 'rejected' ? (r.reason as Error).name : 'accepted'));
    // Rate limits per account (10 a minute) or the lock answer the rest; none is accepted.
    expect(refusals.every((r) => r === 'SignInError' || r === 'RateLimitedError')).toBe(true);
    now += 61_000;
    await expect(service.checkPassword(made.account.email, made.password, '10.9.9.9')).rejects.toThrow(
      SignInError,
    );
    now += 16 * 60_000;
    const who = await service.checkPassword(made.account.email, made.password, '10.9.9.9');
    expect(who.role).toBe('tenant_admin');
    expect(MAX_FAILURES).toBeLessThanOrEqual(10);
  });

  it('accepts a TOTP code once', async () => {
    const service = accounts();
    const made = await service.create('test', {
      email: 'cy@acme.example.test',
      role: 'auditor',
      tenantId: 'acme',
    });
    const code = totp(base32Decode(made.totp.secret), now);
    expect((await service.checkCode(made.account.email, code, '10.2.0.1')).role).toBe('auditor');
    await expect(service.checkCode(made.account.email, code, '10.2.0.1')).rejects.toThrow(SignInError);
  });
});
