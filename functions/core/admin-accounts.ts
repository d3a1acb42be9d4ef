/**
 * Admin sign-in: an e-mail address and a password (scrypt, with a salt and parameters stored per account),
 * then a TOTP code from an authenticator app or an SMS passcode the product sends itself, through the rule
 * chain of the account's user (admin-account-management.ts makes accounts and their set-up links; the
 * person sets the password, and enrols the authenticator, here). Failures of either step count against the account: after
 * MAX_FAILURES it is locked for LOCK_MINUTES, and a sign-in is also rate-limited per client IP and account.
 * Every refusal says the same thing and costs the same scrypt work, known account or not, so the form tells
 * nobody which addresses have accounts.
 */
import { createHash, randomBytes, scrypt as scryptCallback, timingSafeEqual } from 'node:crypto';
import { renderSVG } from 'uqr';
import { normalEmail, setUpLinkHash } from './admin-account-management.ts';
import { AlreadyExistsError } from './admin-errors.ts';
import { base32Encode, matchingSteps, otpauthUri } from './channels/totp.ts';
import type { Clock } from './clock.ts';
import { DomainError, InvalidRequestError, NotFoundError, RateLimitedError } from './errors.ts';
import type { RateLimiter } from './ports/abuse.ts';
import type {
  AdminAccount,
  AdminAccountStore,
  AdminRole,
  PasswordHash,
  SecondFactor,
  SmsTarget,
} from './ports/admin-accounts.ts';
import type { AuditLog } from './ports/audit.ts';
import type { CredentialCipher } from './ports/credentials.ts';
import { NO_TENANT } from './web-sessions.ts';

export const MAX_FAILURES = 5;
export const LOCK_MINUTES = 15;
/** Sign-in attempts per minute from one client IP, and at one account. */
export const IP_LIMIT_PER_MINUTE = 30;
export const ACCOUNT_LIMIT_PER_MINUTE = 10;
export const MIN_PASSWORD_LENGTH = 12;
export const MAX_PASSWORD_LENGTH = 256;
/** Authenticator codes a set-up link lets be tried before it is used up (a new link is then needed). */
export const SETUP_MAX_ATTEMPTS = 5;

/** About 50 ms on a Lambda core: the OWASP minimum for scrypt (N=2^15 with r=8 is 32 MiB per hash). */
const SCRYPT = { N: 2 ** 15, r: 8, p: 1, keyLength: 32 } as const;

function scrypt(password: string, salt: Buffer, params: { N: number; r: number; p: number }) {
  return new Promise<Buffer>((resolve, reject) =>
    scryptCallback(
      password.normalize('NFKC'),
      salt,
      SCRYPT.keyLength,
      { ...params, maxmem: 256 * params.N * params.r },
      (error, key) => (error ? reject(error) : resolve(key)),
    ),
  );
}

export async function hashPassword(password: string): Promise<PasswordHash> {
  const salt = randomBytes(16);
  const hash = await scrypt(password, salt, SCRYPT);
  return {
    algorithm: 'scrypt',
    N: SCRYPT.N,
    r: SCRYPT.r,
    p: SCRYPT.p,
    salt: salt.toString('base64'),
    hash: hash.toString('base64'),
  };
}

