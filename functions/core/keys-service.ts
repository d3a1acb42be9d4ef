/**
 * Tenant keys: an admin mints auth, sync and admin keys for its own tenant, sees them listed by prefix, and
 * revokes them. The key itself is shown once, at minting; only its SHA-256 is stored. Revoking takes effect on
 * the next request, because every request reads the key record with a strongly consistent read.
 */
import { mintKey } from './api-keys.ts';
import type { Clock } from './clock.ts';
import { DomainError, NotFoundError } from './errors.ts';
import type { ApiKeyRecord, KeyKind } from './model.ts';
import type { AuditLog } from './ports/audit.ts';
import type { KeyStore, StoredKey } from './ports/keys.ts';

export type TenantKeyKind = Exclude<KeyKind, 'operator'>;

/** The principal doing it, as the key-auth middleware found it. */
export interface KeyActor {
  tenantId: string;
  keyPrefix: string;
}

export class AmbiguousKeyPrefixError extends DomainError {
  constructor() {
    super('ambiguous_prefix', 'More than one live key has this prefix; revoke by a longer one.');
  }
}

export class KeysService {
  constructor(private readonly deps: { store: KeyStore; audit: AuditLog; clock: Clock }) {}

  async mint(actor: KeyActor, kind: TenantKeyKind): Promise<{ key: string; record: ApiKeyRecord }> {
    const minted = mintKey(kind, actor.tenantId);
    const createdAt = new Date(this.deps.clock.now()).toISOString();
    const record: StoredKey = {
      hash: minted.hash,
      prefix: minted.prefix,
      kind,
      tenantId: actor.tenantId,
      createdAt,
    };
    await this.deps.store.put(record);
    await this.deps.audit.record({
      tenantId: actor.tenantId,
      at: createdAt,
      actor: `key:${actor.keyPrefix}`,
      action: 'key.created',
      target: `key:${minted.prefix}`,
      after: { kind, prefix: minted.prefix },
    });
    const { hash: _hash, ...visible } = record;
    return { key: minted.key, record: visible };
  }

  async list(
    actor: KeyActor,
    filter: { kind?: TenantKeyKind; prefix?: string; includeRevoked?: boolean } = {},
  ): Promise<ApiKeyRecord[]> {
    const keys = await this.deps.store.list(actor.tenantId);
    return keys
      .filter((k) => k.tenantId === actor.tenantId && k.kind !== 'operator')
      .filter((k) => !filter.kind || k.kind === filter.kind)
      .filter((k) => !filter.prefix || k.prefix.startsWith(filter.prefix))
      .filter((k) => filter.includeRevoked || !k.revokedAt)
      .map(({ hash: _hash, ...visible }) => visible);
  }

  async revoke(actor: KeyActor, prefix: string): Promise<{ prefix: string; revokedAt: string }> {
    const live = (await this.deps.store.list(actor.tenantId)).filter(
      (k) => k.tenantId === actor.tenantId && k.prefix === prefix && !k.revokedAt && k.kind !== 'operator',
    );
    if (live.length === 0) throw new NotFoundError('A live key with this prefix');
    if (live.length > 1) throw new AmbiguousKeyPrefixError();
    const target = live[0]!;
    const revokedAt = new Date(this.deps.clock.now()).toISOString();
    if (!(await this.deps.store.revoke(target.hash, actor.tenantId, revokedAt)))
      throw new NotFoundError('A live key with this prefix');
    await this.deps.audit.record({
      tenantId: actor.tenantId,
      at: revokedAt,
      actor: `key:${actor.keyPrefix}`,
      action: 'key.revoked',
      target: `key:${prefix}`,
      before: { kind: target.kind, prefix },
    });
    return { prefix, revokedAt };
  }
}
