/**
 * API keys look like `sp.auth.<tenantId>.<secret>`. The tenant id in clear lets one batched read fetch the
 * key record, the tenant and the user together; the record, found by the key's hash, is what grants
 * access, and it must agree with the kind and tenant written in the key.
 */
import { randomBytes } from 'node:crypto';
import { ID_PATTERN } from '../contracts/topics.ts';
import { UnauthorizedError } from './errors.ts';
import type { ApiKeyRecord, KeyKind } from './model.ts';
import { secretHash } from './secrets.ts';

const KINDS: readonly KeyKind[] = ['auth', 'sync', 'admin', 'operator'];
const OPERATOR_TENANT = '-';

export interface ParsedKey {
  kind: KeyKind;
  tenantId: string;
  hash: string;
}

export function mintKey(kind: KeyKind, tenantId: string): { key: string; hash: string; prefix: string } {
  const key = `sp.${kind}.${tenantId || OPERATOR_TENANT}.${randomBytes(24).toString('base64url')}`;
  return { key, hash: secretHash(key), prefix: key.slice(0, key.lastIndexOf('.') + 5) };
}

export function parseKey(key: string | undefined): ParsedKey | undefined {
  if (!key || key.length > 200) return undefined;
  const parts = key.split('.');
  if (parts.length !== 4 || parts[0] !== 'sp') return undefined;
  const [, kind, tenant, secret] = parts as [string, string, string, string];
  if (!KINDS.includes(kind as KeyKind) || !/^[A-Za-z0-9_-]{32}$/.test(secret)) return undefined;
  if (tenant !== OPERATOR_TENANT && !ID_PATTERN.test(tenant)) return undefined;
  return { kind: kind as KeyKind, tenantId: tenant === OPERATOR_TENANT ? '' : tenant, hash: secretHash(key) };
}

export function bearerKey(header: string | undefined): string | undefined {
  const m = header ? /^Bearer ([^\s]+)$/.exec(header) : null;
  return m?.[1];
}

/** Throws unless the stored record exists, is live, and matches what the key says of itself. */
export function assertKeyGrants(
  parsed: ParsedKey,
  record: ApiKeyRecord | undefined,
  kind: KeyKind,
): ApiKeyRecord {
  if (!record || record.revokedAt || record.kind !== kind || parsed.kind !== kind)
    throw new UnauthorizedError();
  if (record.tenantId !== parsed.tenantId) throw new UnauthorizedError();
  return record;
}
