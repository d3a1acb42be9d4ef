/**
 * Checks a user's AD password for an auth client (the RADIUS front, the portal): an `ad.checkPassword` RPC to
 * an edge agent that serves the user's domain, the password sealed for that agent's key.
 *
 * The answer must not tell who exists. An unknown name takes the same path as a known one: the same reads,
 * the same rate limits and lockout counting, and the same RPC to an agent (with the name as typed), so it
 * answers in the same time and with the same shape; it is never `valid`.
 */
import type { PasswordCheckReply, PasswordCheckRequest } from '../contracts/password.ts';
import { assertKeyGrants, type ParsedKey } from './api-keys.ts';
import { DirectoryUnavailableError, UnauthorizedError, UserLockedError } from './errors.ts';
import { LoginNames } from './login-names.ts';
import type { PasswordGuard } from './password-guard.ts';
import type { DirectoryStore } from './ports/directory.ts';
import type { Logger } from './ports/log.ts';
import type { UserStore } from './ports/users.ts';
import type { RpcService } from './rpc.ts';

export interface PasswordCheckDeps {
  directory: DirectoryStore;
  users: Pick<UserStore, 'get'>;
  guard: PasswordGuard;
  rpc: Pick<RpcService, 'pickAgent' | 'call'>;
  log: Logger;
  timeoutMs: number;
}

/** What an agent's answer means for the caller: a verdict, or that AD could not give one. */
export type AdVerdict = 'valid' | 'invalid' | 'unavailable';

export class PasswordCheckService {
  private readonly logins: LoginNames;

  constructor(private readonly deps: PasswordCheckDeps) {
    this.logins = new LoginNames(deps.directory);
  }

  async check(key: ParsedKey, request: PasswordCheckRequest): Promise<PasswordCheckReply> {
    const { guard, log } = this.deps;
    const loaded = await this.logins.load(key, request.username);
    const record = assertKeyGrants(key, loaded.key, 'auth');
    const tenant = loaded.tenant;
    if (tenant?.status !== 'active') throw new UnauthorizedError();
    const username = loaded.username;
    const actor = `key:${record.prefix}`;

    if (loaded.guard?.lockedUntil) await guard.assertNotLocked(tenant, username);
    if (loaded.user?.locked) throw new UserLockedError();
    await guard.countAttempt(tenant, 'P', username, request.client?.ip);

    // The domain is on the user's full item; an unknown name reads nothing there either way.
    const user = loaded.user ? await this.deps.users.get(tenant.id, loaded.user.username) : undefined;
    const verdict = await this.askAd(
      tenant.id,
      user?.domain,
      user?.username ?? request.username,
      request.password,
    );
    if (verdict === 'unavailable') throw new DirectoryUnavailableError();
    const valid = verdict === 'valid' && user !== undefined;
    const attemptsLeft = await guard.admit(tenant, username, !valid, actor);
    log.info('password checked', { tenantId: tenant.id, result: valid ? 'valid' : 'invalid' });
    return valid ? { result: 'valid' } : { result: 'invalid', attemptsLeft };
  }

  /** Asks an agent of the domain (any AD agent when the user is unknown) to bind as the user. */
  async askAd(
    tenantId: string,
    domain: string | undefined,
    username: string,
    password: string,
  ): Promise<AdVerdict> {
    const { rpc, log } = this.deps;
    const pick = await rpc.pickAgent(tenantId, domain, true);
    if (!pick.agent) {
      log.warn('no agent to check a password with', {
        tenantId,
        domain: domain ?? null,
        reason: pick.reason,
      });
      return 'unavailable';
    }
    const outcome = await rpc.call(
      tenantId,
      pick.agent,
      'ad.checkPassword',
      (seal) => ({ ...(domain && { domain }), username, password: seal('password', password) }),
      this.deps.timeoutMs,
    );
    if (outcome.kind === 'ok') return outcome.result.valid ? 'valid' : 'invalid';
    if (outcome.kind === 'timeout') return 'unavailable';
    const code = outcome.error.code;
    // What AD says of the account is a wrong password to the caller: telling them apart would tell who exists.
    if (code === 'user_not_found' || code === 'account_disabled' || code === 'account_locked')
      return 'invalid';
    log.warn('agent could not check a password', { tenantId, agentId: pick.agent.agentId, code });
    return 'unavailable';
  }
}
