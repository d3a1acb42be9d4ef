/**
 * The defences around anything that tests a secret of a user outside a challenge (an AD password, a reset's
 * personal passcode): fixed-window rate limits per user and per client IP, and the SAME per-user guard that
 * counts wrong passcodes, so a wrong password and a wrong passcode share one lockout.
 */
import type { Clock } from './clock.ts';
import { RateLimitedError, UserLockedError } from './errors.ts';
import type { Tenant } from './model.ts';
import type { GuardStore, RateLimiter } from './ports/abuse.ts';
import type { AuditLog } from './ports/audit.ts';
import type { Logger } from './ports/log.ts';
import type { DeploymentKeys } from './secrets.ts';
import { resolveSettings, securityOf } from './settings.ts';

export interface PasswordGuardDeps {
  guards: GuardStore;
  limiter: RateLimiter;
  audit: AuditLog;
  keys: DeploymentKeys;
  clock: Clock;
  log: Logger;
}

/** The lockout is the tenant's, as for passcode verifies. */
export const tenantSecurity = (tenant: Tenant) => securityOf(resolveSettings(tenant, undefined, undefined));

export class PasswordGuard {
  constructor(private readonly deps: PasswordGuardDeps) {}

  /**
   * Counts one attempt of `kind` (its own counters, so a RADIUS login's password check and its challenge do
   * not eat each other's budget) against the user's and the client IP's limits.
   */
  async countAttempt(
    tenant: Tenant,
    kind: string,
    username: string,
    clientIp: string | undefined,
  ): Promise<void> {
    const { limits } = tenantSecurity(tenant);
    const now = this.deps.clock.now();
    const windowMs = limits.windowSeconds * 1000;
    const window = Math.floor(now / windowMs);
    const windowEnd = (window + 1) * windowMs;
    const name = (k: string, value: string) =>
      `${kind}${k}${this.deps.keys.digest(tenant.id, 'rate-limit', `${kind}${k}\u0000${value}`).toString('base64url').slice(0, 12)}`;
    const allowed = await this.deps.limiter.hit(tenant.id, window, Math.ceil(windowEnd / 1000) + 60, [
      { name: name('u', username.toLowerCase()), max: limits.perUser },
      ...(clientIp ? [{ name: name('i', clientIp), max: limits.perClientIp }] : []),
    ]);
    if (!allowed) {
      this.deps.log.warn('password attempt rate limited', { tenantId: tenant.id, kind });
      throw new RateLimitedError(Math.max(1, Math.ceil((windowEnd - now) / 1000)));
    }
  }

  /** Refuses at once while the user is locked (by failures or an admin), before any secret is tested. */
  async assertNotLocked(tenant: Tenant, username: string): Promise<void> {
    const guard = await this.deps.guards.get(tenant.id, username);
    const now = this.deps.clock.now();
    if (guard?.lockedUntil && guard.lockedUntil > new Date(now).toISOString())
      throw new UserLockedError(Math.max(1, Math.ceil((Date.parse(guard.lockedUntil) - now) / 1000)));
  }

  /**
   * Passes a verdict through the user's guard, as a passcode verify does: a wrong one is counted in the same
   * conditional write, and however many race, at most `maxFailures` wrong verdicts are ever answered. The
   * wrong verdict that reaches the threshold locks the user and is answered `user_locked`. Returns the wrong
   * attempts left after this one.
   */
  async admit(tenant: Tenant, username: string, wrong: boolean, actor: string): Promise<number> {
    const { guards, clock } = this.deps;
    const { lockout } = tenantSecurity(tenant);
    const nowIso = new Date(clock.now()).toISOString();
    const admitted = await guards.admit(tenant.id, username, {
      nowIso,
      wrong,
      maxFailures: lockout.maxFailures,
    });
    if (admitted.admitted && admitted.failures < lockout.maxFailures) {
      if (!wrong && admitted.failures > 0) await guards.clearFailures(tenant.id, username);
      return lockout.maxFailures - admitted.failures;
    }
    if (admitted.admitted) {
      const until = new Date(clock.now() + lockout.lockSeconds * 1000).toISOString();
      if (await guards.lock(tenant.id, username, lockout.maxFailures, until))
        await this.audit({
          tenantId: tenant.id,
          at: nowIso,
          actor,
          action: 'user.locked',
          target: `user:${username}`,
          details: { username, failures: admitted.failures, until },
        });
      throw new UserLockedError(lockout.lockSeconds);
    }
    throw new UserLockedError(
      admitted.until ? Math.max(1, Math.ceil((Date.parse(admitted.until) - clock.now()) / 1000)) : undefined,
    );
  }

  private async audit(entry: Parameters<AuditLog['record']>[0]) {
    try {
      await this.deps.audit.record(entry);
    } catch (error) {
      this.deps.log.error('audit write failed', { action: entry.action, tenantId: entry.tenantId, error });
    }
  }
}
