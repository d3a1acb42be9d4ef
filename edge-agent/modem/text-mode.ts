/**
 * What text mode (AT+CMGF=1) needs: it cannot carry a UDH, so long texts go out as separate SMS, and the
 * character set is chosen per message (IRA for plain ASCII, UCS2 hex otherwise).
 */
import { gsm7Cost } from './gsm7.ts';

export type TextCharset = 'IRA' | 'UCS2';

export interface TextModePlan {
  charset: TextCharset;
  parts: string[];
}

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

export function planTextMode(text: string): TextModePlan {
  if (PRINTABLE_ASCII.test(text)) {
    // IRA characters map onto GSM 7-bit; `{`, `[`, `~` … cost two septets once the modem converts them.
    const parts: string[] = [];
    let current = '';
    let used = 0;
    for (const ch of text) {
      const cost = gsm7Cost(ch) ?? 1;
      if (used + cost > 160) {
        parts.push(current);
        current = '';
        used = 0;
      }
      current += ch;
      used += cost;
    }
    parts.push(current);
    return { charset: 'IRA', parts };
  }
  const parts: string[] = [];
  let start = 0;
  while (start < text.length || parts.length === 0) {
    let end = Math.min(start + 70, text.length);
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end--;
    parts.push(text.slice(start, end));
    start = end;
    if (start >= text.length) break;
  }
  return { charset: 'UCS2', parts };
}

/** UCS2 as the TE character set: four hex digits per UTF-16 code unit. */
export function toUcs2Hex(text: string): string {
  return Buffer.from(text, 'utf16le').swap16().toString('hex').toUpperCase();
}

export function fromUcs2Hex(hex: string): string | undefined {
  if (hex.length % 4 !== 0 || !/^[0-9A-Fa-f]*$/.test(hex)) return undefined;
  return Buffer.from(hex, 'hex').swap16().toString('utf16le');
}
