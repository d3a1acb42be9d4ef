/**
 * Self-service AD password reset: (1) username and personal passcode, (2) a passcode sent through the user's
 * own rule chain and verified, (3) the new password, (4) an `ad.setPassword` RPC to an agent of the user's
 * domain with the password sealed for that agent's key, (5) the result.
 *
 * Who exists must not show: an unknown name, a user outside AD and a wrong personal passcode all get a reset id
 * backed by a decoy challenge (the challenge API's own: nothing is sent, same timing and shape), and every
 * passcode typed on it is "wrong". A wrong personal passcode is counted in the user's lockout, as is every
 * wrong passcode. The reset id is short-lived, moves forward one step at a time (one conditional write each),
 * and sets a password once. The new password is never stored, logged or queued: it lives in this request, and
 * goes out only sealed for the agent, inside an RPC that expires.
 */
import { randomBytes } from 'node:crypto';
import { RESET_REFUSALS } from '../contracts/password.ts';
import type { PasswordPolicyReason } from '../contracts/rpc.ts';
import type { ParsedKey } from './api-keys.ts';
import type { ChallengeService, VerifyResult } from './challenges.ts';
import type { Clock } from './clock.ts';
import { DirectoryUnavailableError, DomainError, NotFoundError, UnauthorizedError } from './errors.ts';
import type { PasswordGuard } from './password-guard.ts';
import { personalPasscodeMatches } from './personal-passcode.ts';
import type { GuardStore } from './ports/abuse.ts';
import type { DirectoryStore } from './ports/directory.ts';
import type { Logger } from './ports/log.ts';
import type { UserStore } from './ports/users.ts';
import type { RpcService } from './rpc.ts';
import { resolveTyped } from './usernames.ts';

/** The whole flow must fit in this; the SMS passcode's own validity still applies to step 2. */
export const RESET_LIFETIME_MS = 15 * 60_000;
/** Setting a password is a bind and a modify on a DC: allow for a slow one, well inside API Gateway's 30 s. */
export const SET_PASSWORD_TIMEOUT_MS = 15_000;

export type ResetStep = 'verify' | 'password' | 'setting' | 'done' | 'unknown_outcome';

export interface PasswordReset {
  tenantId: string;
  /** 128 random bits; the reset id is `{tenantId}.{secret}`. */
  secret: string;
  username: string;
  domain?: string | undefined;
  /** False for decoys: no passcode on them is ever right. */
  known: boolean;
  challengeId: string;
  step: ResetStep;
  expiresAt: string;
}

export interface ResetStore {
  create(reset: PasswordReset): Promise<void>;
  get(tenantId: string, secret: string): Promise<PasswordReset | undefined>;
  /** Moves the reset from one step to the next while it is live; false when it was not at `from`. */
  move(tenantId: string, secret: string, from: ResetStep, to: ResetStep, nowIso: string): Promise<boolean>;
}

export class ResetStateError extends DomainError {
  constructor(message: string) {
    super('reset_state', message);
  }
}

/** AD refused the new password: the code is stable, the message is for the user, `reason` says which rule. */
export class PasswordPolicyError extends DomainError {
  constructor(readonly reason: PasswordPolicyReason) {
    super('password_policy', RESET_REFUSALS[reason]);
  }
}

export interface PasswordResetDeps {
  directory: DirectoryStore;
  users: Pick<UserStore, 'get'>;
  guards: Pick<GuardStore, 'get'>;
  guard: PasswordGuard;
  challenges: Pick<ChallengeService, 'create' | 'verify'>;
  rpc: Pick<RpcService, 'pickAgent' | 'call'>;
  store: ResetStore;
  clock: Clock;
  log: Logger;
  setPasswordTimeoutMs?: number;
}

/** The cloud's own flows hold no auth key: the challenge service is told so (`internal`). */
const internalKey = (tenantId: string): ParsedKey => ({ kind: 'auth', tenantId, hash: 'internal' });
const ACTOR = 'selfservice:password-reset';

export class PasswordResetService {
  constructor(private readonly deps: PasswordResetDeps) {}

  async start(input: {
    tenant: string;
    username: string;
    personalPasscode: string;
    clientIp?: string | undefined;
  }) {
    const { directory, users, guards, guard, challenges, store, clock } = this.deps;
    const tenant = await directory.getTenant(input.tenant);
    if (tenant?.status !== 'active') throw new UnauthorizedError('No such organisation.');
    const resolved = resolveTyped(tenant, input.username);
    const username = resolved.name;
    await guard.assertNotLocked(tenant, username);
    await guard.countAttempt(tenant, 'R', username, input.clientIp);
    const user = resolved.known ? await users.get(tenant.id, username) : undefined;
    const personal = (await guards.get(tenant.id, username))?.personal;
    const nowIso = new Date(clock.now()).toISOString();
    const personalOk =
      personal !== undefined &&
      personal.validFrom <= nowIso &&
      personal.validUntil > nowIso &&
      personalPasscodeMatches(input.personalPasscode, personal.hash);
    const known = user !== undefined && user.domain !== undefined && personalOk;
    // The personal passcode's verdict counts in the lockout now, but is told only through the next step.
    await guard.admit(tenant, username, !known, ACTOR);
    const created = await challenges.create(
      internalKey(tenant.id),
      { username: user?.username ?? username, ...(input.clientIp && { client: { ip: input.clientIp } }) },
      { decoy: !known },
    );
    const secret = randomBytes(16).toString('base64url');
    const expiresAt = new Date(clock.now() + RESET_LIFETIME_MS).toISOString();
    await store.create({
      tenantId: tenant.id,
      secret,
      username: user?.username ?? username,
      ...(known && { domain: user.domain }),
      known,
      challengeId: created.challengeId,
      step: 'verify',
      expiresAt,
    });
    return {
      resetId: `${tenant.id}.${secret}`,
      expiresAt,
      channel: created.channel,
      destination: created.destination,
    };
  }

