/**
 * The agent's AD RPC handlers against a real Samba AD DC: password check by bind, password reset by unicodePwd,
 * AD's refusals in plain language, and the contract's refusals (version, method, expiry, a secret sealed for
 * another agent).
 */
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AdRpcHandler, createAdRpcHandler } from '../../../edge-agent/ad/rpc.ts';
import { createLogger } from '../../../edge-agent/log.ts';
import { LdapBindFirstFactor } from '../../../edge-agent/radius/first-factor.ts';
import { type RpcMethod, rpcSealContext } from '../../../functions/contracts/rpc.ts';
import { seal } from '../../../functions/contracts/sealed.ts';
import { type SambaDc, sambaAvailable, startSambaDc } from '../../support/samba.ts';
import { adConfig, domainConfig } from './support.ts';

const runs = sambaAvailable(it);

const OLD = 'Old-Pass-1!x';
const NEW = 'N3w-Pässword!2';

describe.skipIf(!runs)('AD RPC handlers against Samba', () => {
  let dc: SambaDc;
  const agentKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const otherKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const logLines: string[] = [];
  const log = createLogger({ level: 'debug', write: (l) => logLines.push(l) });
  let handle: AdRpcHandler;
  let n = 0;

  const request = (method: string, params: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
    v: 1,
    id: `req-${Date.now()}-${++n}`,
    method,
    expiresAt: new Date(Date.now() + 30_000).toISOString(),
    params,
    ...extra,
  });
  const sealed = (id: string, method: RpcMethod, field: string, secret: string, key = agentKey.publicKey) =>
    seal(key, secret, rpcSealContext(id, method, field));
  const send = (body: unknown) => handle(Buffer.from(JSON.stringify(body)));
  const check = async (username: string, password: string) => {
    const r = request('ad.checkPassword', { username });
    r.params.password = sealed(r.id, 'ad.checkPassword', 'password', password);
    return send(r);
  };
  const reset = async (username: string, password: string, domain?: string) => {
    const r = request('ad.setPassword', { username, ...(domain && { domain }) });
    r.params.newPassword = sealed(r.id, 'ad.setPassword', 'newPassword', password);
    return send(r);
  };

  beforeAll(async () => {
    dc = await startSambaDc({
      users: [
        { name: 'carol', password: OLD },
        { name: 'dave', password: OLD },
        { name: 'locked', password: OLD, disabled: true },
      ],
    });
    const config = adConfig([domainConfig(dc, [dc.groupDn('Domain Users')])], undefined);
    handle = createAdRpcHandler({ config, sync: undefined, privateKey: agentKey.privateKey, log });
  });
  afterAll(async () => {
    await dc?.stop();
    const all = logLines.join('\n');
    for (const secret of [OLD, NEW, 'Sh0rt!', 'wrong-password']) expect(all).not.toContain(secret);
  });

  it('checks a password by binding as the user: right, wrong, empty', async () => {
    expect(await check('carol', OLD)).toMatchObject({ ok: true, result: { valid: true } });
    expect(await check('carol', 'wrong-password')).toMatchObject({ ok: true, result: { valid: false } });
    // an empty password would be an anonymous bind, which LDAP accepts: never "valid"
    expect(await check('carol', '')).toMatchObject({ ok: false, error: { code: 'invalid_params' } });
    expect(await check(`CORP\\carol`, OLD)).toMatchObject({ ok: true, result: { valid: true } });
    expect(await check('carol@corp.example.test', OLD)).toMatchObject({ ok: true, result: { valid: true } });
    expect(await check('nobody', OLD)).toMatchObject({ ok: false, error: { code: 'user_not_found' } });
  });

  it("binds as the user for the RADIUS front's ldap first factor, an unknown name refused like a wrong password", async () => {
    const factor = new LdapBindFirstFactor((u, p) => handle.bindAsUser(u, p));
    expect(await factor.check('carol', OLD)).toBe('valid');
    expect(await factor.check('CORP\\carol', OLD)).toBe('valid');
    expect(await factor.check('carol', 'wrong-password')).toBe('invalid');
    expect(await factor.check('nobody', OLD)).toBe('invalid');
    await expect(handle.bindAsUser('carol', '')).rejects.toMatchObject({ code: 49 });
  });

  it('resets a password: the new one binds, the old one no longer does', async () => {
    const reply = await reset('carol', NEW, 'corp.example.test');
    expect(reply).toMatchObject({ ok: true, result: { changed: true } });
    expect(await check('carol', NEW)).toMatchObject({ result: { valid: true } });
    expect(await check('carol', OLD)).toMatchObject({ result: { valid: false } });
  });

  it('passes on AD refusing a password as too short, in words the user can act on', async () => {
    const reply = await reset('dave', 'Sh0rt!');
    expect(reply).toMatchObject({
      ok: false,
      error: { code: 'password_policy', reason: 'too_short', message: expect.stringMatching(/too short/) },
    });
    if (reply?.ok === false)
      expect(reply.error.message).toBe('The new password is too short. It must have at least 7 characters.');
    expect(await check('dave', OLD)).toMatchObject({ result: { valid: true } });
  });

  it('passes on AD refusing a password as not complex enough', async () => {
    const reply = await reset('dave', 'alllowercaseletters');
    expect(reply).toMatchObject({ ok: false, error: { code: 'password_policy', reason: 'complexity' } });
  });

  it('refuses a secret sealed for another agent, or for another request', async () => {
    const r = request('ad.checkPassword', { username: 'carol' });
    r.params.password = sealed(r.id, 'ad.checkPassword', 'password', OLD, otherKey.publicKey);
    expect(await send(r)).toMatchObject({ ok: false, error: { code: 'invalid_params' } });
    const replay = request('ad.checkPassword', { username: 'carol' });
    replay.params.password = sealed('another-request-id', 'ad.checkPassword', 'password', OLD);
    expect(await send(replay)).toMatchObject({ ok: false, error: { code: 'invalid_params' } });
  });

  it('answers an unknown method, an unknown version and an expired request with their codes', async () => {
    expect(await send(request('ad.deleteUser', {}))).toMatchObject({
      ok: false,
      error: { code: 'unknown_method' },
    });
    expect(await send(request('ad.sync', { mode: 'full' }, { v: 2 }))).toMatchObject({
      ok: false,
      error: { code: 'unsupported_version' },
    });
    const expired = request(
      'ad.sync',
      { mode: 'full' },
      { expiresAt: new Date(Date.now() - 1000).toISOString() },
    );
    expect(await send(expired)).toMatchObject({ id: expired.id, ok: false, error: { code: 'expired' } });
    expect(await send(request('ad.sync', { mode: 'sometimes' }))).toMatchObject({
      ok: false,
      error: { code: 'invalid_params' },
    });
    // no AD sync section on this agent
    expect(await send(request('ad.sync', { mode: 'full' }))).toMatchObject({
      ok: false,
      error: { code: 'not_configured' },
    });
    expect(await reset('carol', NEW, 'elsewhere.example.test')).toMatchObject({
      ok: false,
      error: { code: 'not_configured' },
    });
    // too broken to answer: dropped
    expect(await handle(Buffer.from('not json'))).toBeUndefined();
    expect(await send({ hello: 'world' })).toBeUndefined();
  });

  it('reports a disabled account', async () => {
    expect(await check('locked', OLD)).toMatchObject({ ok: false, error: { code: 'account_disabled' } });
  });

  it('will not reset a password over plain LDAP', async () => {
    const config = adConfig(
      [
        domainConfig(dc, [dc.groupDn('Domain Users')], {
          dcs: [dc.url],
          startTls: false,
          allowPlainLdap: true,
        }),
      ],
      undefined,
    );
    const plain = createAdRpcHandler({ config, sync: undefined, privateKey: agentKey.privateKey, log });
    const r = request('ad.setPassword', { username: 'dave' });
    r.params.newPassword = sealed(r.id, 'ad.setPassword', 'newPassword', NEW);
    expect(await plain(Buffer.from(JSON.stringify(r)))).toMatchObject({
      ok: false,
      error: { code: 'not_configured', message: expect.stringMatching(/LDAPS or StartTLS/) },
    });
  });
});
