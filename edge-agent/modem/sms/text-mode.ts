/**
 * What text mode (AT+CMGF=1) needs: it cannot carry a UDH, so long texts go out as separate SMS, and the
 * character set is chosen per message (IRA for plain ASCII, UCS2 hex otherwise).
 */
import { splitCodeUnits, splitSeptets } from './split-text.ts';

export type TextCharset = 'IRA' | 'UCS2';

export interface TextModePlan {
  charset: TextCharset;
  parts: string[];
}

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

export function planTextMode(text: string): TextModePlan {
  // IRA characters map onto GSM 7-bit; `{`, `[`, `~` … cost two septets once the modem converts them.
  if (PRINTABLE_ASCII.test(text)) return { charset: 'IRA', parts: splitSeptets(text, 160) };
  return { charset: 'UCS2', parts: splitCodeUnits(text, 70) };
}

/** UCS2 as the TE character set: four hex digits per UTF-16 code unit. */
export function toUcs2Hex(text: string): string {
  return Buffer.from(text, 'utf16le').swap16().toString('hex').toUpperCase();
}

export function fromUcs2Hex(hex: string): string | undefined {
  if (hex.length % 4 !== 0 || !/^[0-9A-Fa-f]*$/.test(hex)) return undefined;
  return Buffer.from(hex, 'hex').swap16().toString('utf16le');
}
