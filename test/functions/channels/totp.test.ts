/**
 * TOTP: the RFC 4226 and RFC 6238 test vectors, enrolment data for the QR code, the ±1 step window and
 * replay protection. The store contract runs against the in-memory store and DynamoDB (dynalite).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyFileCredentialCipher } from '../../../functions/adapters/credentials/key-file-cipher.ts';
import { DynamoTotpStore } from '../../../functions/adapters/dynamo/totp-store.ts';
import {
  base32Decode,
  base32Encode,
  hotp,
  matchingSteps,
  otpauthUri,
  type TotpAlgorithm,
  TotpChannel,
  TotpService,
  type TotpStore,
  totp,
} from '../../../functions/core/channels/totp.ts';
import { localDynamo } from '../../../functions/local/aws-local.ts';
import { ensureTable, type LocalDynamo, startDynalite } from '../../../functions/local/dynamo.ts';
import { MemoryTotpStore } from './memory-totp-store.ts';

/** RFC 6238 Appendix B: the seeds are ASCII digits repeated to the hash length. */
const SEEDS: Record<TotpAlgorithm, Buffer> = {
  sha1: Buffer.from('12345678901234567890'),
  sha256: Buffer.from('12345678901234567890123456789012'),
  sha512: Buffer.from('1234567890123456789012345678901234567890123456789012345678901234'),
};
const VECTORS: Array<[seconds: number, sha1: string, sha256: string, sha512: string]> = [
  [59, '94287082', '46119246', '90693936'],
  [1111111109, '07081804', '68084774', '25091201'],
  [1111111111, '14050471', '67062674', '99943326'],
  [1234567890, '89005924', '91819424', '93441116'],
  [2000000000, '69279037', '90698825', '38618901'],
  [20000000000, '65353130', '77737706', '47863826'],
];

describe('RFC test vectors', () => {
  it('HOTP matches RFC 4226 Appendix D', () => {
    const expected = [
      '755224',
      '287082',
      '359152',
      '969429',
      '338314',
      '254676',
      '287922',
      '162583',
      '399871',
      '520489',
    ];
    expect(expected.map((_, counter) => hotp(SEEDS.sha1, counter, 6, 'sha1'))).toEqual(expected);
  });

  for (const [index, algorithm] of (['sha1', 'sha256', 'sha512'] as const).entries())
    it(`TOTP-${algorithm.toUpperCase()} matches RFC 6238 Appendix B`, () => {
      for (const vector of VECTORS)
        expect(totp(SEEDS[algorithm], vector[0] * 1000, { algorithm, digits: 8, period: 30 })).toBe(
          vector[index + 1],
        );
    });

  it('base32 follows RFC 4648 and round-trips', () => {
    const cases: Array<[string, string]> = [
      ['', ''],
      ['f', 'MY'],
      ['fo', 'MZXQ'],
      ['foo', 'MZXW6'],
      ['foob', 'MZXW6YQ'],
      ['fooba', 'MZXW6YTB'],
      ['foobar', 'MZXW6YTBOI'],
    ];
    for (const [plain, encoded] of cases) {
      expect(base32Encode(Buffer.from(plain))).toBe(encoded);
      expect(base32Decode(encoded).toString()).toBe(plain);
    }
    expect(base32Decode('mzxw 6ytb-oi======').toString()).toBe('foobar');
    expect(() => base32Decode('MZ1W')).toThrow(/base32/);
  });
});

describe('the window', () => {
  const params = { algorithm: 'sha1' as const, digits: 6 as const, period: 30 };
  const at = 1_700_000_000_000;
  const stepNow = Math.floor(at / 30_000);
  const codeAt = (step: number) => hotp(SEEDS.sha1, step, 6, 'sha1');

  it('accepts the current step and one on either side, nothing further', () => {
    expect(matchingSteps(SEEDS.sha1, codeAt(stepNow), at, params)).toEqual([stepNow]);
    expect(matchingSteps(SEEDS.sha1, codeAt(stepNow - 1), at, params)).toEqual([stepNow - 1]);
    expect(matchingSteps(SEEDS.sha1, codeAt(stepNow + 1), at, params)).toEqual([stepNow + 1]);
    expect(matchingSteps(SEEDS.sha1, codeAt(stepNow - 2), at, params)).toEqual([]);
    expect(matchingSteps(SEEDS.sha1, codeAt(stepNow + 2), at, params)).toEqual([]);
  });

  it('refuses codes of the wrong length or with non-digits', () => {
    const code = codeAt(stepNow);
    for (const bad of [code.slice(1), `${code}0`, `${code.slice(0, 5)}x`, ' '.repeat(6), '٤١٩٢٨٣'])
      expect(matchingSteps(SEEDS.sha1, bad, at, params)).toEqual([]);
  });
});

describe('enrolment data', () => {
  it('builds the otpauth URI an authenticator app reads from the QR code', () => {
    const uri = new URL(otpauthUri('JBSWY3DPEHPK3PXP', { issuer: 'Acme Corp', account: 'alice@corp' }));
    expect(uri.protocol).toBe('otpauth:');
    expect(uri.host).toBe('totp');
    expect(decodeURIComponent(uri.pathname)).toBe('/Acme Corp:alice@corp');
    expect(Object.fromEntries(uri.searchParams)).toEqual({
      secret: 'JBSWY3DPEHPK3PXP',
      issuer: 'Acme Corp',
      algorithm: 'SHA1',
      digits: '6',
      period: '30',
    });
    expect(uri.href).not.toContain('+');
  });
});

