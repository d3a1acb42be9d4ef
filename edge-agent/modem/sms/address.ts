/**
 * Phone number fields of a PDU (3GPP TS 23.040 §9.1.2.5): a type-of-address octet and semi-octet digits.
 */

export const TOA_INTERNATIONAL = 0x91;
export const TOA_UNKNOWN = 0x81;

export interface ParsedNumber {
  digits: string;
  international: boolean;
}

/** Accepts `+4512345678`, `4512345678`, and spaces or dashes between digits; also `*` and `#`. */
export function parseNumber(number: string): ParsedNumber | undefined {
  const compact = number.replace(/[\s-]/g, '');
  const m = /^(\+?)([0-9*#]{1,20})$/.exec(compact);
  if (!m) return undefined;
  return { digits: m[2]!, international: m[1] === '+' };
}

const SEMI_OCTET_DIGITS = '0123456789*#abc';

/** Digits as swapped semi-octets, padded with F. */
export function encodeSemiOctets(digits: string): Buffer {
  const out = Buffer.alloc(Math.ceil(digits.length / 2));
  for (let i = 0; i < digits.length; i++) {
    const v = SEMI_OCTET_DIGITS.indexOf(digits[i]!);
    if (v < 0) throw new RangeError(`not a semi-octet digit: ${digits[i]}`);
    const idx = i >> 1;
    out[idx] = (out[idx] ?? 0) | (i % 2 === 0 ? v : v << 4);
  }
  if (digits.length % 2 === 1) out[out.length - 1] = (out[out.length - 1] ?? 0) | 0xf0;
  return out;
}

export function decodeSemiOctets(octets: Uint8Array, digitCount: number): string {
  let out = '';
  for (let i = 0; i < digitCount; i++) {
    const o = octets[i >> 1] ?? 0xff;
    const v = i % 2 === 0 ? o & 0x0f : o >> 4;
    if (v === 0x0f) break;
    out += SEMI_OCTET_DIGITS[v] ?? '';
  }
  return out;
}

/** TP-DA / TP-RA: digit count, type of address, semi-octets. */
export function encodeAddress(n: ParsedNumber): Buffer {
  return Buffer.concat([
    Buffer.from([n.digits.length, n.international ? TOA_INTERNATIONAL : TOA_UNKNOWN]),
    encodeSemiOctets(n.digits),
  ]);
}

/** The SMSC field: octet count (type octet included), type of address, semi-octets; `00` when absent. */
export function encodeSmscField(n: ParsedNumber | undefined): Buffer {
  if (!n) return Buffer.from([0]);
  const digits = encodeSemiOctets(n.digits);
  return Buffer.concat([
    Buffer.from([digits.length + 1, n.international ? TOA_INTERNATIONAL : TOA_UNKNOWN]),
    digits,
  ]);
}

export function formatNumber(digits: string, toa: number): string {
  return (toa & 0x70) === 0x10 ? `+${digits}` : digits;
}
