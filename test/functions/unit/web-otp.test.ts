/**
 * The origin-bound one-time code line (WebOTP, https://wicg.github.io/sms-one-time-codes/): the SMS ends with
 * its own last line `@host #code`, and the whole message stays one SMS, because browsers read a single message.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fitsOneSms } from '../../../functions/contracts/gsm7.ts';
import { composeMessage } from '../../../functions/core/delivery-planning.ts';
import type { Tenant } from '../../../functions/core/model.ts';
import { resolveSettings } from '../../../functions/core/settings.ts';

const tenant = (messageTemplate: string, webOtpOrigin?: string): Tenant => ({
  id: 't',
  name: 'T',
  status: 'active',
  defaultCountry: 'DK',
  allowedCountries: ['DK'],
  userLimit: 1,
  passcode: { length: 6, validitySeconds: 300, maxAttempts: 3 },
  messageTemplate,
  defaultModemGroup: 'default',
  ...(webOtpOrigin && { webOtpOrigin }),
});

const compose = (template: string, host: string | undefined, code: string, ip?: string) =>
  composeMessage(resolveSettings(tenant(template, host), undefined, undefined), {
    code,
    minutes: 5,
    ...(ip && { ip }),
  });

describe('origin-bound code line', () => {
  it('ends the message with exactly "@host #code" on its own line', () => {
    expect(compose('Your login code is {code}.', 'login.example.com', '123456')).toBe(
      'Your login code is 123456.\n\n@login.example.com #123456',
    );
  });

  it('adds nothing without a host', () => {
    expect(compose('Your login code is {code}.', undefined, '123456')).toBe('Your login code is 123456.');
  });

  it('shortens the text above the line, never the line, to stay within one SMS', () => {
    const long = `Your login code is {code}. ${'Please do not share it with anyone. '.repeat(6)}From {ip}.`;
    const text = compose(long, 'login.example.com', '123456', '203.0.113.7');
    expect(fitsOneSms(text)).toBe(true);
    expect(text.split('\n').at(-1)).toBe('@login.example.com #123456');
    expect(text.startsWith('Your login code is 123456.')).toBe(true);
  });

  it('keeps one SMS when the text needs UCS-2 (70 characters)', () => {
    const text = compose(
      'Din kode er {code}. Ikke del den med nogen — heller ikke os. 你好',
      'a.example.dk',
      'ab12cd',
    );
    expect(fitsOneSms(text)).toBe(true);
    expect(text.endsWith('\n\n@a.example.dk #ab12cd')).toBe(true);
  });

  it('for any template, host and code: one SMS, and the last line is the code line', () => {
    const host = fc
      .array(fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?$/), { minLength: 2, maxLength: 4 })
      .map((labels) => labels.join('.'))
      .filter((h) => h.length <= 100);
    const template = fc.string({ maxLength: 300 }).map((t) => `${t}{code}${t}`);
    const code = fc.stringMatching(/^[A-Za-z0-9]{4,12}$/);
    fc.assert(
      fc.property(template, host, code, fc.option(fc.ipV4(), { nil: undefined }), (t, h, c, ip) => {
        const text = compose(t, h, c, ip);
        expect(fitsOneSms(text)).toBe(true);
        expect(text.split('\n').at(-1)).toBe(`@${h} #${c}`);
      }),
      { numRuns: 500 },
    );
  });
});
