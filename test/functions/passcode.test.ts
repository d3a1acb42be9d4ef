/** The passcode generators: alphabet, length, entropy floor, and a uniform distribution. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ALPHANUMERIC,
  assertPasscodeSettings,
  canonicalPasscode,
  DIGITS,
  entropyBits,
  generatePasscode,
  MEMO_CONSONANTS,
  MEMO_VOWELS,
  MIN_ENTROPY_BITS,
  type PasscodeAlphabet,
  PasscodeConfigError,
  positionAlphabets,
} from '../../functions/core/passcode.ts';

const alphabets: PasscodeAlphabet[] = ['numeric', 'alphanumeric', 'memo'];
const arbAlphabet = fc.constantFrom(...alphabets);
const arbLength = fc.integer({ min: 4, max: 12 });
const strongEnough = (length: number, alphabet: PasscodeAlphabet) =>
  entropyBits({ length, alphabet }) >= MIN_ENTROPY_BITS - 1e-9;

describe('passcode generation', () => {
  it('draws every position from its alphabet, at exactly the configured length', () => {
    fc.assert(
      fc.property(arbAlphabet, arbLength, (alphabet, length) => {
        fc.pre(strongEnough(length, alphabet));
        const code = generatePasscode({ length, alphabet });
        expect(code).toHaveLength(length);
        const allowed = positionAlphabets(alphabet, length);
        for (const [i, ch] of [...code].entries()) expect(allowed[i]).toContain(ch);
      }),
      { numRuns: 500 },
    );
  });

  it('never uses look-alike characters in alphanumeric codes', () => {
    for (const ch of '01OIL') expect(ALPHANUMERIC).not.toContain(ch);
    fc.assert(
      fc.property(fc.integer({ min: 5, max: 12 }), (length) => {
        expect(generatePasscode({ length, alphabet: 'alphanumeric' })).toMatch(/^[2-9A-HJKMNP-Z]+$/);
      }),
    );
  });

  it('builds memo codes from consonant-vowel syllables', () => {
    fc.assert(
      fc.property(fc.integer({ min: 8, max: 12 }), (length) => {
        const code = generatePasscode({ length, alphabet: 'memo' });
        expect(code).toMatch(/^([bdfghkmnprstvz][aeiou])*[bdfghkmnprstvz]?$/);
      }),
    );
  });

  it('refuses every configuration under the entropy floor, with a clear error, and accepts the rest', () => {
    fc.assert(
      fc.property(arbAlphabet, arbLength, (alphabet, length) => {
        const settings = { length, alphabet, validitySeconds: 300, maxAttempts: 3 };
        if (strongEnough(length, alphabet)) {
          expect(() => assertPasscodeSettings(settings)).not.toThrow();
        } else {
          expect(() => generatePasscode(settings)).toThrow(PasscodeConfigError);
          expect(() => assertPasscodeSettings(settings)).toThrow(/at least 20 bits/);
        }
      }),
    );
    // The edges: six digits is NIST's "about 20 bits", five is not.
    expect(() => generatePasscode({ length: 6, alphabet: 'numeric' })).not.toThrow();
    expect(() => generatePasscode({ length: 5, alphabet: 'numeric' })).toThrow(PasscodeConfigError);
  });

  it('refuses lengths outside 4–12 and alphabets it does not know', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.integer({ min: -5, max: 3 }), fc.integer({ min: 13, max: 100 }), fc.double()),
        (length) => {
          fc.pre(!(Number.isInteger(length) && length >= 4 && length <= 12));
          expect(() => generatePasscode({ length, alphabet: 'alphanumeric' })).toThrow(PasscodeConfigError);
        },
      ),
    );
    expect(() => generatePasscode({ length: 8, alphabet: 'emoji' as PasscodeAlphabet })).toThrow(
      PasscodeConfigError,
    );
  });

  it('reads back what a user types: spaces, dashes and case do not matter', () => {
    expect(canonicalPasscode('123 456')).toBe('123456');
    expect(canonicalPasscode('ab-cd9k')).toBe(canonicalPasscode('ABCD9K'));
    expect(canonicalPasscode('BeKi DaVo')).toBe(canonicalPasscode('bekidavo'));
  });
});

/** Upper critical value of chi-square (Wilson–Hilferty), for a one-sided test at z standard deviations. */
function chiSquareCritical(df: number, z: number): number {
  const a = 2 / (9 * df);
  return df * (1 - a + z * Math.sqrt(a)) ** 3;
}

describe('uniformity (chi-square)', () => {
  const cases: Array<[PasscodeAlphabet, number]> = [
    ['numeric', 6],
    ['alphanumeric', 8],
    ['memo', 9],
  ];
  for (const [alphabet, length] of cases) {
    it(`draws ${alphabet} symbols uniformly at every position`, () => {
      const draws = 6000;
      const positions = positionAlphabets(alphabet, length);
      const counts = positions.map((symbols) => new Map([...symbols].map((s) => [s, 0])));
      for (let n = 0; n < draws; n++) {
        const code = generatePasscode({ length, alphabet });
        for (const [i, ch] of [...code].entries()) counts[i]!.set(ch, counts[i]!.get(ch)! + 1);
      }
      // One test per position; at z = 4.26 (p ≈ 1e-5) a correct generator fails once in ~10^4 suite runs.
      for (const [i, symbols] of positions.entries()) {
        const expected = draws / symbols.length;
        let chi = 0;
        for (const c of counts[i]!.values()) chi += (c - expected) ** 2 / expected;
        expect(chi).toBeLessThan(chiSquareCritical(symbols.length - 1, 4.26));
      }
    });
  }

  it('would notice modulo bias: a biased digit generator fails the same check', () => {
    const draws = 256 * 1000;
    const counts = new Array(10).fill(0);
    // byte % 10 favours 0–5 (26 chances against 25): the bias randomInt avoids. Every byte value equally often.
    for (let n = 0; n < draws; n++) counts[(n % 256) % 10]++;
    const expected = draws / 10;
    const chi = counts.reduce((sum, c) => sum + (c - expected) ** 2 / expected, 0);
    expect(chi).toBeGreaterThan(chiSquareCritical(9, 4.26));
    expect(DIGITS).toHaveLength(10);
    expect(MEMO_CONSONANTS.length * MEMO_VOWELS.length).toBe(70);
  });
});
