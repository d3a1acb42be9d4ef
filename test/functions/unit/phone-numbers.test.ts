/**
 * Phone numbers as people type them into AD, read into E.164 with their type (phone-numbers.ts), and numbers
 * as shown to admins and written to logs, masked to the country code and the last two digits (phone.ts).
 */
import fc from 'fast-check';
import examples from 'libphonenumber-js/examples.mobile.json';
import { getCountries, getExampleNumber } from 'libphonenumber-js/max';
import { describe, expect, it } from 'vitest';
import { maskPhone, maskPhonesIn } from '../../../functions/core/phone.ts';
import { normalisePhone, SMS_CAPABLE } from '../../../functions/core/phone-numbers.ts';

/** Each country's example mobile number in the ways people write it, with the E.164 it must become. */
const written = getCountries().flatMap((country) => {
  const example = getExampleNumber(country, examples);
  if (!example) return [];
  const international = example.formatInternational();
  return [
    {
      country,
      e164: example.number as string,
      national: example.formatNational(),
      international,
      dialled: `00${international.slice(1)}`,
    },
  ];
});
const arbWritten = fc.constantFrom(...written);
const arbCountry = fc.constantFrom(...getCountries());

describe('normalisePhone', () => {
  it('reads the national, international and 00-dialled forms of every country into one E.164', () => {
    expect(written.length).toBeGreaterThan(200);
    for (const w of written) {
      for (const form of [w.national, w.international, w.dialled, w.e164]) {
        const read = normalisePhone(form, w.country);
        expect(read?.e164, `${w.country} ${form}`).toBe(w.e164);
        expect(SMS_CAPABLE.has(read!.type), `${w.country} ${form}`).toBe(true);
      }
    }
  });

  it('reads a Danish number typed in any of the usual ways', () => {
    for (const typed of ['20 12 34 56', '20123456', '+45 20 12 34 56', '0045 20123456', '  +4520123456  '])
      expect(normalisePhone(typed, 'DK'), typed).toEqual({
        e164: '+4520123456',
        type: 'fixed_line_or_mobile',
        country: 'DK',
      });
    // The default country decides only for national numbers.
    expect(normalisePhone('20 12 34 56', 'SE')?.e164).not.toBe('+4520123456');
    expect(normalisePhone('+45 20 12 34 56', 'SE')?.e164).toBe('+4520123456');
  });

  it('gives an E.164 number back unchanged, whatever the default country (idempotence)', () => {
    fc.assert(
      fc.property(arbWritten, arbCountry, arbCountry, (w, first, second) => {
        const once = normalisePhone(w.international, w.country)!;
        expect(normalisePhone(once.e164, first)).toEqual(once);
        expect(normalisePhone(normalisePhone(once.e164, first)!.e164, second)).toEqual(once);
      }),
      { numRuns: 500 },
    );
  });

  it('ignores the spaces, dashes and dots people put between digits', () => {
    fc.assert(
      fc.property(
        arbWritten,
        fc.array(fc.constantFrom('', ' ', '-', '.', ' - '), { minLength: 20, maxLength: 20 }),
        (w, separators) => {
          const digits = w.e164.slice(1);
          const spaced = `+${[...digits].map((d, i) => (i === 0 ? d : `${separators[i] ?? ''}${d}`)).join('')}`;
          fc.pre(spaced.length <= 40);
          expect(normalisePhone(spaced, 'DK')?.e164).toBe(w.e164);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('classifies numbers a passcode must not go to, so the sync stores them as not SMS-capable', () => {
    const cases: [string, string, string][] = [
      ['90 12 34 56', 'DK', 'premium_rate'],
      ['80 12 34 56', 'DK', 'toll_free'],
      ['0810 12 34 56', 'FR', 'shared_cost'],
      ['030 12345678', 'DE', 'fixed_line'],
      ['0700 12345678', 'DE', 'personal_number'],
      ['085 812 3456', 'NL', 'voip'],
      ['07400 123456', 'GB', 'mobile'],
    ];
    for (const [typed, country, type] of cases) {
      const read = normalisePhone(typed, country);
      expect(read?.type, typed).toBe(type);
      expect(SMS_CAPABLE.has(read!.type), typed).toBe(type === 'mobile');
    }
  });

  it('refuses anything that is not a valid number of a real numbering plan, without throwing', () => {
    for (const typed of [
      '',
      '  ',
      '12',
      'abc',
      'call me',
      '+45 1234',
      '+999 1234567',
      '0000000',
      `+45${'1'.repeat(40)}`,
    ])
      expect(normalisePhone(typed, 'DK'), typed).toBeUndefined();
    fc.assert(
      fc.property(fc.string({ maxLength: 50 }), arbCountry, (typed, country) => {
        const read = normalisePhone(typed, country);
        if (read) {
          expect(read.e164).toMatch(/^\+[1-9]\d{1,14}$/);
          expect(typed.trim().length).toBeLessThanOrEqual(40);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

/** The digits of a masked number other than its country code. */
function revealed(masked: string): string {
  const [cc, ...rest] = masked.split(' ');
  expect(cc).toMatch(/^\+\d{0,3}$/);
  return rest.join('').replace(/\D/g, '');
}

describe('maskPhone', () => {
  it('shows only the country code and the last two digits', () => {
    expect(maskPhone('+4520123456')).toBe('+45 •• •• •• 56');
    expect(maskPhone('+4915123456789')).toBe('+49 •• •• •• •• • 89');
  });

  it('never shows more than the last two digits of any real number', () => {
    fc.assert(
      fc.property(arbWritten, (w) => {
        const masked = maskPhone(w.e164);
        expect(masked.startsWith(`+${getExampleNumber(w.country, examples)!.countryCallingCode} `)).toBe(
          true,
        );
        expect(revealed(masked)).toBe(w.e164.slice(-2));
      }),
      { numRuns: 300 },
    );
  });

  it('never shows more than two digits beyond a country code, whatever it is given', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ maxLength: 30 }), fc.stringMatching(/^\+?[0-9 ()-]{0,20}$/)),
        (input) => {
          expect(revealed(maskPhone(input)).length).toBeLessThanOrEqual(2);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('masks every number in a log line and leaves the rest of the line alone', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.stringMatching(/^[a-z=:,]{1,8}$/),
            arbWritten.map((w) => w.e164),
          ),
          { maxLength: 6 },
        ),
        (words) => {
          const line = words.join(' ');
          const masked = maskPhonesIn(line);
          expect(masked).toBe(words.map((w) => (w.startsWith('+') ? maskPhone(w) : w)).join(' '));
          for (const w of words.filter((x) => x.startsWith('+'))) expect(masked).not.toContain(w.slice(-5));
        },
      ),
      { numRuns: 500 },
    );
  });
});
