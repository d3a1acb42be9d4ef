/**
 * Personal passcodes are static and chosen by people, so they are stored as salted scrypt, not a fast hash:
 * a table dump alone does not give them up, and the admin function needs no deployment secret to set one.
 * Checking one costs tens of milliseconds, paid only when the sent code did not match.
 */
import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
import { canonicalPasscode } from './passcode.ts';

const PARAMS = { N: 2 ** 14, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };
const KEY_BYTES = 32;

export function hashPersonalPasscode(code: string): string {
  const salt = randomBytes(16);
  const hash = scryptSync(canonicalPasscode(code), salt, KEY_BYTES, PARAMS);
  return `scrypt$${salt.toString('base64url')}$${hash.toString('base64url')}`;
}

export function personalPasscodeMatches(typed: string, stored: string): boolean {
  const [scheme, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  if (expected.length !== KEY_BYTES) return false;
  const actual = scryptSync(canonicalPasscode(typed), Buffer.from(salt, 'base64url'), KEY_BYTES, PARAMS);
  return timingSafeEqual(actual, expected);
}