export async function passwordMatches(stored: PasswordHash, password: string): Promise<boolean> {
  const expected = Buffer.from(stored.hash, 'base64');
  const given = await scrypt(password, Buffer.from(stored.salt, 'base64'), stored);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** What an unknown address is checked against, so it costs the same scrypt work as a real one. */
let decoy: Promise<PasswordHash> | undefined;

export type SignInFailure = 'wrong' | 'locked';

export class SignInError extends Error {
  override name = 'SignInError';
  constructor(readonly reason: SignInFailure) {
    super('The e-mail address, password or code is wrong, or the account is locked for a while.');
  }
}

/** A set-up link that is unknown, expired, already used, replaced by a newer one, or out of attempts. */
export class SetUpLinkError extends DomainError {
  override name = 'SetUpLinkError';
  constructor() {
    super('token_expired', 'This set-up link is no longer valid. Ask an admin for a new one.');
  }
}

/** A wrong authenticator code on the set-up page (the link stays good for a few more tries). */
export class SetUpCodeError extends DomainError {
  override name = 'SetUpCodeError';
  constructor() {
    super('wrong_code', 'The code does not match. Type the code your app shows now.');
  }
}

export interface AdminPrincipal {
  email: string;
  role: AdminRole;
  tenantId: string;
}

/**
 * SMS codes for admins, sent and checked by the product's own challenge path (rule chain, limits, lockout,
 * single use), as a login's are.
 */
export interface AdminSmsCodes {
  send(
    target: SmsTarget,
    clientIp: string,
  ): Promise<{ challengeId: string; destination?: string | undefined }>;
  check(target: SmsTarget, challengeId: string, code: string, clientIp: string): Promise<boolean>;
}

export type SecondStep =
  | { factor: 'totp' }
  | { factor: 'sms'; challengeId: string; destination?: string | undefined };

/** What the set-up page shows the person the link is for. */
export interface SetUpView {
  email: string;
  role: AdminRole;
  tenantId: string;
  secondFactor: SecondFactor;
  /** For TOTP accounts: the seed to enrol, and its confirmation is asked for with the password. */
  totp?: { secret: string; uri: string; qrSvg: string };
}

export interface NewAccount {
  account: AdminPrincipal;
  /** Shown once, to be handed to the person (and changed by them, once they can). */
  password: string;
  totp: { secret: string; uri: string };
}

export interface AdminAccountDeps {
  store: AdminAccountStore;
  cipher: CredentialCipher;
  limiter: RateLimiter;
  audit: AuditLog;
  clock: Clock;
  /** Whether a tenant exists and is active: its admins sign in only then. */
  tenantActive: (tenantId: string) => Promise<boolean>;
  /** Without it, accounts with SMS codes cannot finish signing in. */
  sms?: AdminSmsCodes | undefined;
}

const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,190}\.[^\s@]{2,63}$/;
const digest = (text: string) => createHash('sha256').update(text).digest('base64url').slice(0, 22);
const totpContext = (email: string) => ({ tenantId: 'admin-accounts', providerId: `totp:${email}` });

export class AdminAccountService {
  constructor(private readonly deps: AdminAccountDeps) {}

  private nowIso() {
    return new Date(this.deps.clock.now()).toISOString();
  }

  /**
   * A new account with a generated password and TOTP seed, both returned once. Operators are created by an
   * operator; tenant admins and auditors by an operator or by an admin of the same tenant.
   */
  async create(
    actor: string,
    input: { email: string; role: AdminRole; tenantId: string; password?: string },
    /** Overwrites an account of the same address: new password and seed (the local stack's bootstrap). */
    options: { replace?: boolean } = {},
  ): Promise<NewAccount> {
    const email = input.email.trim().toLowerCase();
    if (!EMAIL.test(email)) throw new InvalidRequestError('email: must be an e-mail address');
    const tenantId = input.role === 'operator' ? NO_TENANT : input.tenantId;
    if (input.role !== 'operator' && !(await this.deps.tenantActive(tenantId)))
      throw new NotFoundError('The tenant');
    const password = input.password ?? randomBytes(15).toString('base64url');
    if (password.length < MIN_PASSWORD_LENGTH)
      throw new InvalidRequestError(`password: at least ${MIN_PASSWORD_LENGTH} characters`);
    const seed = randomBytes(20);
    const secret = base32Encode(seed);
    const account: AdminAccount = {
      email,
      role: input.role,
      tenantId,
      secondFactor: 'totp',
      password: await hashPassword(password),
      sealedTotp: await this.deps.cipher.encrypt(seed.toString('base64'), totpContext(email)),
      createdAt: this.nowIso(),
      createdBy: actor,
    };
    try {
      await this.deps.store.create(account, options);
    } catch (error) {
      if (error instanceof AlreadyExistsError) throw new AlreadyExistsError('An account with this address');
      throw error;
    }
    await this.audit(tenantId, actor, 'admin_account.created', email, { role: input.role });
    return {
      account: { email, role: input.role, tenantId },
      password,
      totp: {
        secret,
        uri: otpauthUri(secret, { issuer: 'SMS Passcode console', account: email }),
      },
    };
  }

  async exists(email: string): Promise<boolean> {
    return (await this.deps.store.get(email.trim().toLowerCase())) !== undefined;
  }

  async list(tenantId: string): Promise<Array<AdminPrincipal & { createdAt: string; disabled: boolean }>> {
    const accounts = await this.deps.store.listByTenant(tenantId);
    return accounts.map((a) => ({
      email: a.email,
      role: a.role,
      tenantId: a.tenantId,
      createdAt: a.createdAt,
      disabled: a.disabledAt !== undefined,
    }));
  }

