import { randomBytes } from 'node:crypto';

/** A 128-bit random id, URL- and topic-safe (base64url without padding; matches the contracts' ID_PATTERN). */
export function newId(bytes = 16): string {
  return randomBytes(bytes).toString('base64url');
}
