/**
 * The defences around a challenge: the abuse limits a create counts against, and the user's guard that every
 * verdict must pass (the lockout). They are kept apart from the lifecycle so that the rules read in one place.
 */

import type { Clock } from './clock.ts';
import { RateLimitedError, UserLockedError } from './errors.ts';
import type { Challenge, Tenant } from './model.ts';
import type { GuardStore, LimitCounter, RateLimiter } from './ports/abuse.ts';
import type { AuditEntry, AuditLog } from './ports/audit.ts';
import type { ChallengeStore } from './ports/challenges.ts';
import type { Logger } from './ports/log.ts';
import type { DeploymentKeys } from './secrets.ts';
import type { ResolvedSecurity } from './settings.ts';

export interface ChallengeDefencesDeps {
  challenges: ChallengeStore;
  keys: DeploymentKeys;
  clock: Clock;
  guards: GuardStore;
  limiter: RateLimiter;
  audit: AuditLog;
  log?: Logger | undefined;
}

/**
 * The tenant's counter is spread over this many items: at 1,000 creates a second each takes about 100 writes a
 * second, a tenth of what DynamoDB allows one partition key.
 */
export const TENANT_LIMIT_SHARDS = 10;

export class ChallengeDefences {
  constructor(private readonly deps: ChallengeDefencesDeps) {}

  /** Fixed-window counters for the user, the number, the client IP and the tenant, each a small item. */
  async countCreate(
    tenant: Tenant,
    security: ResolvedSecurity,
    now: number,
    request: { username: string; client?: { ip?: string | undefined } | undefined },
    mobile: string | null,
  ) {
    const { limits } = security;
    const windowMs = limits.windowSeconds * 1000;
    const window = Math.floor(now / windowMs);
    const windowEnd = (window + 1) * windowMs;
    const name = (kind: string, value: string) =>
      `${kind}${this.deps.keys.digest(tenant.id, 'rate-limit', `${kind}\u0000${value}`).toString('base64url').slice(0, 12)}`;
    const counters: LimitCounter[] = [
      { name: 'n', max: limits.perTenant, shards: TENANT_LIMIT_SHARDS },
      { name: name('u', request.username.toLowerCase()), max: limits.perUser },
      ...(mobile ? [{ name: name('d', mobile), max: limits.perDestination }] : []),
      ...(request.client?.ip ? [{ name: name('i', request.client.ip), max: limits.perClientIp }] : []),
    ];
    const allowed = await this.deps.limiter.hit(
      tenant.id,
      window,
      Math.ceil(windowEnd / 1000) + 60,
      counters,
    );
    if (!allowed) {
      this.deps.log?.warn('challenge rate limited', { tenantId: tenant.id });
      throw new RateLimitedError(Math.max(1, Math.ceil((windowEnd - now) / 1000)));
    }
  }

  /**
   * Passes the user's guard, counting a wrong guess, and returns the failures now counted. Throws
   * `user_locked`, and ends the challenge so that it takes no more guesses, when the user is locked or has no
   * wrong guesses left; the guess that reaches the threshold locks the user and is not compared.
   */
  async admit(
    challenge: Challenge,
    wrong: boolean,
    lockout: ResolvedSecurity['lockout'],
    nowIso: string,
  ): Promise<number> {
    const { guards, clock } = this.deps;
    const { tenantId, username } = challenge;
    const admitted = await guards.admit(tenantId, username, {
      nowIso,
      wrong,
      maxFailures: lockout.maxFailures,
    });
    if (admitted.admitted && admitted.failures < lockout.maxFailures) return admitted.failures;
    if (admitted.admitted) {
      const until = new Date(clock.now() + lockout.lockSeconds * 1000).toISOString();
      if (await guards.lock(tenantId, username, lockout.maxFailures, until))
        await this.audit({
          tenantId,
          at: nowIso,
          actor: 'system',
          action: 'user.locked',
          target: `user:${username}`,
          details: { username, failures: admitted.failures, until },
        });
    }
    await this.endOnLock(challenge, nowIso);
    const until = admitted.admitted ? undefined : admitted.until;
    throw new UserLockedError(
      until
        ? Math.max(1, Math.ceil((Date.parse(until) - clock.now()) / 1000))
        : admitted.admitted
          ? lockout.lockSeconds
          : undefined,
    );
  }

  /** After a success that followed failures: the consecutive count starts again. */
  async clearFailures(challenge: Challenge) {
    await this.deps.guards.clearFailures(challenge.tenantId, challenge.username);
  }

  /**
   * A lock must also stop challenges opened before it: otherwise an attacker who opened several first would
   * keep guessing on each of them through the lock. The first wrong guess that meets the lock ends the
   * challenge it was made on.
   */
  async endOnLock(challenge: Challenge, nowIso: string) {
    await this.deps.challenges.supersede(challenge.tenantId, challenge.id, nowIso);
  }

  /** An audit write that fails is logged, never allowed to fail the login it describes. */
  async audit(entry: AuditEntry): Promise<void> {
    try {
      await this.deps.audit.record(entry);
    } catch (error) {
      this.deps.log?.error('audit write failed', { action: entry.action, tenantId: entry.tenantId, error });
    }
  }
}
