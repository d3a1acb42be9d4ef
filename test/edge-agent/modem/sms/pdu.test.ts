import fc from 'fast-check';
import { parse, Submit } from 'node-pdu';
import { describe, expect, it } from 'vitest';
import { PduEncodeError } from '../../../../edge-agent/modem/at/errors.ts';
import { GSM7_BASIC_CHARS, GSM7_EXTENSION_CHARS } from '../../../../edge-agent/modem/sms/gsm7.ts';
import {
  encodeSubmit,
  planParts,
  relativeValidity,
  relativeValidityMinutes,
} from '../../../../edge-agent/modem/sms/pdu.ts';
import { decodeSubmit } from '../../../../edge-agent/modem/sms/pdu-decode.ts';

/** Decodes every part with node-pdu, an independent implementation, and joins the texts. */
function nodePduText(pdus: string[]): string {
  return pdus
    .map((pdu) => {
      const parsed = parse(pdu);
      if (!(parsed instanceof Submit)) throw new Error('node-pdu did not see an SMS-SUBMIT');
      return parsed.data.getText();
    })
    .join('');
}

function ownText(pdus: string[]): string {
  return pdus.map((pdu) => decodeSubmit(pdu).text).join('');
}

/**
 * node-pdu 2.1.1 departs from 23.038 in two places: its default table has a backtick at 0x5F instead of '§',
 * and its extension table lacks the form feed (0x1B 0x0A), which it also shows as a backtick.
 */
function asNodePduReads(text: string): string {
  return text.replace(/[§\f]/g, '`');
}

const basicChar = fc.constantFrom(...GSM7_BASIC_CHARS);
const extChar = fc.constantFrom(...GSM7_EXTENSION_CHARS);
const gsm7Text = fc.string({
  unit: fc.oneof({ weight: 4, arbitrary: basicChar }, { weight: 1, arbitrary: extChar }),
  maxLength: 1000,
});
const extHeavyText = fc.string({ unit: extChar, minLength: 1, maxLength: 500 });
// At least one character outside GSM 7-bit forces UCS2; full Unicode includes astral characters (surrogate pairs).
const ucs2Text = fc
  .tuple(fc.string({ unit: 'binary', maxLength: 999 }), fc.constantFrom('Ж', '中', '😀', 'ą', '\u0301'))
  .map(([s, forced]) => s + forced)
  .filter((s) => s.length <= 1000);

describe('SMS-SUBMIT vectors', () => {
  it('encodes the published "hellohello" example with a 4-day relative validity', () => {
    // The classic SMS-SUBMIT walkthrough (dreamfabric "SMS and the PDU format").
    expect(encodeSubmit({ to: '+46708251358', text: 'hellohello', validityMinutes: 4 * 24 * 60 })).toEqual([
      { pdu: '0011000B916407281553F80000AA0AE8329BFD4697D9EC37', tpduLength: 23 },
    ]);
  });

  it('matches the node-pdu README example byte for byte', () => {
    expect(encodeSubmit({ to: '+999999999999', text: 'Hello everyone!' })).toEqual([
      { pdu: '0001000C9199999999999900000FC8329BFD0695ED6579FEED2E8700', tpduLength: 27 },
    ]);
  });

  it('writes a given SMSC in front of the TPDU without counting it in the length', () => {
    const [part] = encodeSubmit({ to: '+4512345678', text: 'hi', smsc: '+4540390999' });
    expect(part!.pdu.startsWith('06915404939099')).toBe(true);
    expect(part!.tpduLength).toBe((part!.pdu.length - 14) / 2);
    expect(decodeSubmit(part!.pdu).smsc).toBe('+4540390999');
  });

  it('encodes UCS2 big-endian with DCS 08', () => {
    const [part] = encodeSubmit({ to: '+4512345678', text: 'Привет' });
    expect(part!.pdu).toBe('0001000A91542143658700080C041F04400438043204350442');
  });

  it('marks flash messages as class 0 and asks for a status report with TP-SRR', () => {
    const [gsm] = encodeSubmit({ to: '+4512345678', text: 'code 123456', flash: true, statusReport: true });
    const [ucs] = encodeSubmit({ to: '+4512345678', text: 'код 123456', flash: true });
    const g = decodeSubmit(gsm!.pdu);
    expect(g).toMatchObject({ flash: true, statusReport: true, encoding: 'gsm7', text: 'code 123456' });
    expect(gsm!.pdu.slice(2, 4)).toBe('21');
    expect(decodeSubmit(ucs!.pdu)).toMatchObject({ flash: true, statusReport: false, encoding: 'ucs2' });
    const parsed = parse(gsm!.pdu) as Submit;
    expect(parsed.dataCodingScheme.useMessageClass).toBe(true);
    expect(parsed.dataCodingScheme.classMessage).toBe(0);
  });

  it('accepts national numbers and refuses things that are not numbers', () => {
    expect(decodeSubmit(encodeSubmit({ to: '12345', text: 'x' })[0]!.pdu).to).toBe('12345');
    expect(() => encodeSubmit({ to: 'alice', text: 'x' })).toThrow(PduEncodeError);
    expect(() => encodeSubmit({ to: '+45', text: 'x', smsc: 'nope' })).toThrow(/smsc/);
  });
});

