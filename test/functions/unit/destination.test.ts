/**
 * Where a passcode may go, without HTTP: mobile numbers in an allowed country pass; premium-rate, shared-cost,
 * fixed-line, unreadable and foreign numbers are refused with the reason the admin is shown.
 */
import fc from 'fast-check';
import examples from 'libphonenumber-js/examples.mobile.json';
import { getCountries, getExampleNumber, parsePhoneNumberFromString } from 'libphonenumber-js/mobile';
import { describe, expect, it } from 'vitest';
import {
  checkDestination,
  type DestinationRefusal,
  DestinationRefusedError,
} from '../../../functions/core/destination.ts';
import type { PhoneType } from '../../../functions/core/model.ts';
import { SMS_CAPABLE } from '../../../functions/core/phone-numbers.ts';

function refusal(
  e164: string,
  allowed: readonly string[],
  storedType?: PhoneType,
): DestinationRefusal | 'sent' {
  try {
    checkDestination(e164, allowed, storedType);
    return 'sent';
  } catch (error) {
    if (error instanceof DestinationRefusedError) return error.reason;
    throw error;
  }
}

const PHONE_TYPES: PhoneType[] = [
  'mobile',
  'fixed_line_or_mobile',
  'fixed_line',
  'premium_rate',
  'toll_free',
  'shared_cost',
  'voip',
  'personal_number',
  'pager',
  'uan',
  'voicemail',
  'unknown',
];

/**
 * Countries whose example mobile number is their own (not in a range another country of the code owns).
 * Tristan da Cunha has no mobile network: its "mobile" example is a landline.
 */
const NO_MOBILES = ['TA'];
const mobileExamples = getCountries().flatMap((country) => {
  const e164 = getExampleNumber(country, examples)?.number;
  const own = e164 && parsePhoneNumberFromString(e164)?.country === country;
  return own && !NO_MOBILES.includes(country) ? [{ country, e164 }] : [];
});

describe('checkDestination', () => {
  it('sends to mobile numbers in an allowed country and names that country', () => {
    expect(checkDestination('+4520123456', ['DK'])).toEqual({ country: 'DK' });
    expect(checkDestination('+4915123456789', ['SE', 'DE'])).toEqual({ country: 'DE' });
    expect(checkDestination('+447400123456', ['GB'])).toEqual({ country: 'GB' });
    // North American numbers cannot be told apart from landlines: they may receive SMS.
    expect(checkDestination('+12015550123', ['US'])).toEqual({ country: 'US' });
  });

  it("sends every country's example mobile number when that country is allowed, and only then", () => {
    expect(mobileExamples.length).toBeGreaterThan(200);
    expect(refusal(getExampleNumber('TA', examples)!.number, ['TA'])).toBe('not_mobile');
    const everyCountry = getCountries();
    for (const { country, e164 } of mobileExamples) {
      expect(checkDestination(e164, [country]), country).toEqual({ country });
      expect(
        refusal(
          e164,
          everyCountry.filter((c) => c !== country),
        ),
        country,
      ).toBe('country_not_allowed');
      expect(refusal(e164, []), country).toBe('country_not_allowed');
    }
  });

  it.each([
    ['premium rate (DK 90)', '+4590123456', 'DK'],
    ['premium rate (GB 0843)', '+448432123456', 'GB'],
    ['premium rate (FR 0836)', '+33836123456', 'FR'],
    ['shared cost (FR 0810)', '+33810123456', 'FR'],
    ['shared cost (ES 901)', '+34901123456', 'ES'],
    ['shared cost (PL 801)', '+48801234567', 'PL'],
    ['toll free (DK 80)', '+4580123456', 'DK'],
    ['fixed line (DE Berlin)', '+493012345678', 'DE'],
    ['fixed line (GB Leeds)', '+441134960000', 'GB'],
    ['personal number (DE 700)', '+4970012345678', 'DE'],
    ['VoIP (NL 85)', '+31858123456', 'NL'],
  ])('refuses a %s number as not mobile, even in an allowed country', (_, e164, country) => {
    expect(refusal(e164, [country])).toBe('not_mobile');
  });

  it('refuses what is not a phone number as unparsable', () => {
    for (const input of ['', 'garbage', '+', '+1', 'not a number', '++4520123456'])
      expect(refusal(input, ['DK']), input).toBe('unparsable');
  });

  it('refuses a mobile number of a country the tenant does not allow', () => {
    expect(refusal('+33612345678', ['DK', 'GB'])).toBe('country_not_allowed');
    expect(refusal('+4520123456', ['SE'])).toBe('country_not_allowed');
  });

  it('checks the type before the country, so a premium number abroad reads as not mobile', () => {
    expect(refusal('+33836123456', ['DK'])).toBe('not_mobile');
  });

  it('tells the admin why in words, and the refusal is a no-route error with a stable code', () => {
    const foreign = catching(() => checkDestination('+33612345678', ['DK']));
    expect(foreign).toBeInstanceOf(DestinationRefusedError);
    expect(foreign).toMatchObject({ code: 'no_delivery_route', message: expect.stringMatching(/country/) });
    const premium = catching(() => checkDestination('+4590123456', ['DK']));
    expect(premium).toMatchObject({
      code: 'no_delivery_route',
      message: expect.stringMatching(/not a mobile/),
    });
  });

  it('lets the type stored with the user win over the metadata, in both directions', () => {
    // Classified as premium when saved: refused though the number looks mobile.
    expect(refusal('+4520123456', ['DK'], 'premium_rate')).toBe('not_mobile');
    expect(refusal('+447400123456', ['GB'], 'fixed_line')).toBe('not_mobile');
    // Classified as mobile when saved (full metadata): sent though the small metadata does not know it.
    expect(refusal('+493012345678', ['DE'], 'mobile')).toBe('sent');
    expect(refusal('+4590123456', ['DK'], 'fixed_line_or_mobile')).toBe('sent');
  });

  it('never lets a stored type bypass the country check or the parse', () => {
    for (const type of PHONE_TYPES) {
      expect(refusal('+33612345678', ['DK'], type)).toMatch(/^(not_mobile|country_not_allowed)$/);
      expect(refusal('garbage', ['DK'], type)).toBe('unparsable');
    }
  });

  it('sends to exactly the stored types the sync calls SMS-capable', () => {
    for (const type of PHONE_TYPES)
      expect(refusal('+4520123456', ['DK'], type), type).toBe(SMS_CAPABLE.has(type) ? 'sent' : 'not_mobile');
  });

  it('for any input, either names an allowed country or refuses with a reason; nothing else', () => {
    const allowed = ['DK', 'SE', 'US'];
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 30 }),
          fc.stringMatching(/^\+[0-9]{1,16}$/),
          fc.constantFrom(...mobileExamples.map((e) => e.e164)),
        ),
        fc.option(fc.constantFrom(...PHONE_TYPES), { nil: undefined }),
        (input, storedType) => {
          const verdict = refusal(input, allowed, storedType);
          if (verdict === 'sent')
            expect(allowed).toContain(checkDestination(input, allowed, storedType).country);
          else expect(['not_mobile', 'country_not_allowed', 'unparsable']).toContain(verdict);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

function catching(run: () => void): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  return undefined;
}
