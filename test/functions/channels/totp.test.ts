/**
 * TOTP: the RFC 4226 and RFC 6238 test vectors, enrolment data for the QR code and the ±1 step window.
 * Enrolment, confirmation and replay protection over the token store are in test/functions/tokens/.
 */
import { describe, expect, it } from 'vitest';
import {
  base32Decode,
  base32Encode,
  hotp,
  matchingCounters,
  matchingSteps,
  otpauthUri,
  type TotpAlgorithm,
  totp,
} from '../../../functions/core/channels/totp.ts';

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

  it('finds HOTP counters only inside the look-ahead window, the lowest first', () => {
    const code = (counter: number) => hotp(SEEDS.sha1, counter, 6, 'sha1');
    expect(matchingCounters(SEEDS.sha1, code(7), 0, 6, 'sha1', 10)).toEqual([7]);
    expect(matchingCounters(SEEDS.sha1, code(10), 0, 6, 'sha1', 10)).toEqual([]);
    expect(matchingCounters(SEEDS.sha1, code(3), 4, 6, 'sha1', 10)).toEqual([]);
    expect(matchingCounters(SEEDS.sha1, `${code(3)}0`, 0, 6, 'sha1', 10)).toEqual([]);
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