describe('relative validity period', () => {
  it('rounds up to the next value TP-VP can express', () => {
    expect(relativeValidity(5)).toBe(0);
    expect(relativeValidity(6)).toBe(1);
    expect(relativeValidity(720)).toBe(143);
    expect(relativeValidity(721)).toBe(144);
    expect(relativeValidity(1440)).toBe(167);
    expect(relativeValidity(2 * 1440)).toBe(168);
    expect(relativeValidity(30 * 1440)).toBe(196);
    expect(relativeValidity(31 * 1440)).toBe(197);
    expect(relativeValidity(10 ** 9)).toBe(255);
    expect(() => relativeValidity(0)).toThrow(PduEncodeError);
  });

  it('never gives less time than asked, up to the maximum of 63 weeks', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 63 * 7 * 1440 }), (minutes) => {
        expect(relativeValidityMinutes(relativeValidity(minutes))).toBeGreaterThanOrEqual(minutes);
      }),
    );
  });

  it('is carried in the PDU and read back by node-pdu', () => {
    const [part] = encodeSubmit({ to: '+4512345678', text: 'x', validityMinutes: 60 });
    expect(decodeSubmit(part!.pdu).validityMinutes).toBe(60);
    const parsed = parse(part!.pdu) as Submit;
    expect(parsed.type.validityPeriodFormat).toBe(2);
    expect(parsed.validityPeriod.interval).toBe(3600);
  });
});

describe('part counts', () => {
  it('fits 160 GSM 7-bit characters or 70 UCS2 characters in one part', () => {
    expect(encodeSubmit({ to: '+4512345678', text: 'a'.repeat(160) })).toHaveLength(1);
    expect(encodeSubmit({ to: '+4512345678', text: 'a'.repeat(161) })).toHaveLength(2);
    expect(encodeSubmit({ to: '+4512345678', text: 'ж'.repeat(70) })).toHaveLength(1);
    expect(encodeSubmit({ to: '+4512345678', text: 'ж'.repeat(71) })).toHaveLength(2);
  });

  it('puts 153 GSM 7-bit or 67 UCS2 characters in each part once split', () => {
    expect(planParts('a'.repeat(306)).parts.map((p) => p.length)).toEqual([153, 153]);
    expect(planParts('a'.repeat(307)).parts.map((p) => p.length)).toEqual([153, 153, 1]);
    expect(planParts('ж'.repeat(134)).parts.map((p) => p.length)).toEqual([67, 67]);
    expect(planParts('ж'.repeat(135)).parts.map((p) => p.length)).toEqual([67, 67, 1]);
  });

  it('counts extension characters as two septets and never splits their escape', () => {
    expect(encodeSubmit({ to: '+4512345678', text: '€'.repeat(80) })).toHaveLength(1);
    expect(encodeSubmit({ to: '+4512345678', text: '€'.repeat(81) })).toHaveLength(2);
    // 152 septets of 'a', then '€' would straddle 153: it moves whole into the next part.
    expect(planParts(`${'a'.repeat(152)}€${'b'.repeat(10)}`).parts).toEqual([
      'a'.repeat(152),
      `€${'b'.repeat(10)}`,
    ]);
  });

  it('never splits a surrogate pair across parts', () => {
    const text = `${'ж'.repeat(66)}😀tail${'ж'.repeat(70)}`;
    const { parts } = planParts(text);
    expect(parts[0]).toBe('ж'.repeat(66));
    expect(parts[1]!.startsWith('😀')).toBe(true);
    expect(parts.join('')).toBe(text);
  });

  it('gives every part the same reference, the total and its sequence number', () => {
    const parts = encodeSubmit({ to: '+4512345678', text: 'z'.repeat(400), reference: 42 });
    expect(parts.map((p) => decodeSubmit(p.pdu).concat)).toEqual([
      { reference: 42, total: 3, sequence: 1 },
      { reference: 42, total: 3, sequence: 2 },
      { reference: 42, total: 3, sequence: 3 },
    ]);
    expect(parts.every((p) => p.tpduLength <= 140 + 13)).toBe(true);
  });

  it('uses a new reference for each long message when none is given', () => {
    const a = decodeSubmit(encodeSubmit({ to: '+4512345678', text: 'z'.repeat(200) })[0]!.pdu).concat;
    const b = decodeSubmit(encodeSubmit({ to: '+4512345678', text: 'z'.repeat(200) })[0]!.pdu).concat;
    expect(a!.reference).not.toBe(b!.reference);
  });

  it('refuses a text that would need more than 255 parts', () => {
    expect(() => encodeSubmit({ to: '+4512345678', text: 'a'.repeat(153 * 255 + 1) })).toThrow(/at most 255/);
  });
});

