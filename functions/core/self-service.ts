/**
 * The self-service portal's domain: a user signs in with a passcode sent through their own rule chain, then
 * changes only what their group policy lets them change. The JSON API (functions/selfservice/) and the portal
 * pages (web/portal/) both call this one class; neither has another path to the data.
 *
 * Rules a user would notice:
 * - Sign-in is a challenge like a login (same limits, lockout and decoys). A user whose policy has
 *   self-service off is answered exactly like an unknown name, and is sent nothing.
 * - Changing a number first sends a passcode to the OLD number; its accept applies the change only while the
 *   number is still the one the passcode went to (one conditional write), and a notice then goes to the old
 *   number. A missing number is filled in without a check (there is nothing to send it to).
 * - Numbers synced from AD stay the directory's: a change here forgets the sync's digest of the user, so the
 *   next sync writes the directory's value back. The profile says so (`directory.managed`).
 * - An enrolment link (e-mailed by an admin) signs the user in only to fill in a missing number; it never
 *   lets them change a number that is there, nor anything else.
 */
import { randomBytes } from 'node:crypto';
import type { SelfServiceField } from '../contracts/admin.ts';
import { ForbiddenError } from './admin-errors.ts';
import type { ChallengeService, CreatedChallenge, VerifyResult } from './challenges.ts';
import { maskEmail } from './channels/registry.ts';
import type { Clock } from './clock.ts';
import { checkDestination, DestinationRefusedError } from './destination.ts';
import { linkHash } from './enrolment-links.ts';
import { DomainError, NotFoundError, UnauthorizedError, UserLockedError } from './errors.ts';
import type { Tenant } from './model.ts';
import { hashPersonalPasscode } from './personal-passcode.ts';
import { maskPhone } from './phone.ts';
import { normalisePhone } from './phone-numbers.ts';
import { hashPin, pinMatches } from './pin.ts';
import type { GuardStore } from './ports/abuse.ts';
import type { AuditLog } from './ports/audit.ts';
import type { DirectoryStore } from './ports/directory.ts';
import type { Logger } from './ports/log.ts';
import type { NumberField, PortalScope, PortalSession, SelfServiceStore } from './ports/self-service.ts';
import type { ManagedUser, UserStore } from './ports/users.ts';
import type { ChainResolver } from './rule-chain.ts';
import { secretHash } from './secrets.ts';
import { securityOf } from './settings.ts';
import type { TokenService } from './tokens.ts';

/** Shorter than an admin's: the portal is used for a few minutes, from phones that get lost. */
export const PORTAL_SESSION = { idleSeconds: 10 * 60, absoluteSeconds: 30 * 60 };
/** A link's session is for filling in one or two numbers. */
const LINK_SESSION = { idleSeconds: 10 * 60, absoluteSeconds: 15 * 60 };

export class SelfServiceError extends DomainError {}

/** The number is not one a passcode can go to (invalid, not a mobile, or in a country the tenant refuses). */
export class InvalidPhoneError extends SelfServiceError {
  constructor(message: string) {
    super('invalid_phone', message);
  }
}

/** The number changed (or was filled in) by someone else since the check began. */
export class NumberChangedError extends SelfServiceError {
  constructor() {
    super('number_changed', 'The number changed since this check began; start again.');
  }
}

export interface SelfServiceDeps {
  challenges: Pick<ChallengeService, 'createForSelf' | 'verifyForSelf'>;
  directory: Pick<DirectoryStore, 'getTenant'>;
  users: Pick<UserStore, 'get'>;
  store: SelfServiceStore;
  guards: Pick<GuardStore, 'get' | 'setPersonalPasscode' | 'admit' | 'lock'>;
  /** Uncached: a policy change applies to the portal at once. */
  chains: ChainResolver;
  tokens?: Pick<TokenService, 'enrolApp' | 'confirm' | 'isEnrolled'> | undefined;
  audit: AuditLog;
  clock: Clock;
  log: Logger;
}

/** A signed-in request: the session and the hash that names it. */
export interface SessionContext extends PortalSession {
  hash: string;
}

export type SignInResult =
  | { result: 'accept'; session: string; expiresAt: string }
  | Extract<VerifyResult, { result: 'reject' }>;

const TOKEN = /^ps\.([A-Za-z0-9_-]{1,64})\.([A-Za-z0-9_-]{43})$/;

export class SelfService {
  constructor(private readonly deps: SelfServiceDeps) {}

  private nowIso() {
    return new Date(this.deps.clock.now()).toISOString();
  }

