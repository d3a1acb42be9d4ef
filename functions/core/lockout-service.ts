/**
 * What a tenant admin does about lockouts: see a user's state, lift a lock before it lifts by itself, and set
 * or clear the user's personal passcode (stored only as salted scrypt, valid only inside its window).
 */

import type { Clock } from './clock.ts';
import { NotFoundError } from './errors.ts';
import type { KeyActor } from './keys-service.ts';
import { hashPersonalPasscode } from './personal-passcode.ts';
import type { GuardStore } from './ports/abuse.ts';
import type { AuditLog } from './ports/audit.ts';
import type { DirectoryStore } from './ports/directory.ts';
import { resolveSettings } from './settings.ts';

export class LockoutService {
  constructor(
    private readonly deps: {
      guards: GuardStore;
      audit: AuditLog;
      clock: Clock;
      /** Reads the tenant's settings, so that a reply can say whether logins accept the passcode. */
      directory?: Pick<DirectoryStore, 'getTenant'>;
    },
  ) {}

  async state(actor: KeyActor, username: string) {
    const guard = await this.deps.guards.get(actor.tenantId, username);
    const nowIso = new Date(this.deps.clock.now()).toISOString();
    const locked = guard?.lockedUntil !== undefined && guard.lockedUntil > nowIso;
    return {
      username,
      locked,
      ...(locked && { lockedUntil: guard!.lockedUntil }),
      failures: guard?.failures ?? 0,
    };
  }

  async unlock(actor: KeyActor, username: string): Promise<void> {
    const nowIso = new Date(this.deps.clock.now()).toISOString();
    if (!(await this.deps.guards.unlock(actor.tenantId, username, nowIso)))
      throw new NotFoundError('A lock on this user');
    await this.deps.audit.record({
      tenantId: actor.tenantId,
      at: nowIso,
      actor: `key:${actor.keyPrefix}`,
      action: 'user.unlocked',
      target: `user:${username}`,
      details: { username },
    });
  }

  async setPersonalPasscode(
    actor: KeyActor,
    username: string,
    input: { passcode: string; validFrom: string; validUntil: string },
  ) {
    const validFrom = new Date(input.validFrom).toISOString();
    const validUntil = new Date(input.validUntil).toISOString();
    const hash = hashPersonalPasscode(input.passcode);
    await this.deps.guards.setPersonalPasscode(actor.tenantId, username, { hash, validFrom, validUntil });
    await this.deps.audit.record({
      tenantId: actor.tenantId,
      at: new Date(this.deps.clock.now()).toISOString(),
      actor: `key:${actor.keyPrefix}`,
      action: 'user.personal_passcode_set',
      target: `user:${username}`,
      details: { username, validFrom, validUntil },
    });
    // Stored either way, but an admin must not believe it works while the tenant's settings refuse it.
    const tenant = await this.deps.directory?.getTenant(actor.tenantId);
    const acceptedAtLogin = tenant
      ? resolveSettings(tenant, undefined, undefined)['security.allowPersonalPasscode'].value
      : false;
    return { username, validFrom, validUntil, acceptedAtLogin };
  }

  async clearPersonalPasscode(actor: KeyActor, username: string): Promise<void> {
    await this.deps.guards.setPersonalPasscode(actor.tenantId, username, null);
    await this.deps.audit.record({
      tenantId: actor.tenantId,
      at: new Date(this.deps.clock.now()).toISOString(),
      actor: `key:${actor.keyPrefix}`,
      action: 'user.personal_passcode_cleared',
      target: `user:${username}`,
      details: { username },
    });
  }
}
