/**
 * The GSM 7-bit default alphabet and its extension table (3GPP TS 23.038 §6.2.1), plus septet packing.
 * National language shift tables are not used: anything outside these two tables goes out as UCS2. The tables
 * themselves are in the contracts, which the cloud shares to tell whether a text fits one SMS.
 */
import {
  DEFAULT_ALPHABET,
  defaultByChar,
  ESCAPE,
  EXTENSION,
  extensionByChar,
  gsm7Cost,
} from '../../../functions/contracts/gsm7.ts';

export { ESCAPE, gsm7Cost };

const extensionBySeptet = new Map<number, string>(EXTENSION.map(([c, s]) => [s, c]));

/** Every character the two tables can carry, for generators and documentation. */
export const GSM7_BASIC_CHARS: readonly string[] = [...defaultByChar.keys()];
export const GSM7_EXTENSION_CHARS: readonly string[] = EXTENSION.map(([c]) => c);

export function isGsm7(text: string): boolean {
  for (const ch of text) if (gsm7Cost(ch) === undefined) return false;
  return true;
}

/** Septets for one character; throws for characters outside both tables (callers check `isGsm7` first). */
export function charToSeptets(char: string): number[] {
  const basic = defaultByChar.get(char);
  if (basic !== undefined) return [basic];
  const ext = extensionByChar.get(char);
  if (ext !== undefined) return [ESCAPE, ext];
  throw new RangeError(`character U+${char.codePointAt(0)?.toString(16)} is not in the GSM 7-bit alphabet`);
}

/**
 * Septets back to text. An escape followed by a septet the extension table does not define shows the
 * default character, as 23.038 asks receivers to do; a dangling escape at the end shows a space.
 */
export function septetsToText(septets: readonly number[]): string {
  let out = '';
  for (let i = 0; i < septets.length; i++) {
    const s = septets[i]!;
    if (s === ESCAPE) {
      const next = septets[i + 1];
      i++;
      if (next === undefined) out += ' ';
      else out += extensionBySeptet.get(next) ?? DEFAULT_ALPHABET[next & 0x7f] ?? '';
    } else {
      out += DEFAULT_ALPHABET[s & 0x7f] ?? '';
    }
  }
  return out;
}

/** Packs septets LSB first, starting `fillBits` bits into the first octet (the gap after a UDH). */
export function packSeptets(septets: readonly number[], fillBits = 0): Buffer {
  const totalBits = fillBits + septets.length * 7;
  const out = Buffer.alloc(Math.ceil(totalBits / 8));
  let bit = fillBits;
  for (const s of septets) {
    const byte = bit >> 3;
    const shift = bit & 7;
    out[byte] = (out[byte] ?? 0) | ((s << shift) & 0xff);
    if (shift > 1) out[byte + 1] = (out[byte + 1] ?? 0) | (s >> (8 - shift));
    bit += 7;
  }
  return out;
}

/** Unpacks `count` septets, skipping `fillBits` bits at the start. */
export function unpackSeptets(octets: Uint8Array, count: number, fillBits = 0): number[] {
  const out: number[] = [];
  let bit = fillBits;
  for (let i = 0; i < count; i++) {
    const byte = bit >> 3;
    const shift = bit & 7;
    let v = (octets[byte] ?? 0) >> shift;
    if (shift > 1) v |= (octets[byte + 1] ?? 0) << (8 - shift);
    out.push(v & 0x7f);
    bit += 7;
  }
  return out;
}