  // ---- sign-in and sessions ----

  async startSignIn(input: { tenant: string; username: string }, ip?: string): Promise<CreatedChallenge> {
    return this.forTenant(() =>
      this.deps.challenges.createForSelf(
        input.tenant,
        { username: input.username, client: { ...(ip && { ip }), name: 'self-service portal' } },
        {
          purpose: 'self_sign_in',
          // Answered like an unknown name: nobody learns whose policy has self-service off.
          admit: (resolved) => (resolved.settings.selfService.value.enabled ? undefined : 'self_service_off'),
        },
      ),
    );
  }

  async finishSignIn(tenant: string, signInId: string, passcode: string, ip?: string): Promise<SignInResult> {
    const checked = await this.checkSignIn(tenant, signInId, passcode, ip);
    if (checked.result !== 'accept') return checked;
    const opened = await this.openSession(tenant, checked.username, 'full', PORTAL_SESSION);
    return { result: 'accept', ...opened };
  }

  /** The sign-in's verdict and, on accept, whom it signs in; the caller opens the session (token or cookie). */
  async checkSignIn(
    tenant: string,
    signInId: string,
    passcode: string,
    ip?: string,
  ): Promise<{ result: 'accept'; username: string } | Extract<VerifyResult, { result: 'reject' }>> {
    const { verdict, challenge } = await this.forTenant(() =>
      this.deps.challenges.verifyForSelf(tenant, signInId, passcode, { purpose: 'self_sign_in' }, { ip }),
    );
    if (verdict.result !== 'accept') return verdict;
    await this.audit(tenant, challenge.username, 'self.signed_in', { method: 'passcode' });
    return { result: 'accept', username: challenge.username };
  }

  /** The live session a token names, its idle end moved on; 401 for anything else. */
  async session(token: string | undefined): Promise<SessionContext> {
    const m = token ? TOKEN.exec(token) : null;
    if (!m) throw new UnauthorizedError('Sign in first.');
    const hash = secretHash(token!);
    const session = await this.deps.store.getSession(hash);
    const now = this.deps.clock.now();
    const nowIso = new Date(now).toISOString();
    if (!session || session.tenantId !== m[1] || session.expiresAt <= nowIso || session.idleUntil <= nowIso)
      throw new UnauthorizedError('The session ended; sign in again.');
    const idle = session.scope === 'full' ? PORTAL_SESSION.idleSeconds : LINK_SESSION.idleSeconds;
    // A write only when half the idle time is gone: a busy page costs no write per request.
    if (Date.parse(session.idleUntil) - now < (idle * 1000) / 2) {
      const idleUntil = new Date(Math.min(now + idle * 1000, Date.parse(session.expiresAt))).toISOString();
      if (!(await this.deps.store.touchSession(hash, idleUntil, nowIso)))
        throw new UnauthorizedError('The session ended; sign in again.');
      session.idleUntil = idleUntil;
    }
    const tenant = await this.deps.directory.getTenant(session.tenantId);
    if (tenant?.status !== 'active') throw new UnauthorizedError('The session ended; sign in again.');
    return { ...session, hash };
  }

  async signOut(s: SessionContext) {
    await this.deps.store.deleteSession(s.hash);
  }

  private async openSession(
    tenantId: string,
    username: string,
    scope: PortalScope,
    limits: { idleSeconds: number; absoluteSeconds: number },
  ) {
    const token = `ps.${tenantId}.${randomBytes(32).toString('base64url')}`;
    const now = this.deps.clock.now();
    const expiresAt = new Date(now + limits.absoluteSeconds * 1000).toISOString();
    await this.deps.store.putSession(secretHash(token), {
      tenantId,
      username,
      scope,
      createdAt: new Date(now).toISOString(),
      expiresAt,
      idleUntil: new Date(now + limits.idleSeconds * 1000).toISOString(),
    });
    return { session: token, expiresAt };
  }

