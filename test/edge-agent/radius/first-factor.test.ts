/**
 * The first factor's clients. The cloud's password check API is built elsewhere: this contract test runs the
 * client against a small hono app that answers exactly as the contract says (`POST /v1/password-checks`).
 */
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CloudPasswordCheck,
  classifyBindError,
  LdapBindFirstFactor,
} from '../../../edge-agent/radius/first-factor.ts';

const KEY = 'contract-test-key';
const seen: unknown[] = [];
let url = '';
let close: () => void;

beforeAll(async () => {
  const app = new Hono();
  app.post('/v1/password-checks', async (c) => {
    if (c.req.header('authorization') !== `Bearer ${KEY}`)
      return c.json({ error: { code: 'unauthorized', message: 'No.' } }, 401);
    const body = (await c.req.json()) as { username: string; password: string };
    seen.push(body);
    switch (body.username) {
      case 'alice':
        return body.password === 'right'
          ? c.json({ result: 'valid' })
          : c.json({ result: 'invalid', attemptsLeft: 4 });
      case 'locked':
        return c.json({ error: { code: 'user_locked', message: 'Locked.' } }, 423);
      case 'busy':
        return c.json({ error: { code: 'rate_limited', message: 'Later.' } }, 429, { 'retry-after': '5' });
      case 'down':
        return c.json({ error: { code: 'directory_unavailable', message: 'No AD.' } }, 503);
      default:
        return c.text('what', 500);
    }
  });
  await new Promise<void>((resolve) => {
    const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info) => {
      url = `http://127.0.0.1:${info.port}`;
      resolve();
    });
    close = () => server.close();
  });
});
afterAll(() => close?.());

describe('CloudPasswordCheck against the password check contract', () => {
  const check = () => new CloudPasswordCheck({ apiUrl: url, authKey: KEY });
  it('sends the username, password and session facts, and reads valid and invalid', async () => {
    expect(await check().check('alice', 'right', { ip: '203.0.113.7', name: 'vpn-gw-1' })).toBe('valid');
    expect(seen.at(-1)).toEqual({
      username: 'alice',
      password: 'right',
      client: { ip: '203.0.113.7', name: 'vpn-gw-1' },
    });
    expect(await check().check('alice', 'wrong', { name: 'vpn-gw-1' })).toBe('invalid');
  });
  it('reads 423 and 429 as locked, 503 and anything else as unavailable', async () => {
    expect(await check().check('locked', 'x', {})).toBe('locked');
    expect(await check().check('busy', 'x', {})).toBe('locked');
    expect(await check().check('down', 'x', {})).toBe('unavailable');
    expect(await check().check('other', 'x', {})).toBe('unavailable');
    const problems: string[] = [];
    const badKey = new CloudPasswordCheck({
      apiUrl: url,
      authKey: 'nope',
      onProblem: (p) => problems.push(p),
    });
    expect(await badKey.check('alice', 'right', {})).toBe('unavailable');
    expect(problems).toEqual(['password check answered unexpectedly']);
  });
  it('is unavailable when nothing answers', async () => {
    const dead = new CloudPasswordCheck({ apiUrl: 'http://127.0.0.1:9', authKey: KEY, timeoutMs: 1000 });
    expect(await dead.check('alice', 'right', {})).toBe('unavailable');
  });
});

describe('LdapBindFirstFactor', () => {
  const ad49 = (data: string) =>
    Object.assign(
      new Error(
        `80090308: LdapErr: DSID-0C09044E, comment: AcceptSecurityContext error, data ${data}, v4563`,
      ),
      {
        code: 49,
      },
    );
  it("reads AD's bind failures: 775 is locked, other credential errors invalid, the rest unavailable", () => {
    expect(classifyBindError(ad49('775'))).toBe('locked');
    expect(classifyBindError(ad49('52e'))).toBe('invalid');
    expect(classifyBindError(ad49('533'))).toBe('invalid');
    expect(
      classifyBindError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })),
    ).toBe('unavailable');
  });
  it('never binds with an empty password (that would be an anonymous bind, which succeeds)', async () => {
    let binds = 0;
    const first = new LdapBindFirstFactor(async () => {
      binds++;
    });
    expect(await first.check('alice', '')).toBe('invalid');
    expect(binds).toBe(0);
    expect(await first.check('alice', 'pw')).toBe('valid');
  });
});
