import type { MiddlewareHandler } from 'hono';
import { ForbiddenError } from '../core/admin-errors.ts';
import { bearerKey, parseKey } from '../core/api-keys.ts';
import type { KeyKind } from '../core/model.ts';
import type { DirectoryStore } from '../core/ports/directory.ts';
import { type KeyAuthEnv, keyAuth } from './key-auth.ts';

/**
 * `keyAuth`, except that a genuine live key of another kind gets 403 rather than 401: the caller is known, the
 * API is simply not theirs. Unknown, revoked or forged keys, and every key of a tenant that is not active,
 * still get 401: a 403 would tell the holder of a suspended tenant's key that the key is genuine.
 */
export function keyOfKind(kind: KeyKind, directory: DirectoryStore): MiddlewareHandler<KeyAuthEnv> {
  const inner = keyAuth(kind, directory);
  return async (c, next) => {
    const parsed = parseKey(bearerKey(c.req.header('authorization')));
    if (parsed && parsed.kind !== kind) {
      const record = await directory.findKey(parsed.hash);
      if (
        record &&
        !record.revokedAt &&
        record.kind === parsed.kind &&
        record.tenantId === parsed.tenantId &&
        (record.kind === 'operator' || (await directory.getTenant(record.tenantId))?.status === 'active')
      )
        throw new ForbiddenError(`A ${parsed.kind} key cannot use this API.`);
    }
    return inner(c, next);
  };
}