  /** The password step. Returns who it is; the session is not signed in until `checkCode` passes. */
  async checkPassword(typedEmail: string, password: string, clientIp: string): Promise<AdminPrincipal> {
    const email = typedEmail.trim().toLowerCase().slice(0, 256);
    await this.limit(email, clientIp);
    const account = await this.admitted(email);
    if (!account?.password) {
      decoy ??= hashPassword(randomBytes(12).toString('base64url'));
      await passwordMatches(await decoy, password);
      throw new SignInError('wrong');
    }
    if (!(await passwordMatches(account.password, password))) throw new SignInError('wrong');
    // The guess reserved by `admitted` stays counted until the second factor passes too.
    return { email: account.email, role: account.role, tenantId: account.tenantId };
  }

  /**
   * After the password: nothing to do for TOTP; for SMS, a passcode goes out through the user's rule chain, and
   * its challenge id is what the code is checked against.
   */
  async startSecondStep(email: string, clientIp: string): Promise<SecondStep> {
    const account = await this.deps.store.get(email);
    if (!account?.password || account.disabledAt) throw new SignInError('wrong');
    if ((account.secondFactor ?? 'totp') === 'totp') return { factor: 'totp' };
    if (!account.sms || !this.deps.sms) throw new SignInError('wrong');
    const sent = await this.deps.sms.send(account.sms, clientIp);
    return { factor: 'sms', challengeId: sent.challengeId, destination: sent.destination };
  }

  /**
   * The second factor: a TOTP code, good once, within one step of the clock; or the SMS passcode of the
   * challenge `startSecondStep` began, good once and within its challenge's attempts.
   */
  async checkCode(
    email: string,
    code: string,
    clientIp: string,
    challengeId?: string,
  ): Promise<AdminPrincipal> {
    await this.limit(email, clientIp);
    const account = await this.admitted(email);
    if (!account?.password) throw new SignInError('wrong');
    if ((account.secondFactor ?? 'totp') === 'sms') {
      if (!account.sms || !this.deps.sms || !challengeId) throw new SignInError('wrong');
      if (!(await this.deps.sms.check(account.sms, challengeId, code.trim(), clientIp)))
        throw new SignInError('wrong');
    } else {
      if (!account.sealedTotp) throw new SignInError('wrong');
      const seed = Buffer.from(
        await this.deps.cipher.decrypt(account.sealedTotp, totpContext(email)),
        'base64',
      );
      const steps = matchingSteps(seed, code.trim(), this.deps.clock.now());
      const step = steps.at(-1);
      if (step === undefined || !(await this.deps.store.useTotpStep(email, step)))
        throw new SignInError('wrong');
    }
    await this.deps.store.succeeded(email);
    await this.audit(account.tenantId, `admin:${email}`, 'admin.signed_in', email, {
      secondFactor: account.secondFactor ?? 'totp',
    });
    return { email: account.email, role: account.role, tenantId: account.tenantId };
  }

  /**
   * What a set-up link's page shows. For a TOTP account the first look makes the seed, which stays the same on
   * a reload and is kept only once a code from it is confirmed.
   */
  async setUpView(token: string): Promise<SetUpView> {
    const { account, hash } = await this.linked(token);
    const view: SetUpView = {
      email: account.email,
      role: account.role,
      tenantId: account.tenantId,
      secondFactor: account.secondFactor ?? 'totp',
    };
    if (view.secondFactor !== 'totp') return view;
    const context = totpContext(account.email);
    const offered = await this.deps.store.offerSetUpTotp(
      account.email,
      hash,
      await this.deps.cipher.encrypt(randomBytes(20).toString('base64'), context),
    );
    if (!offered) throw new SetUpLinkError();
    const secret = base32Encode(Buffer.from(await this.deps.cipher.decrypt(offered, context), 'base64'));
    const uri = otpauthUri(secret, { issuer: 'SMS Passcode console', account: account.email });
    return { ...view, totp: { secret, uri, qrSvg: renderSVG(uri, { border: 2 }) } };
  }