function storeContract(name: string, makeStore: () => Promise<TotpStore>) {
  describe(`TotpService over ${name}`, () => {
    let store: TotpStore;
    let now = 1_700_000_000_000;
    const clock = { now: () => now };
    const cipher = new KeyFileCredentialCipher(Buffer.alloc(32, 9));
    let service: TotpService;
    let user = 0;
    beforeAll(async () => {
      store = await makeStore();
      service = new TotpService({ store, cipher, clock, issuer: (t) => `Tenant ${t}` });
    });
    const codeFor = (secret: string, offsetSteps = 0) =>
      totp(base32Decode(secret), now + offsetSteps * 30_000);
    const nextUser = () => `user${++user}`;

    it('enrols with a random secret of the hash length, sealed at rest, confirmed by the first good code', async () => {
      const username = nextUser();
      const { secret, uri } = await service.enrol('t1', username);
      expect(base32Decode(secret)).toHaveLength(20);
      expect(new URL(uri).searchParams.get('secret')).toBe(secret);
      expect(new URL(uri).searchParams.get('issuer')).toBe('Tenant t1');
      const stored = await store.get('t1', username);
      expect(stored).toMatchObject({
        confirmed: false,
        lastStep: -1,
        algorithm: 'sha1',
        digits: 6,
        period: 30,
      });
      expect(JSON.stringify(stored)).not.toContain(secret);

      const channel = new TotpChannel(service);
      const request = { tenantId: 't1', challengeId: 'c', step: 0, to: username, text: 'unused' };
      expect(await channel.deliver(request)).toMatchObject({ status: 'failed', reason: 'totp_not_enrolled' });
      expect(await service.verify('t1', username, codeFor(secret))).toMatchObject({ result: 'accept' });
      expect(await channel.deliver(request)).toEqual({ status: 'sent' });
      expect(
        (await service.enrol('t1', nextUser(), { algorithm: 'sha512', digits: 8, period: 30 })).secret,
      ).toHaveLength(103);
    });

    it('accepts a code once: the same code again, or one of an earlier step, is a replay', async () => {
      const username = nextUser();
      const { secret } = await service.enrol('t1', username);
      const code = codeFor(secret);
      expect(await service.verify('t1', username, code)).toMatchObject({ result: 'accept' });
      expect(await service.verify('t1', username, code)).toEqual({ result: 'reject', reason: 'replayed' });
      expect(await service.verify('t1', username, codeFor(secret, -1))).toEqual({
        result: 'reject',
        reason: 'replayed',
      });
      expect(await service.verify('t1', username, codeFor(secret, +1))).toMatchObject({ result: 'accept' });
      now += 30_000; // the step just accepted is now the current one
      expect(await service.verify('t1', username, codeFor(secret))).toEqual({
        result: 'reject',
        reason: 'replayed',
      });
      now += 30_000;
      expect(await service.verify('t1', username, codeFor(secret))).toMatchObject({ result: 'accept' });
    });

    it('lets exactly one of two racing verifications with the same code win', async () => {
      const username = nextUser();
      const { secret } = await service.enrol('t1', username);
      const code = codeFor(secret);
      const results = await Promise.all([1, 2, 3].map(() => service.verify('t1', username, code)));
      expect(results.filter((r) => r.result === 'accept')).toHaveLength(1);
      expect(results.filter((r) => r.result === 'reject' && r.reason === 'replayed')).toHaveLength(2);
    });

    it('refuses wrong codes and unknown users, and a new enrolment replaces the old secret', async () => {
      const username = nextUser();
      const first = await service.enrol('t1', username);
      expect(await service.verify('t1', username, '000000')).toMatchObject({ reason: 'wrong' });
      expect(await service.verify('t1', 'nobody', codeFor(first.secret))).toEqual({
        result: 'reject',
        reason: 'not_enrolled',
      });
      const old = await store.get('t1', username);
      const second = await service.enrol('t1', username);
      expect(await service.verify('t1', username, codeFor(second.secret))).toMatchObject({
        result: 'accept',
      });
      // A verification that read the old enrolment cannot write over the new one.
      expect(await store.acceptStep('t1', username, old!.enrolmentId, Number.MAX_SAFE_INTEGER)).toBe(false);
    });

    it('keeps tenants apart: the same username elsewhere is another enrolment, and a copied secret does not open', async () => {
      const username = nextUser();
      const { secret } = await service.enrol('t1', username);
      expect(await service.verify('t2', username, codeFor(secret))).toEqual({
        result: 'reject',
        reason: 'not_enrolled',
      });
      const stolen = await store.get('t1', username);
      await store.put({ ...stolen!, tenantId: 't2' });
      await expect(service.verify('t2', username, codeFor(secret))).rejects.toThrow(/does not open/);
    });

    it('verifies the RFC 6238 vectors end to end (8 digits, each algorithm)', async () => {
      for (const algorithm of ['sha1', 'sha256', 'sha512'] as const) {
        const username = nextUser();
        const seeded = new TotpService({
          store,
          cipher,
          clock: { now: () => 1111111109_000 },
          issuer: () => 'RFC',
          random: (bytes) => (bytes === SEEDS[algorithm].length ? SEEDS[algorithm] : Buffer.alloc(bytes, 1)),
        });
        await seeded.enrol('t1', username, { algorithm, digits: 8, period: 30 });
        const expected = VECTORS[1]![{ sha1: 1, sha256: 2, sha512: 3 }[algorithm]] as string;
        expect(await seeded.verify('t1', username, expected)).toMatchObject({ result: 'accept' });
      }
    });
  });
}

storeContract('the in-memory store', async () => new MemoryTotpStore());

let dynalite: LocalDynamo | undefined;
afterAll(async () => dynalite?.close());
storeContract('DynamoDB (dynalite)', async () => {
  dynalite = await startDynalite();
  const client = localDynamo(dynalite.endpoint);
  await ensureTable(client, 'totp-test');
  return new DynamoTotpStore(client, 'totp-test');
});