  async verify(resetId: string, passcode: string, clientIp?: string): Promise<VerifyResult> {
    const { challenges, store, clock, directory, guard } = this.deps;
    const reset = await this.load(resetId, 'verify');
    const result = reset.known
      ? await challenges.verify(
          internalKey(reset.tenantId),
          reset.challengeId,
          passcode,
          { ip: clientIp },
          true,
        )
      : await this.decoyVerify(reset, directory, guard);
    if (result.result === 'accept') {
      const nowIso = new Date(clock.now()).toISOString();
      if (!(await store.move(reset.tenantId, reset.secret, 'verify', 'password', nowIso)))
        throw new ResetStateError('This reset has moved on or expired; start again.');
    }
    return result;
  }

  /** A decoy's passcode is always wrong, and counts like any wrong passcode. */
  private async decoyVerify(
    reset: PasswordReset,
    directory: DirectoryStore,
    guard: PasswordGuard,
  ): Promise<VerifyResult> {
    const tenant = await directory.getTenant(reset.tenantId);
    if (!tenant) throw new NotFoundError('The reset');
    const left = await guard.admit(tenant, reset.username, true, ACTOR);
    return { result: 'reject', reason: 'wrong', attemptsLeft: left };
  }

  async setPassword(resetId: string, newPassword: string): Promise<{ result: 'changed' }> {
    const { store, clock, rpc, log } = this.deps;
    const reset = await this.load(resetId, 'password');
    const nowIso = new Date(clock.now()).toISOString();
    // One request at a time takes the step: a second, racing one is refused, and the id sets a password once.
    if (!(await store.move(reset.tenantId, reset.secret, 'password', 'setting', nowIso)))
      throw new ResetStateError('This reset is not waiting for a new password (it was used, or expired).');
    const back = () =>
      store.move(reset.tenantId, reset.secret, 'setting', 'password', new Date(clock.now()).toISOString());
    const pick = await rpc.pickAgent(reset.tenantId, reset.domain, true);
    if (!pick.agent) {
      await back();
      log.warn('no agent to reset a password with', { tenantId: reset.tenantId, reason: pick.reason });
      throw new DirectoryUnavailableError();
    }
    const outcome = await rpc.call(
      reset.tenantId,
      pick.agent,
      'ad.setPassword',
      (seal) => ({
        ...(reset.domain && { domain: reset.domain }),
        username: reset.username,
        newPassword: seal('newPassword', newPassword),
      }),
      this.deps.setPasswordTimeoutMs ?? SET_PASSWORD_TIMEOUT_MS,
    );
    if (outcome.kind === 'ok') {
      await store.move(reset.tenantId, reset.secret, 'setting', 'done', new Date(clock.now()).toISOString());
      log.info('password reset', { tenantId: reset.tenantId, agentId: pick.agent.agentId });
      return { result: 'changed' };
    }
    if (outcome.kind === 'timeout') {
      // The agent may still have set it: the id is spent, and the user is told to try the new password.
      await store.move(
        reset.tenantId,
        reset.secret,
        'setting',
        'unknown_outcome',
        new Date(clock.now()).toISOString(),
      );
      throw new DirectoryUnavailableError(
        'The directory did not confirm the change in time. Try signing in with the new password; if that fails, start the reset again.',
      );
    }
    // Nothing changed in AD: the user may choose another password with the same reset.
    await back();
    if (outcome.error.code === 'password_policy')
      throw new PasswordPolicyError(outcome.error.reason ?? 'unknown');
    log.warn('agent could not reset a password', { tenantId: reset.tenantId, code: outcome.error.code });
    throw new DirectoryUnavailableError();
  }

  private async load(resetId: string, step: ResetStep): Promise<PasswordReset> {
    const dot = resetId.indexOf('.');
    const reset = await this.deps.store.get(resetId.slice(0, dot), resetId.slice(dot + 1));
    const nowIso = new Date(this.deps.clock.now()).toISOString();
    if (!reset || reset.expiresAt <= nowIso) throw new NotFoundError('The reset');
    if (reset.step !== step)
      throw new ResetStateError(
        step === 'verify'
          ? 'The passcode of this reset was already verified.'
          : 'This reset is not waiting for a new password (verify the passcode first, or start again).',
      );
    return reset;
  }
}
