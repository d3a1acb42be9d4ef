/**
 * TokenService over DynamoDB (dynalite): enrolment stays pending until confirmed, codes are accepted once
 * under any concurrency, HOTP look-ahead and resynchronisation, revocation, and tenants kept apart.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyFileCredentialCipher } from '../../../functions/adapters/credentials/key-file-cipher.ts';
import { DynamoAuditLog } from '../../../functions/adapters/dynamo/audit-store.ts';
import { DynamoTokenStore } from '../../../functions/adapters/dynamo/token-store.ts';
import { base32Decode, hotp, TotpChannel, totp } from '../../../functions/core/channels/totp.ts';
import { HOTP_WINDOW, TokenService } from '../../../functions/core/tokens.ts';
import { localDynamo } from '../../../functions/local/aws-local.ts';
import { ensureTable, type LocalDynamo, startDynalite } from '../../../functions/local/dynamo.ts';
import { pskcDocument, RFC_SEED } from './pskc-fixtures.ts';

let dynalite: LocalDynamo;
let store: DynamoTokenStore;
let audit: DynamoAuditLog;
let service: TokenService;
let now = 1_700_000_000_000;
const clock = { now: () => now };
const users = new Set(['t1/alice', 't1/bob', 't1/carol', 't1/dave', 't1/erin', 't2/alice', 't1/frank']);

beforeAll(async () => {
  dynalite = await startDynalite();
  const client = localDynamo(dynalite.endpoint);
  await ensureTable(client, 'tokens-test');
  store = new DynamoTokenStore(client, 'tokens-test');
  audit = new DynamoAuditLog(client, 'tokens-test', clock);
  service = new TokenService({
    store,
    cipher: new KeyFileCredentialCipher(Buffer.alloc(32, 9)),
    clock,
    audit,
    userExists: async (tenantId, username) => users.has(`${tenantId}/${username.toLowerCase()}`),
    issuer: (t) => `Tenant ${t}`,
  });
});
afterAll(async () => dynalite?.close());

const appCode = (secret: string, offsetSteps = 0) => totp(base32Decode(secret), now + offsetSteps * 30_000);

describe('authenticator-app enrolment', () => {
  it('is pending until the first good code: the channel does not count it and verify ignores it', async () => {
    const enrolled = await service.enrolApp('t1', 'key:test', 'Alice');
    expect(enrolled).toMatchObject({ state: 'pending', kind: 'totp', source: 'app', username: 'alice' });
    expect(base32Decode(enrolled.secret)).toHaveLength(20);
    expect(new URL(enrolled.uri).searchParams.get('secret')).toBe(enrolled.secret);
    expect(enrolled.qrSvg).toMatch(/^<svg[\s\S]*<\/svg>$/);
    const stored = await store.get('t1', enrolled.tokenId);
    expect(JSON.stringify(stored)).not.toContain(enrolled.secret);
    expect(stored?.sealedSecret).toBeDefined();

    const channel = new TotpChannel(service);
    const request = { tenantId: 't1', challengeId: 'c', step: 0, to: 'alice', text: 'unused' };
    expect(await channel.deliver(request)).toMatchObject({ status: 'failed', reason: 'totp_not_enrolled' });
    expect(await service.verify('t1', 'alice', appCode(enrolled.secret))).toEqual({
      result: 'reject',
      reason: 'not_enrolled',
    });

    await expect(
      service.confirm('t1', 'key:test', 'alice', enrolled.tokenId, '000000'),
    ).rejects.toMatchObject({
      code: 'wrong_code',
    });
    expect(
      await service.confirm('t1', 'key:test', 'alice', enrolled.tokenId, appCode(enrolled.secret)),
    ).toMatchObject({ state: 'active' });
    expect(await channel.deliver(request)).toEqual({ status: 'sent' });
    // The confirming code was used: it does not log in.
    expect(await service.verify('t1', 'alice', appCode(enrolled.secret))).toEqual({
      result: 'reject',
      reason: 'replayed',
    });
    now += 30_000;
    expect(await service.verify('t1', 'alice', appCode(enrolled.secret))).toMatchObject({ result: 'accept' });
    await expect(
      service.confirm('t1', 'key:test', 'alice', enrolled.tokenId, appCode(enrolled.secret, 1)),
    ).rejects.toMatchObject({ code: 'token_not_pending' });
  });

  it('replaces a pending enrolment, refuses to replace an active one unless asked, and then only on confirm', async () => {
    const first = await service.enrolApp('t1', 'key:test', 'bob');
    const second = await service.enrolApp('t1', 'key:test', 'bob');
    expect(await store.get('t1', first.tokenId)).toBeUndefined();
    await service.confirm('t1', 'key:test', 'bob', second.tokenId, appCode(second.secret));
    await expect(service.enrolApp('t1', 'key:test', 'bob')).rejects.toMatchObject({ code: 'token_exists' });

    const third = await service.enrolApp('t1', 'key:test', 'bob', { replace: true });
    now += 30_000;
    // Until the new app is confirmed the old one still logs in.
    expect(await service.verify('t1', 'bob', appCode(second.secret))).toMatchObject({ result: 'accept' });
    now += 30_000;
    await service.confirm('t1', 'key:test', 'bob', third.tokenId, appCode(third.secret));
    expect((await store.get('t1', second.tokenId))?.state).toBe('revoked');
    now += 30_000;
    expect(await service.verify('t1', 'bob', appCode(second.secret))).toMatchObject({ result: 'reject' });
    expect(await service.verify('t1', 'bob', appCode(third.secret))).toMatchObject({ result: 'accept' });
    await expect(service.enrolApp('t1', 'key:test', 'nobody')).rejects.toMatchObject({ code: 'not_found' });
  });
});

describe('hardware tokens', () => {
  it('HOTP: accepts within the look-ahead window, moves the counter, never takes a code twice', async () => {
    await service.importPskc('t1', 'key:test', pskcDocument([{ serial: 'HW-1' }]), { maxKeys: 10 });
    await service.assign('t1', 'key:test', 'carol', 'HW-1');
    const code = (c: number) => hotp(RFC_SEED, c, 6, 'sha1');
    expect(await service.verify('t1', 'carol', code(0))).toEqual({ result: 'accept', step: 0 });
    expect(await service.verify('t1', 'carol', code(0))).toEqual({ result: 'reject', reason: 'wrong' });
    // Pressed a few times away from a login: still inside the window.
    expect(await service.verify('t1', 'carol', code(5))).toEqual({ result: 'accept', step: 5 });
    // Codes the counter has passed are dead.
    expect(await service.verify('t1', 'carol', code(3))).toMatchObject({ result: 'reject' });
    expect(await service.verify('t1', 'carol', code(6 + HOTP_WINDOW))).toMatchObject({ result: 'reject' });
    expect((await store.get('t1', 'hw.HW-1'))?.counter).toBe(6);
  });

  it('HOTP: of 300 parallel verifies with the same code exactly one accepts', async () => {
    await service.importPskc('t1', 'key:test', pskcDocument([{ serial: 'HW-RACE', counter: 100 }]), {
      maxKeys: 10,
    });
    await service.assign('t1', 'key:test', 'dave', 'HW-RACE');
    const code = hotp(RFC_SEED, 103, 6, 'sha1');
    const results = await Promise.all(Array.from({ length: 300 }, () => service.verify('t1', 'dave', code)));
    expect(results.filter((r) => r.result === 'accept')).toHaveLength(1);
    expect(results.filter((r) => r.result === 'reject')).toHaveLength(299);
    expect((await store.get('t1', 'hw.HW-RACE'))?.counter).toBe(104);
  });

  it('TOTP hardware: its own period and digits, ±1 step, and 300 parallel verifies give one accept', async () => {
    await service.importPskc(
      't1',
      'key:test',
      pskcDocument([{ serial: 'TT-1', kind: 'totp', period: 60, digits: 8 }]),
      { maxKeys: 10 },
    );
    await service.assign('t1', 'key:test', 'erin', 'TT-1');
    const params = { algorithm: 'sha1' as const, digits: 8 as const, period: 60 };
    const code = totp(RFC_SEED, now, params);
    const results = await Promise.all(Array.from({ length: 300 }, () => service.verify('t1', 'erin', code)));
    expect(results.filter((r) => r.result === 'accept')).toHaveLength(1);
    expect(await service.verify('t1', 'erin', totp(RFC_SEED, now + 60_000, params))).toMatchObject({
      result: 'accept',
    });
    expect(await service.verify('t1', 'erin', totp(RFC_SEED, now + 180_000, params))).toMatchObject({
      result: 'reject',
    });
  });

  it('resynchronises an HOTP token from two consecutive codes far ahead, and audits it', async () => {
    await service.importPskc('t1', 'key:test', pskcDocument([{ serial: 'HW-SYNC' }]), { maxKeys: 10 });
    await service.assign('t1', 'key:test', 'frank', 'HW-SYNC');
    const code = (c: number) => hotp(RFC_SEED, c, 6, 'sha1');
    expect(await service.verify('t1', 'frank', code(500))).toMatchObject({ result: 'reject' });
    await expect(
      service.resync('t1', 'key:test', 'frank', 'hw.HW-SYNC', code(500), code(502)),
    ).rejects.toMatchObject({ code: 'resync_failed' });
    await expect(
      service.resync('t1', 'key:test', 'frank', 'hw.HW-SYNC', code(1500), code(1501)),
    ).rejects.toMatchObject({ code: 'resync_failed' });
    await service.resync('t1', 'key:test', 'frank', 'hw.HW-SYNC', code(500), code(501));
    expect(await service.verify('t1', 'frank', code(501))).toMatchObject({ result: 'reject' });
    expect(await service.verify('t1', 'frank', code(502))).toEqual({ result: 'accept', step: 502 });
    const { entries } = await audit.list('t1', { limit: 50 });
    const resynced = entries.find((e) => e.action === 'token.resynced');
    expect(resynced).toMatchObject({ target: 'token:hw.HW-SYNC', details: { skipped: 500 } });
    expect(JSON.stringify(entries)).not.toContain(RFC_SEED.toString('base64'));
  });

  it('revocation erases the seed: the token never verifies or gets assigned again', async () => {
    await service.importPskc('t1', 'key:test', pskcDocument([{ serial: 'HW-REV' }]), { maxKeys: 10 });
    await service.assign('t1', 'key:test', 'alice', 'HW-REV');
    await service.revoke('t1', 'key:test', 'alice', 'hw.HW-REV');
    const token = await store.get('t1', 'hw.HW-REV');
    expect(token).toMatchObject({ state: 'revoked' });
    expect(token?.sealedSecret).toBeUndefined();
    expect(token?.username).toBeUndefined();
    expect(await service.verify('t1', 'alice', hotp(RFC_SEED, 0, 6, 'sha1'))).toMatchObject({
      result: 'reject',
    });
    await expect(service.assign('t1', 'key:test', 'bob', 'HW-REV')).rejects.toMatchObject({
      code: 'token_unavailable',
    });
    await expect(service.revoke('t1', 'key:test', 'alice', 'hw.HW-REV')).rejects.toMatchObject({
      code: 'not_found',
    });
  });

  it('keeps tenants apart: same serial in two tenants, no cross-tenant assign, a copied seed does not open', async () => {
    await service.importPskc('t1', 'key:test', pskcDocument([{ serial: 'SHARED' }]), { maxKeys: 10 });
    await expect(service.assign('t2', 'key:other', 'alice', 'SHARED')).rejects.toMatchObject({
      code: 'not_found',
    });
    await service.importPskc('t2', 'key:other', pskcDocument([{ serial: 'SHARED' }]), { maxKeys: 10 });
    await service.assign('t2', 'key:other', 'alice', 'SHARED');
    expect((await store.get('t1', 'hw.SHARED'))?.state).toBe('unassigned');
    await expect(service.revoke('t1', 'key:test', 'alice', 'hw.SHARED')).rejects.toMatchObject({
      code: 'not_found',
    });
    const stolen = await store.get('t1', 'hw.SHARED');
    await store.create({
      ...stolen!,
      tenantId: 't2',
      tokenId: 'hw.STOLEN',
      state: 'active',
      username: 'mallory',
    });
    await expect(service.verify('t2', 'mallory', hotp(RFC_SEED, 9, 6, 'sha1'))).rejects.toThrow(
      /does not open/,
    );
  });
});
