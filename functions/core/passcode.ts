/**
 * Passcodes: how they are drawn, how much they are worth, and how what a user types is read back.
 * Every draw is `crypto.randomInt`, which rejects out-of-range values, so no symbol is likelier than another.
 */
import { randomInt } from 'node:crypto';

export type PasscodeAlphabet = 'numeric' | 'alphanumeric' | 'memo';

export interface PasscodeSettings {
  length: number;
  validitySeconds: number;
  maxAttempts: number;
  /** Absent means numeric, the shape every stored tenant had before alphabets existed. */
  alphabet?: PasscodeAlphabet | undefined;
}

export const DEFAULT_PASSCODE: PasscodeSettings = {
  length: 6,
  validitySeconds: 300,
  maxAttempts: 3,
  alphabet: 'numeric',
};

export const MIN_LENGTH = 4;
export const MAX_LENGTH = 12;

/**
 * The entropy floor. NIST SP 800-63B counts six decimal digits as "approximately 20 bits", so the floor is
 * exactly that much (log2 10^6 ≈ 19.93): a configuration weaker than a six-digit code is refused.
 */
export const MIN_ENTROPY_BITS = Math.log2(10 ** 6);

export const DIGITS = '0123456789';
/** Upper case letters and digits without the look-alikes 0/O, 1/I/L. */
export const ALPHANUMERIC = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';
/** Memo codes alternate these, consonant then vowel: "bekidavo". Both sets avoid letters misheard aloud. */
export const MEMO_CONSONANTS = 'bdfghkmnprstvz';
export const MEMO_VOWELS = 'aeiou';

export class PasscodeConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PasscodeConfigError';
  }
}

/** The symbols each position of a code is drawn from. */
export function positionAlphabets(alphabet: PasscodeAlphabet, length: number): string[] {
  return Array.from({ length }, (_, i) => {
    if (alphabet === 'numeric') return DIGITS;
    if (alphabet === 'alphanumeric') return ALPHANUMERIC;
    return i % 2 === 0 ? MEMO_CONSONANTS : MEMO_VOWELS;
  });
}

export function entropyBits(settings: Pick<PasscodeSettings, 'length' | 'alphabet'>): number {
  return positionAlphabets(settings.alphabet ?? 'numeric', settings.length).reduce(
    (bits, symbols) => bits + Math.log2(symbols.length),
    0,
  );
}

/** Throws a clear error for any configuration that cannot produce strong enough codes. */
export function assertPasscodeSettings(settings: PasscodeSettings): void {
  const { length, alphabet = 'numeric' } = settings;
  if (!['numeric', 'alphanumeric', 'memo'].includes(alphabet))
    throw new PasscodeConfigError(`unknown passcode alphabet "${alphabet}"`);
  if (!Number.isInteger(length) || length < MIN_LENGTH || length > MAX_LENGTH)
    throw new PasscodeConfigError(`passcode length must be ${MIN_LENGTH}–${MAX_LENGTH}, not ${length}`);
  const bits = entropyBits(settings);
  // A hair of tolerance so that exactly six digits passes despite floating point.
  if (bits < MIN_ENTROPY_BITS - 1e-9)
    throw new PasscodeConfigError(
      `a ${length}-character ${alphabet} passcode has ${bits.toFixed(1)} bits of entropy; ` +
        'at least 20 bits (six digits) are required: make it longer or use a larger alphabet',
    );
  if (!Number.isInteger(settings.maxAttempts) || settings.maxAttempts < 1 || settings.maxAttempts > 10)
    throw new PasscodeConfigError('passcode attempts must be 1–10');
  if (
    !Number.isInteger(settings.validitySeconds) ||
    settings.validitySeconds < 30 ||
    settings.validitySeconds > 3600
  )
    throw new PasscodeConfigError('passcode validity must be 30–3600 seconds');
}

export function generatePasscode(settings: Pick<PasscodeSettings, 'length' | 'alphabet'>): string {
  assertPasscodeSettings({ validitySeconds: 300, maxAttempts: 3, ...settings });
  let code = '';
  for (const symbols of positionAlphabets(settings.alphabet ?? 'numeric', settings.length))
    code += symbols[randomInt(symbols.length)];
  return code;
}

/** A numeric passcode from the CSPRNG. */
export function generateNumericPasscode(length: number): string {
  return generatePasscode({ length, alphabet: 'numeric' });
}

/**
 * The form a code is hashed in, for the code as sent and as typed alike: spaces and dashes dropped (people
 * copy "123 456"), letters upper-cased (memo codes are sent in lower case, alphanumeric in upper case).
 * What a phone keyboard in another script types counts as the same code: NFKC folds full-width digits and
 * letters to ASCII, other decimal digits (Arabic-Indic, Devanagari, ...) become 0–9, and the invisible
 * direction marks a right-to-left keyboard inserts are dropped.
 */
export function canonicalPasscode(code: string): string {
  return code
    .normalize('NFKC')
    .replace(/[\s\p{Pd}\p{Cf}]/gu, '')
    .replace(/\p{Nd}/gu, asciiDigit)
    .toUpperCase();
}

const DECIMAL_DIGIT = /^\p{Nd}$/u;

/**
 * Unicode encodes every set of decimal digits as ten consecutive code points, zero first, and where sets sit
 * side by side each starts at a multiple of ten from the first: the value is the distance from the start of
 * the run of digits, modulo ten.
 */
function asciiDigit(digit: string): string {
  const cp = digit.codePointAt(0) ?? 0;
  if (cp < 0x80) return digit;
  let start = cp;
  while (DECIMAL_DIGIT.test(String.fromCodePoint(start - 1))) start--;
  return String((cp - start) % 10);
}