  /** An unknown or inactive tenant is a 404 on the portal (there is no key to be unauthorized). */
  private async forTenant<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      if (error instanceof UnauthorizedError) throw new NotFoundError('The tenant');
      throw error;
    }
  }

  // ---- what the user sees and may change ----

  private async load(s: SessionContext) {
    const tenant = await this.deps.directory.getTenant(s.tenantId);
    const user = await this.deps.users.get(s.tenantId, s.username);
    if (!tenant || !user) throw new UnauthorizedError('The session ended; sign in again.');
    const resolved = await this.deps.chains.resolve(tenant, user);
    const policy = resolved.settings.selfService.value;
    // A link's session may fill in missing numbers whatever the policy: the admin sent it for that.
    const editable: SelfServiceField[] =
      s.scope === 'enrolment'
        ? missingOf(user)
        : policy.enabled
          ? policy.fields.filter((f) => f !== 'authenticator' || this.deps.tokens)
          : [];
    return { tenant, user, resolved, editable };
  }

  private async allowed(s: SessionContext, field: SelfServiceField) {
    const loaded = await this.load(s);
    if (!loaded.editable.includes(field))
      throw new ForbiddenError(
        s.scope === 'enrolment'
          ? 'This link lets you fill in only what is missing.'
          : 'Your policy does not let you change this.',
      );
    return loaded;
  }

  async profile(s: SessionContext) {
    const { tenant, user, resolved, editable } = await this.load(s);
    const guard = await this.deps.guards.get(s.tenantId, user.username);
    const personal = guard?.personal;
    return {
      tenant: { id: tenant.id, name: tenant.name },
      username: user.username,
      displayName: user.displayName ?? null,
      mobile: user.mobile ? maskPhone(user.mobile) : null,
      secondaryMobile: user.secondaryMobile ? maskPhone(user.secondaryMobile) : null,
      email: user.email ? maskEmail(user.email) : null,
      smsType: resolved.settings['passcode.flash'].value ? 'flash' : 'normal',
      personalPasscode: personal
        ? {
            validFrom: personal.validFrom,
            validUntil: personal.validUntil,
            acceptedAtLogin: resolved.settings['security.allowPersonalPasscode'].value,
          }
        : null,
      pin: {
        set: user.pin !== undefined,
        required: resolved.settings['pin.required'].value,
        minLength: resolved.settings['pin.minLength'].value,
      },
      authenticator: this.deps.tokens
        ? { enrolled: await this.deps.tokens.isEnrolled(s.tenantId, user.username) }
        : null,
      editable,
      missing: missingOf(user),
      /** Synced users' numbers come from AD: a change here lasts until the next sync. */
      directory: { managed: user.syncId !== undefined },
      session: { scope: s.scope, expiresAt: s.expiresAt },
    };
  }

  async setSmsType(s: SessionContext, smsType: 'normal' | 'flash') {
    await this.allowed(s, 'smsType');
    if (!(await this.deps.store.setFlash(s.tenantId, s.username, smsType === 'flash')))
      throw new UnauthorizedError('The session ended; sign in again.');
    await this.audit(s.tenantId, s.username, 'self.sms_type_set', { smsType });
    return this.profile(s);
  }

  // ---- numbers ----

  /**
   * Starts a change of `field` to `number`. With a number there, a passcode goes to it and the reply names the
   * check to confirm; a missing number is filled in at once (`applied`).
   */
  async startNumberChange(
    s: SessionContext,
    input: { field: NumberField; number: string },
    ip?: string,
  ): Promise<
    | { applied: true; number: string }
    | { applied: false; changeId: string; destination: string; expiresAt: string }
  > {
    const { tenant, user, resolved } = await this.allowed(
      s,
      input.field === 'mobile' ? 'mobile' : 'secondaryMobile',
    );
    const to = this.acceptable(tenant, resolved.settings['security.allowedCountries'].value, input.number);
    const from = user[input.field];
    if (from === to.e164) throw new SelfServiceError('invalid_request', 'That is the number already there.');
    if (from === null) {
      if (!(await this.deps.store.setNumber(s.tenantId, user.username, input.field, null, to)))
        throw new NumberChangedError();
      await this.audit(s.tenantId, user.username, 'self.number_added', {
        field: input.field,
        to: maskPhone(to.e164),
        via: s.scope,
      });
      return { applied: true, number: maskPhone(to.e164) };
    }
    if (s.scope !== 'full') throw new ForbiddenError('This link lets you fill in only what is missing.');
    const type = input.field === 'mobile' ? user.mobileType : user.secondaryMobileType;
    const created = await this.deps.challenges.createForSelf(
      s.tenantId,
      { username: user.username, client: { ...(ip && { ip }), name: 'self-service portal' } },
      {
        purpose: 'number_check',
        only: { number: from, type },
        change: { field: input.field, from, to: to.e164, toType: to.type },
      },
    );
    return {
      applied: false,
      changeId: created.challengeId,
      destination: created.destination,
      expiresAt: created.expiresAt,
    };
  }

  /** The passcode sent to the old number: its accept applies the change once, then tells the old number. */
  async confirmNumberChange(s: SessionContext, changeId: string, passcode: string, ip?: string) {
    if (s.scope !== 'full') throw new ForbiddenError('This link lets you fill in only what is missing.');
    const { verdict, challenge } = await this.deps.challenges.verifyForSelf(
      s.tenantId,
      changeId,
      passcode,
      { purpose: 'number_check', username: s.username },
      { ip },
    );
    if (verdict.result !== 'accept') return verdict;
    const change = challenge.change;
    if (!change) throw new NotFoundError('The number change');
    // Accepted once, at most (the challenge's attempt slots see to it); applied only over the checked number.
    const applied = await this.deps.store.setNumber(
      s.tenantId,
      challenge.username,
      change.field,
      change.from,
      {
        e164: change.to,
        type: change.toType,
      },
    );
    if (!applied) throw new NumberChangedError();
    await this.audit(s.tenantId, challenge.username, 'self.number_changed', {
      field: change.field,
      from: maskPhone(change.from),
      to: maskPhone(change.to),
    });
    await this.notifyOldNumber(s.tenantId, challenge.username, change.from, change.to, ip);
    return { result: 'accept' as const, field: change.field, number: maskPhone(change.to) };
  }

  /**
   * A notice never holds a code, and names only the new number's last two digits (plain GSM-7: one SMS part).
   * Failing to send it must not undo the change, so it is logged, not thrown.
   */
  private async notifyOldNumber(
    tenantId: string,
    username: string,
    oldNumber: string,
    newNumber: string,
    ip?: string,
  ) {
    const at = this.nowIso().slice(0, 16).replace('T', ' ');
    try {
      await this.deps.challenges.createForSelf(
        tenantId,
        { username, client: { ...(ip && { ip }), name: 'self-service portal' } },
        {
          purpose: 'notice',
          only: { number: oldNumber },
          notice: `Your sign-in number was changed to a number ending in ${newNumber.slice(-2)} at ${at} UTC. If this was not you, contact your IT support now.`,
        },
      );
    } catch (error) {
      this.deps.log.warn('notice to the old number not sent', { tenantId, error });
    }
  }

  private acceptable(tenant: Tenant, allowed: readonly string[], typed: string) {
    const parsed = normalisePhone(typed, tenant.defaultCountry);
    if (!parsed) throw new InvalidPhoneError('That is not a valid phone number.');
    try {
      checkDestination(parsed.e164, allowed, parsed.type);
    } catch (error) {
      if (error instanceof DestinationRefusedError)
        throw new InvalidPhoneError(
          error.reason === 'country_not_allowed'
            ? 'Passcodes cannot be sent to numbers in that country.'
            : 'That is not a mobile number a passcode can be sent to.',
        );
      throw error;
    }
    return { e164: parsed.e164, type: parsed.type };
  }

  // ---- personal passcode and authenticator ----

  async setPersonalPasscode(
    s: SessionContext,
    input: { passcode: string; validFrom: string; validUntil: string },
  ) {
    const { resolved, user } = await this.allowed(s, 'personalPasscode');
    if (!resolved.settings['security.allowPersonalPasscode'].value)
      throw new ForbiddenError('Your organisation does not accept personal passcodes at sign-in.');
    const validFrom = new Date(input.validFrom).toISOString();
    const validUntil = new Date(input.validUntil).toISOString();
    await this.deps.guards.setPersonalPasscode(s.tenantId, user.username, {
      hash: hashPersonalPasscode(input.passcode),
      validFrom,
      validUntil,
    });
    await this.audit(s.tenantId, user.username, 'self.personal_passcode_set', { validFrom, validUntil });
    return { validFrom, validUntil, acceptedAtLogin: true };
  }

  async clearPersonalPasscode(s: SessionContext) {
    const { user } = await this.allowed(s, 'personalPasscode');
    await this.deps.guards.setPersonalPasscode(s.tenantId, user.username, null);
    await this.audit(s.tenantId, user.username, 'self.personal_passcode_cleared', {});
  }

  // ---- PIN ----

  /**
   * Sets the PIN typed before the passcode at login. Changing one that is set needs the current PIN, and a
   * wrong current PIN is a wrong guess for the lockout exactly as at login, so the portal is no way around it.
   */
  async setPin(s: SessionContext, input: { pin: string; currentPin?: string | undefined }) {
    const { tenant, user, resolved } = await this.allowed(s, 'pin');
    const minLength = resolved.settings['pin.minLength'].value;
    if (input.pin.length < minLength)
      throw new SelfServiceError('weak_pin', `The PIN must have at least ${minLength} digits.`);
    if (tooEasy(input.pin))
      throw new SelfServiceError(
        'weak_pin',
        'That PIN is too easy to guess: avoid repeated or running digits.',
      );
    if (user.pin) await this.checkCurrentPin(tenant, user.username, user.pin, input.currentPin, resolved);
    if (
      !(await this.deps.store.setPin(s.tenantId, user.username, user.pin?.hash ?? null, hashPin(input.pin)))
    )
      throw new SelfServiceError('pin_changed', 'The PIN changed since this page was loaded; start again.');
    await this.audit(s.tenantId, user.username, user.pin ? 'self.pin_changed' : 'self.pin_set', {});
    return { set: true, required: resolved.settings['pin.required'].value };
  }

  private async checkCurrentPin(
    tenant: Tenant,
    username: string,
    pin: NonNullable<ManagedUser['pin']>,
    typed: string | undefined,
    resolved: Awaited<ReturnType<ChainResolver['resolve']>>,
  ) {
    // No PIN typed is no guess: refused without a count.
    if (!typed) throw new SelfServiceError('wrong_pin', 'Type your current PIN to change it.');
    const right = await pinMatches(typed, pin);
    const { lockout } = securityOf(resolved.settings);
    const nowIso = this.nowIso();
    const admitted = await this.deps.guards.admit(tenant.id, username, {
      nowIso,
      wrong: !right,
      maxFailures: lockout.maxFailures,
    });
    if (!admitted.admitted) throw new UserLockedError();
    if (right) return;
    if (admitted.failures >= lockout.maxFailures) {
      const until = new Date(this.deps.clock.now() + lockout.lockSeconds * 1000).toISOString();
      await this.deps.guards.lock(tenant.id, username, lockout.maxFailures, until);
      await this.audit(tenant.id, username, 'self.locked_by_pin', { until });
    }
    throw new SelfServiceError('wrong_pin', 'The current PIN is not right.');
  }

  async enrolAuthenticator(s: SessionContext, replace: boolean | undefined) {
    const { user } = await this.allowed(s, 'authenticator');
    return this.deps.tokens!.enrolApp(s.tenantId, `self:${user.username}`, user.username, { replace });
  }

  async confirmAuthenticator(s: SessionContext, tokenId: string, code: string) {
    const { user } = await this.allowed(s, 'authenticator');
    return this.deps.tokens!.confirm(s.tenantId, `self:${user.username}`, user.username, tokenId, code);
  }

  /** Takes a link once: a short session that may only fill in what is missing. */
  async redeemLink(tenant: string, secret: string) {
    const taken = await this.takeLink(tenant, secret);
    const opened = await this.openSession(tenant, taken.username, 'enrolment', LINK_SESSION);
    return { ...opened, missing: taken.missing };
  }

  /** Takes a link once and says whom it is for; the caller opens the session (token or cookie). */
  async takeLink(tenant: string, secret: string) {
    const link = await this.deps.store.useLink(tenant, linkHash(tenant, secret), this.nowIso());
    if (!link)
      throw new SelfServiceError(
        'token_used',
        'This link was used already, or has expired. Ask for a new one.',
      );
    const user = await this.deps.users.get(tenant, link.username);
    if (!user) throw new NotFoundError('The user');
    await this.audit(tenant, user.username, 'self.enrolment_link_used', {});
    return { username: user.username, missing: missingOf(user) };
  }

  private audit(tenantId: string, username: string, action: string, details: Record<string, string>) {
    return this.deps.audit.record({
      tenantId,
      at: this.nowIso(),
      actor: `self:${username}`,
      action,
      target: `user:${username}`,
      details: { username, ...details },
    });
  }
}

/** All one digit, or digits running up or down by one (1234, 9876): the first PINs anyone tries. */
function tooEasy(pin: string): boolean {
  const steps = new Set<number>();
  for (let i = 1; i < pin.length; i++) steps.add((pin.charCodeAt(i) - pin.charCodeAt(i - 1) + 10) % 10);
  return steps.size === 1 && [0, 1, 9].includes([...steps][0]!);
}

/** The numbers a user lacks, which an enrolment link lets them fill in. */
export function missingOf(user: Pick<ManagedUser, 'mobile' | 'secondaryMobile'>): NumberField[] {
  return [
    ...(user.mobile ? [] : ['mobile' as const]),
    ...(user.secondaryMobile ? [] : ['secondaryMobile' as const]),
  ];
}
