/**
 * The user's PIN, typed in front of the passcode at login (`PIN + passcode` in the one field, so RADIUS
 * gateways and every auth client work unchanged). Stored as salted scrypt like personal passcodes: people
 * choose PINs, and a table dump alone must not give them up. Its length is kept beside the hash, because the
 * passcode behind it may be the sent code, a personal passcode or an app's code, each of its own length.
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import type { UserPin } from './model.ts';
import { canonicalPasscode } from './passcode.ts';
import { hashPersonalPasscode } from './personal-passcode.ts';

/** The personal passcode's scrypt parameters (the same stored format). */
const PARAMS = { N: 2 ** 14, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };
const KEY_BYTES = 32;

export function hashPin(pin: string): UserPin {
  const canonical = canonicalPasscode(pin);
  return { hash: hashPersonalPasscode(canonical), length: canonical.length };
}

/**
 * Whether the typed PIN is the stored one: always one scrypt, whatever was typed. Asynchronous (the thread
 * pool), because every verify of a PIN user pays it and hundreds at once must not stall the event loop.
 */
export async function pinMatches(typed: string, pin: UserPin): Promise<boolean> {
  const canonical = canonicalPasscode(typed);
  const [scheme, salt, hash] = pin.hash.split('$');
  const expected = Buffer.from(hash ?? '', 'base64url');
  const actual = await new Promise<Buffer>((resolve, reject) =>
    scrypt(canonical, Buffer.from(salt ?? '', 'base64url'), KEY_BYTES, PARAMS, (error, key) =>
      error ? reject(error) : resolve(key),
    ),
  );
  return (
    scheme === 'scrypt' &&
    expected.length === KEY_BYTES &&
    timingSafeEqual(actual, expected) &&
    canonical.length === pin.length
  );
}

/**
 * Splits a typed `PIN + passcode` (already canonical) at the stored PIN's length. Too short a code leaves no
 * passcode, and its PIN part still costs the one scrypt when checked.
 */
export function splitPin(typed: string, pin: UserPin): { pin: string; passcode: string } {
  return { pin: typed.slice(0, pin.length), passcode: typed.slice(pin.length) };
}

let unknown: UserPin | undefined;
/**
 * A PIN no one can type (a random hex string, never digits only), for challenges whose user must have a PIN
 * but has none, and for decoys of tenants that require one: they are checked with the same scrypt as a real
 * PIN, so the time a verify takes tells nothing.
 */
export function unknownPin(length: number): UserPin {
  unknown ??= { hash: hashPersonalPasscode(randomBytes(16).toString('hex')), length: 0 };
  return { hash: unknown.hash, length };
}
