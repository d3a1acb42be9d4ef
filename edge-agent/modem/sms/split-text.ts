/** Cutting a text into SMS-sized parts, for PDU mode (concatenated parts) and text mode (separate SMS). */
import { gsm7Cost } from './gsm7.ts';

/**
 * Runs of at most `limit` septets. A character from the extension table costs two and never straddles a cut;
 * one outside GSM 7-bit counts as one (text mode leaves its conversion to the modem).
 */
export function splitSeptets(text: string, limit: number): string[] {
  const parts: string[] = [];
  let current = '';
  let used = 0;
  for (const ch of text) {
    const cost = gsm7Cost(ch) ?? 1;
    if (used + cost > limit) {
      parts.push(current);
      current = '';
      used = 0;
    }
    current += ch;
    used += cost;
  }
  parts.push(current);
  return parts;
}

/** Runs of at most `units` UTF-16 code units (UCS2); a surrogate pair never straddles a cut. */
export function splitCodeUnits(text: string, units: number): string[] {
  const parts: string[] = [];
  let start = 0;
  do {
    let end = Math.min(start + units, text.length);
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end--;
    parts.push(text.slice(start, end));
    start = end;
  } while (start < text.length);
  return parts;
}