describe('round trips through an independent decoder', () => {
  const to = '+4512345678';

  it('GSM 7-bit texts with extension characters, up to 1000 characters', () => {
    fc.assert(
      fc.property(gsm7Text, fc.boolean(), (text, flash) => {
        const parts = encodeSubmit({ to, text, flash });
        const pdus = parts.map((p) => p.pdu);
        expect(nodePduText(pdus)).toBe(asNodePduReads(text));
        expect(ownText(pdus)).toBe(text);
        for (const p of parts) {
          expect(p.tpduLength).toBe(p.pdu.length / 2 - 1);
          expect(decodeSubmit(p.pdu).encoding).toBe('gsm7');
        }
      }),
      { numRuns: 200 },
    );
  });

  it('texts made only of extension characters', () => {
    fc.assert(
      fc.property(extHeavyText, (text) => {
        const pdus = encodeSubmit({ to, text }).map((p) => p.pdu);
        expect(nodePduText(pdus)).toBe(asNodePduReads(text));
        expect(ownText(pdus)).toBe(text);
      }),
      { numRuns: 100 },
    );
  });

  it('UCS2 texts, astral characters included, up to 1000 UTF-16 units', () => {
    fc.assert(
      fc.property(ucs2Text, (text) => {
        const parts = encodeSubmit({ to, text });
        const pdus = parts.map((p) => p.pdu);
        expect(ownText(pdus)).toBe(text);
        expect(nodePduText(pdus)).toBe(text);
        for (const p of parts) expect(decodeSubmit(p.pdu).encoding).toBe('ucs2');
      }),
      { numRuns: 200 },
    );
  });

  it('uses as few parts as the standard allows', () => {
    fc.assert(
      fc.property(fc.oneof(gsm7Text, ucs2Text), (text) => {
        const plan = planParts(text);
        const perPart = plan.encoding === 'gsm7' ? 153 : 67;
        const single = plan.encoding === 'gsm7' ? 160 : 70;
        const size = (s: string) =>
          plan.encoding === 'gsm7'
            ? [...s].reduce((n, c) => n + (GSM7_EXTENSION_CHARS.includes(c) ? 2 : 1), 0)
            : s.length;
        const total = size(text);
        if (total <= single) expect(plan.parts).toHaveLength(1);
        else {
          // A part may end one unit early to keep an escape or a surrogate pair whole, never more.
          for (const part of plan.parts.slice(0, -1)) expect(size(part)).toBeGreaterThanOrEqual(perPart - 1);
          for (const part of plan.parts) expect(size(part)).toBeLessThanOrEqual(perPart);
        }
        expect(plan.parts.join('')).toBe(text);
      }),
      { numRuns: 300 },
    );
  });
});