  /**
   * Sets the password (and, for TOTP, the seed the page showed, once a code from it matches) and spends the link:
   * of any number of uses at once, one claims it and goes on to the scrypt work; the rest are refused first.
   * Each code tried takes one of the link's few attempts first, so no storm of guesses gets more than
   * SETUP_MAX_ATTEMPTS verdicts. The link is 256 random bits, so there is no per-client limit to guess it by.
   */
  async completeSetUp(
    token: string,
    input: { password: string; confirm?: string | undefined; code?: string | undefined },
  ): Promise<AdminPrincipal> {
    const { account, hash } = await this.linked(token);
    const { password } = input;
    if (password.length < MIN_PASSWORD_LENGTH || password.length > MAX_PASSWORD_LENGTH)
      throw new InvalidRequestError(
        `password: between ${MIN_PASSWORD_LENGTH} and ${MAX_PASSWORD_LENGTH} characters`,
      );
    if (input.confirm !== undefined && input.confirm !== password)
      throw new InvalidRequestError('confirm: does not match the password');
    let totpStep: number | undefined;
    if ((account.secondFactor ?? 'totp') === 'totp') {
      if (!account.setupTotp) throw new SetUpLinkError();
      if (!(await this.deps.store.countSetUpAttempt(account.email, hash, SETUP_MAX_ATTEMPTS)))
        throw new SetUpLinkError();
      const seed = Buffer.from(
        await this.deps.cipher.decrypt(account.setupTotp, totpContext(account.email)),
        'base64',
      );
      totpStep = matchingSteps(seed, (input.code ?? '').trim(), this.deps.clock.now()).at(-1);
      if (totpStep === undefined) throw new SetUpCodeError();
    }
    const claim = randomBytes(16).toString('base64url');
    if (!(await this.deps.store.claimSetUp(account.email, hash, claim, this.nowIso())))
      throw new SetUpLinkError();
    const done = await this.deps.store.completeSetUp(account.email, hash, claim, {
      password: await hashPassword(password),
      ...(account.setupTotp && { sealedTotp: account.setupTotp }),
      ...(totpStep !== undefined && { totpStep }),
    });
    if (!done) throw new SetUpLinkError();
    await this.audit(account.tenantId, `admin:${account.email}`, 'admin_account.set_up', account.email, {
      secondFactor: account.secondFactor ?? 'totp',
    });
    return { email: account.email, role: account.role, tenantId: account.tenantId };
  }

  /** The account a link is good for now, or SetUpLinkError, alike for every reason. */
  private async linked(token: string): Promise<{ account: AdminAccount; hash: string }> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(token)) throw new SetUpLinkError();
    const hash = setUpLinkHash(token);
    const email = await this.deps.store.findSetUpLink(hash);
    const account = email === undefined ? undefined : await this.deps.store.get(normalEmail(email));
    if (
      !account ||
      account.setupLink !== hash ||
      !(account.setupExpiresAt! > this.nowIso()) ||
      (account.setupAttempts ?? 0) >= SETUP_MAX_ATTEMPTS ||
      account.setupClaim ||
      account.disabledAt
    )
      throw new SetUpLinkError();
    return { account, hash };
  }

  /** Whether the account may still act (not disabled, tenant still active): checked on every request. */
  async stillActive(principal: AdminPrincipal): Promise<boolean> {
    const account = await this.deps.store.get(principal.email);
    // A reset takes the password away: the person's open sessions end with it.
    if (!account?.password || account.disabledAt || account.role !== principal.role) return false;
    return account.tenantId === NO_TENANT || this.deps.tenantActive(account.tenantId);
  }

  /** One guess reserved, or undefined for an unknown, disabled or locked account (all answered alike). */
  private async admitted(email: string): Promise<AdminAccount | undefined> {
    const nowIso = this.nowIso();
    if (!(await this.deps.store.admit(email, nowIso, MAX_FAILURES))) {
      const account = await this.deps.store.get(email);
      if (account && (account.failures ?? 0) >= MAX_FAILURES && !(account.lockedUntil! > nowIso)) {
        const until = new Date(this.deps.clock.now() + LOCK_MINUTES * 60_000).toISOString();
        await this.deps.store.lock(email, MAX_FAILURES, until);
        await this.audit(account.tenantId, 'system', 'admin.locked', email, { until });
      }
      return undefined;
    }
    const account = await this.deps.store.get(email);
    if (!account || account.disabledAt) return undefined;
    if (account.tenantId !== NO_TENANT && !(await this.deps.tenantActive(account.tenantId))) return undefined;
    return account;
  }

  private async limit(email: string, clientIp: string) {
    const now = this.deps.clock.now();
    const window = Math.floor(now / 60_000);
    const allowed = await this.deps.limiter.hit('admin-sign-in', window, window * 60 + 120, [
      { name: `ip${digest(clientIp)}`, max: IP_LIMIT_PER_MINUTE },
      { name: `ac${digest(email)}`, max: ACCOUNT_LIMIT_PER_MINUTE },
    ]);
    if (!allowed) throw new RateLimitedError(60 - Math.floor((now / 1000) % 60));
  }

  private async audit(
    tenantId: string,
    actor: string,
    action: string,
    email: string,
    details: Record<string, string>,
  ) {
    // Operators' accounts have no tenant: their entries go to the operator's log.
    await this.deps.audit.record({
      tenantId: tenantId === NO_TENANT ? '' : tenantId,
      at: this.nowIso(),
      actor,
      action,
      target: `admin:${email}`,
      details,
    });
  }
}
