/**
 * The GSM 7-bit default alphabet and its extension table (3GPP TS 23.038 §6.2.1), shared by the cloud (which
 * must know whether a text fits one SMS) and the edge agent (which encodes it). National language shift
 * tables are not used: anything outside these two tables goes out as UCS2.
 */

/** Default alphabet, indexed by septet value. 0x1B is the escape to the extension table, not a character. */
export const DEFAULT_ALPHABET =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\u001bÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
  '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';

export const ESCAPE = 0x1b;

/** Extension table: character → septet that follows the escape. */
export const EXTENSION: ReadonlyArray<readonly [string, number]> = [
  ['\f', 0x0a],
  ['^', 0x14],
  ['{', 0x28],
  ['}', 0x29],
  ['\\', 0x2f],
  ['[', 0x3c],
  ['~', 0x3d],
  [']', 0x3e],
  ['|', 0x40],
  ['€', 0x65],
];

export const defaultByChar = new Map<string, number>();
for (let i = 0; i < DEFAULT_ALPHABET.length; i++) {
  if (i !== ESCAPE) defaultByChar.set(DEFAULT_ALPHABET[i]!, i);
}
export const extensionByChar = new Map<string, number>(EXTENSION);

/** Septets one character costs in GSM 7-bit (1 or 2), or undefined when it is not representable. */
export function gsm7Cost(char: string): 1 | 2 | undefined {
  if (defaultByChar.has(char)) return 1;
  if (extensionByChar.has(char)) return 2;
  return undefined;
}

/** What one SMS holds: 160 septets of GSM 7-bit, or 70 UTF-16 code units once any character needs UCS2. */
export function fitsOneSms(text: string): boolean {
  let septets = 0;
  for (const ch of text) {
    const cost = gsm7Cost(ch);
    if (cost === undefined) return text.length <= 70;
    septets += cost;
  }
  return septets <= 160;
}
