/**
 * Bearer-key authentication for the sync, admin and operator APIs: the key must exist, be live, be of the
 * route's kind, and (for tenant kinds) belong to an active tenant. The auth API does the same check inside
 * its one batched read instead.
 */
import type { MiddlewareHandler } from 'hono';
import { assertKeyGrants, bearerKey, parseKey } from '../core/api-keys.ts';
import { UnauthorizedError } from '../core/errors.ts';
import type { KeyKind } from '../core/model.ts';
import type { DirectoryStore } from '../core/ports/directory.ts';

export interface KeyPrincipal {
  kind: KeyKind;
  /** Empty for the operator. */
  tenantId: string;
  /** The key's listing prefix: who did it, in audit entries. */
  keyPrefix: string;
}

export type KeyAuthEnv = { Variables: { principal: KeyPrincipal } };

export function keyAuth(kind: KeyKind, directory: DirectoryStore): MiddlewareHandler<KeyAuthEnv> {
  return async (c, next) => {
    const parsed = parseKey(bearerKey(c.req.header('authorization')));
    if (!parsed) throw new UnauthorizedError();
    const record = assertKeyGrants(parsed, await directory.findKey(parsed.hash), kind);
    if (kind !== 'operator') {
      const tenant = await directory.getTenant(record.tenantId);
      if (tenant?.status !== 'active') throw new UnauthorizedError();
    }
    c.set('principal', { kind, tenantId: record.tenantId, keyPrefix: record.prefix });
    await next();
  };
}
