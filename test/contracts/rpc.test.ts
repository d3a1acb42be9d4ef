import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseRpcRequest, rpcRequest, rpcSealContext } from '../../functions/contracts/rpc.ts';
import { open, Sealed, SealedError, seal } from '../../functions/contracts/sealed.ts';

const agentKey = () => generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const now = new Date('2026-11-30T10:00:00Z');
const later = new Date('2026-11-30T10:00:30Z');

describe('sealed secrets', () => {
  it('opens only with the recipient key and the same context', () => {
    const a = agentKey();
    const b = agentKey();
    const ctx = rpcSealContext('req_12345678', 'ad.setPassword', 'newPassword');
    const sealed = seal(a.publicKey, 'Pässwörd "quoted" 1!', ctx);
    expect(Sealed.parse(sealed)).toEqual(sealed);
    expect(JSON.stringify(sealed)).not.toContain('Pässwörd');
    expect(open(a.privateKey, sealed, ctx)).toBe('Pässwörd "quoted" 1!');
    expect(() => open(b.privateKey, sealed, ctx)).toThrow(SealedError);
    expect(() =>
      open(a.privateKey, sealed, rpcSealContext('req_87654321', 'ad.setPassword', 'newPassword')),
    ).toThrow(SealedError);
    const tampered = { ...sealed, ct: `${sealed.ct.slice(0, -2)}AA` };
    expect(() => open(a.privateKey, tampered, ctx)).toThrow(SealedError);
    const badPoint = { ...sealed, epk: 'B'.repeat(87) };
    expect(() => open(a.privateKey, badPoint, ctx)).toThrow(SealedError);
  });

  it('accepts a PEM recipient and refuses a key that is not P-256', () => {
    const a = agentKey();
    const pem = a.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(open(a.privateKey, seal(pem, 'x', 'c'), 'c')).toBe('x');
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
    expect(() => seal(rsa.publicKey, 'x', 'c')).toThrow(SealedError);
  });
});

describe('RPC requests', () => {
  const key = agentKey();
  const good = () =>
    rpcRequest('ad.checkPassword', 'req_12345678', later, {
      username: 'alice',
      password: seal(key.publicKey, 'pw', rpcSealContext('req_12345678', 'ad.checkPassword', 'password')),
    });

  it('parses a good request', () => {
    const r = parseRpcRequest(JSON.parse(JSON.stringify(good())), now);
    expect(r.ok).toBe(true);
  });

  it.each([
    ['a newer version', { v: 2 }, 'unsupported_version'],
    ['an unknown method', { method: 'ad.dropTables' }, 'unknown_method'],
    ['an expired request', { expiresAt: '2026-11-30T09:59:59Z' }, 'expired'],
    ['bad params', { params: { username: '' } }, 'invalid_params'],
  ])('refuses %s with a stable code and the id to answer', (_what, patch, code) => {
    const r = parseRpcRequest({ ...good(), ...patch }, now);
    expect(r).toMatchObject({ ok: false, id: 'req_12345678', error: { code } });
  });

  it('gives no id to answer when the message is too broken', () => {
    expect(parseRpcRequest('nonsense', now)).toMatchObject({ ok: false, id: undefined });
    expect(parseRpcRequest({ id: 'x/../y' }, now)).toMatchObject({ ok: false, id: undefined });
  });
});
