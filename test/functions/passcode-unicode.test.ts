/**
 * Codes typed on keyboards of other scripts: a phone set to Arabic types ٤٥٦, a Japanese IME types full-width
 * ４５６. They are the code the SMS carried and must be accepted, end to end through the auth app; a wrong code
 * stays wrong in any script.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalPasscode } from '../../functions/core/passcode.ts';
import { type SecurityFixture, startSecurityFixture } from '../support/security.ts';

const inDigits = (zero: number) => (code: string) =>
  code.replace(/[0-9]/g, (d) => String.fromCodePoint(zero + Number(d)));
const fullWidthDigits = inDigits(0xff10);
const arabicIndic = inDigits(0x0660);
const extendedArabicIndic = inDigits(0x06f0);
const devanagari = inDigits(0x0966);
/** Full-width forms of ASCII letters and digits (U+FF01..FF5E mirror U+0021..007E). */
const fullWidth = (code: string) =>
  code.replace(/[!-~]/g, (c) => String.fromCodePoint(c.charCodeAt(0) - 0x21 + 0xff01));
const RLM = '\u200f';

describe('canonicalPasscode', () => {
  it('reads decimal digits of any script as 0–9', () => {
    expect(canonicalPasscode(fullWidthDigits('0123456789'))).toBe('0123456789');
    expect(canonicalPasscode(arabicIndic('0123456789'))).toBe('0123456789');
    expect(canonicalPasscode(extendedArabicIndic('0123456789'))).toBe('0123456789');
    expect(canonicalPasscode(devanagari('0123456789'))).toBe('0123456789');
    expect(canonicalPasscode(`${RLM}${arabicIndic('123')} ${arabicIndic('456')}${RLM}`)).toBe('123456');
    expect(canonicalPasscode(fullWidth('ab-cd9k'))).toBe('ABCD9K');
    expect(canonicalPasscode('123\u2013456')).toBe('123456');
  });

  it('holds for every decimal digit Unicode has: each run of them is whole sets of ten', () => {
    const nd = /^\p{Nd}$/u;
    let run = 0;
    for (let cp = 0; cp <= 0x110000; cp++) {
      if (cp <= 0x10ffff && nd.test(String.fromCodePoint(cp))) {
        run++;
        continue;
      }
      if (run > 0) {
        expect(run % 10, `digits before U+${cp.toString(16)}`).toBe(0);
        const start = cp - run;
        const typed = Array.from({ length: run }, (_, i) => String.fromCodePoint(start + i)).join('');
        expect(canonicalPasscode(typed)).toBe('0123456789'.repeat(run / 10));
      }
      run = 0;
    }
  });
});

let fx: SecurityFixture;
beforeAll(async () => {
  fx = await startSecurityFixture();
});
afterAll(async () => {
  fx?.assertNoSecretsLogged();
  await fx?.close();
});

async function challengeWithCode(seed: Awaited<ReturnType<SecurityFixture['tenant']>>) {
  await fx.sent();
  const created = await fx.create(seed, 'alice');
  expect(created.status).toBe(201);
  const id = String(created.body.challengeId);
  const sms = (await fx.sent()).get(id);
  if (!sms) throw new Error('no SMS queued');
  return { id, code: fx.codeOf(sms.text) };
}

describe('a verify typed in another script', () => {
  const numeric: Array<[string, (code: string) => string]> = [
    ['full-width digits', fullWidthDigits],
    ['Arabic-Indic digits', arabicIndic],
    ['Extended Arabic-Indic (Persian) digits', extendedArabicIndic],
    ['Arabic-Indic digits with the direction marks an RTL keyboard adds', (c) => `${RLM}${arabicIndic(c)}`],
  ];
  for (const [i, [what, typed]] of numeric.entries()) {
    it(`accepts a numeric code typed in ${what}`, async () => {
      const t = await fx.tenant(`uni-numeric-${i}`, {}, [{ username: 'alice' }]);
      const { id, code } = await challengeWithCode(t);
      expect(code).toMatch(/^\d{6}$/);
      expect(typed(code)).not.toBe(code);
      expect((await fx.verify(t, id, typed(code))).body).toEqual({ result: 'accept' });
    });
  }

  it('still refuses a wrong code typed in full-width or Arabic-Indic digits', async () => {
    const t = await fx.tenant('uni-wrong', {}, [{ username: 'alice' }]);
    const { id, code } = await challengeWithCode(t);
    const wrong = code === '000000' ? '111111' : '000000';
    expect((await fx.verify(t, id, fullWidthDigits(wrong))).body).toMatchObject({
      result: 'reject',
      reason: 'wrong',
    });
    expect((await fx.verify(t, id, arabicIndic(wrong))).body).toMatchObject({
      result: 'reject',
      reason: 'wrong',
    });
    expect((await fx.verify(t, id, arabicIndic(code))).body).toEqual({ result: 'accept' });
  });

  it('accepts an alphanumeric code typed in full-width letters and digits', async () => {
    const t = await fx.tenant(
      'uni-alnum',
      { passcode: { length: 8, alphabet: 'alphanumeric', validitySeconds: 300, maxAttempts: 3 } },
      [{ username: 'alice' }],
    );
    const { id, code } = await challengeWithCode(t);
    expect(code).toMatch(/^[2-9A-Z]{8}$/);
    expect((await fx.verify(t, id, fullWidth(code.toLowerCase()))).body).toEqual({ result: 'accept' });
  });

  it('accepts a memo code typed in full-width letters', async () => {
    const t = await fx.tenant(
      'uni-memo',
      { passcode: { length: 8, alphabet: 'memo', validitySeconds: 300, maxAttempts: 3 } },
      [{ username: 'alice' }],
    );
    const { id, code } = await challengeWithCode(t);
    expect(code).toMatch(/^([bdfghkmnprstvz][aeiou]){4}$/);
    const typed = `${fullWidth(code.slice(0, 4))}\u3000${fullWidth(code.slice(4).toUpperCase())}`;
    expect((await fx.verify(t, id, typed)).body).toEqual({ result: 'accept' });
  });
});
