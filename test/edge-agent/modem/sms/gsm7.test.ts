import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  GSM7_BASIC_CHARS,
  GSM7_EXTENSION_CHARS,
  gsm7Cost,
  isGsm7,
  packSeptets,
  septetsToText,
  unpackSeptets,
} from '../../../../edge-agent/modem/sms/gsm7.ts';

describe('GSM 7-bit alphabet', () => {
  it('has 127 characters in the default table and 10 in the extension table', () => {
    expect(new Set(GSM7_BASIC_CHARS).size).toBe(127);
    expect(GSM7_EXTENSION_CHARS).toEqual(['\f', '^', '{', '}', '\\', '[', '~', ']', '|', '€']);
  });

  it('knows what fits and what does not', () => {
    expect(gsm7Cost('@')).toBe(1);
    expect(gsm7Cost('€')).toBe(2);
    expect(gsm7Cost('`')).toBeUndefined();
    expect(isGsm7('Hello, Ærø! {ok}')).toBe(true);
    expect(isGsm7('naïve')).toBe(false);
  });

  it('packs "hellohello" as in 23.040 examples', () => {
    const septets = [...'hellohello'].map(
      (c) => GSM7_BASIC_CHARS.indexOf(c) + (GSM7_BASIC_CHARS.indexOf(c) >= 27 ? 1 : 0),
    );
    expect(packSeptets(septets).toString('hex').toUpperCase()).toBe('E8329BFD4697D9EC37');
  });

  it('unpacks what it packs, at every fill-bit offset', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 127 }), { maxLength: 200 }),
        fc.integer({ min: 0, max: 6 }),
        (s, fill) => {
          expect(unpackSeptets(packSeptets(s, fill), s.length, fill)).toEqual(s);
        },
      ),
    );
  });

  it('shows the default character for an unknown escape and a space for a dangling one', () => {
    expect(septetsToText([0x1b, 0x41])).toBe('A');
    expect(septetsToText([0x41, 0x1b])).toBe('A ');
  });
});
