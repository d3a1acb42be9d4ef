/**
 * The challenge lifecycle: create one for a login attempt, verify a passcode against it once, and report
 * its status. Knows nothing of DynamoDB, SQS or HTTP. Delivery planning (delivery-planning.ts) and the abuse
 * and lockout defences (challenge-defences.ts) are their own modules.
 *
 * What one login costs the store, and why: the create reads key, tenant, user and the user's guard in one
 * batch, counts every abuse limit (a small conditional write each, in parallel), and writes the challenge;
 * the verify reads key, tenant and challenge in one batch, passes the user's guard and settles its attempt
 * slot: two conditional writes. Lockout state is cleared only after failures, so a clean login writes nothing
 * more.
 */
import { timingSafeEqual } from 'node:crypto';
import type { AgentRouter } from './agent-router.ts';
import { assertKeyGrants, type ParsedKey } from './api-keys.ts';
import { ChallengeDefences } from './challenge-defences.ts';
import { effectiveStatus, lastStepLapsed } from './challenge-transitions.ts';
import { channelUnit, maskEmail } from './channels/registry.ts';
import type { TotpService } from './channels/totp.ts';
import type { Clock } from './clock.ts';
import { decoyProgress, Samples } from './decoy-timeline.ts';
import { DeliveryPlanner } from './delivery-planning.ts';
import { checkDestination, DestinationRefusedError } from './destination.ts';
import { NotFoundError, RateLimitedError, UnauthorizedError, UserLockedError } from './errors.ts';
import { newId } from './ids.ts';
import type { LoginLoad } from './login-names.ts';
import { LoginNames } from './login-names.ts';
import type {
  ApiKeyRecord,
  Challenge,
  ChallengeStatus,
  Delivery,
  DeliveryChannel,
  PhoneType,
  Tenant,
  User,
} from './model.ts';
import { assertPasscodeSettings, canonicalPasscode, generatePasscode } from './passcode.ts';
import { personalPasscodeMatches } from './personal-passcode.ts';
import { maskPhone } from './phone.ts';
import { pinMatches, splitPin, unknownPin } from './pin.ts';
import type { GuardStore, RateLimiter } from './ports/abuse.ts';
import type { JobPublisher } from './ports/agents.ts';
import type { AuditLog } from './ports/audit.ts';
import type { AttemptOutcome, ChallengeStore } from './ports/challenges.ts';
import type { DirectoryStore } from './ports/directory.ts';
import type { Logger } from './ports/log.ts';
import type { DispatchMessage, DispatchQueue } from './ports/queue.ts';
import { sendFirstStep } from './recovery.ts';
import { type ChainResolver, defaultChain, type ResolvedChain } from './rule-chain.ts';
import type { DeploymentKeys } from './secrets.ts';
import { passcodeOf, radiusOf, resolveSettings, securityOf } from './settings.ts';

export interface ChallengeRequest {
  username: string;
  client?: { ip?: string | undefined; name?: string | undefined } | undefined;
}

export interface CreatedChallenge {
  challengeId: string;
  expiresAt: string;
  /** Step 0's channel: where the user should look for the code (`totp`: in the authenticator app). */
  channel: DeliveryChannel;
  destination: string;
}

export type VerifyResult =
  | { result: 'accept'; radius?: { class?: string; filterId?: string } }
  | { result: 'reject'; reason: 'wrong' | 'expired' | 'used' | 'locked'; attemptsLeft: number };

export interface ChallengeView {
  status: ChallengeStatus;
  deliveries: Array<{ step: number; channel: string; status: string; at: string }>;
}

/**
 * Why the self-service portal starts a challenge. None of them is verifiable through the auth API, and each
 * verifier accepts only its own purpose, so a code for one thing never signs in or confirms another.
 */
export type ChallengePurpose = 'self_sign_in' | 'number_check' | 'notice' | 'admin_sign_in';

/** What the portal asks of a challenge it starts (see `createForSelf`). */
export interface SelfChallengeOptions {
  purpose: ChallengePurpose;
  /** A reason to refuse the user quietly (answered like an unknown name), e.g. self-service is off. */
  admit?: (resolved: ResolvedChain, user: User) => string | undefined;
  /** Only this number, by the rules of the user's chain that reach a phone (the default SMS rule without any). */
  only?: { number: string; type?: PhoneType | undefined };
  /** A text with no passcode in it, sent in place of the passcode message (the challenge is never verifiable). */
  notice?: string;
  /** The number change the challenge confirms, read back by whoever verifies it. */
  change?: Challenge['change'];
}

/** The user as a number check sees them: that number as the mobile, no other destination. */
function toNumber(user: User, only: { number: string; type?: PhoneType | undefined }): User {
  const { mobileType: _old, secondaryMobileType: _second, ...rest } = user;
  return {
    ...rest,
    mobile: only.number,
    secondaryMobile: null,
    email: null,
    ...(only.type && { mobileType: only.type }),
  };
}

/** The key hash a portal request loads with: no key item has it, so nothing is granted by it. */
const NO_KEY = '-';

export interface ChallengeServiceDeps {
  directory: DirectoryStore;
  challenges: ChallengeStore;
  queue: DispatchQueue;
  keys: DeploymentKeys;
  clock: Clock;
  guards: GuardStore;
  limiter: RateLimiter;
  audit: AuditLog;
  log?: Logger;
  /** The user's rule chain; without it every challenge runs the tenant's default one-rule SMS chain. */
  chains?: ChainResolver;
  /** Picks step 0's agent; without it the dispatcher picks (and claims the step with a write). */
  router?: AgentRouter;
  /** Checks authenticator-app codes once a challenge's chain reached a TOTP rule. */
  totp?: Pick<TotpService, 'verify'>;
  /** Publishes a one-rule chain's job at create (see `sendFirstStep`); without it step 0 is queued too. */
  publisher?: JobPublisher;
}

/** The lockout is the tenant's (group policies and users do not change it), so a verify needs no policy read. */
const tenantSecurity = (tenant: Tenant) => securityOf(resolveSettings(tenant, undefined, undefined));

const keyActor = (record: ApiKeyRecord | undefined) => (record ? `key:${record.prefix}` : 'system');

const accepted = (challenge: Challenge): VerifyResult =>
  challenge.radius ? { result: 'accept', radius: challenge.radius } : { result: 'accept' };

/** Constant-time equality of two keyed hashes (base64url of equal-length digests). */
function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'base64url');
  const y = Buffer.from(b, 'base64url');
  return x.length === y.length && timingSafeEqual(x, y);
}

export class ChallengeService {
  /** How long recent real creates took, which decoys wait out so unknown names answer as slowly. */
  private readonly createTimes = new Samples(64);
  private readonly planner: DeliveryPlanner;
  private readonly defences: ChallengeDefences;
  private readonly logins: LoginNames;

  constructor(private readonly deps: ChallengeServiceDeps) {
    this.logins = new LoginNames(deps.directory);
    this.planner = new DeliveryPlanner(deps);
    this.defences = new ChallengeDefences(deps);
  }

  /**
   * A challenge asked for by the service's own pages rather than an auth client (the console's test passcode):
   * no key, the actor named instead; everything else (chain, limits, lockout) exactly as a login's.
   */
  async createOnBehalf(tenantId: string, actor: string, typed: ChallengeRequest): Promise<CreatedChallenge> {
    const started = performance.now();
    const loaded = await this.logins.load({ kind: 'auth', tenantId, hash: NO_KEY }, typed.username);
    return this.begin(started, loaded, typed, actor, undefined);
  }

  /**
   * `internal`: the cloud's own flow (the self-service password reset) asks, holding no auth key; with `decoy`
   * the challenge sends nothing whoever the user is, exactly as for an unknown name.
   */
  async create(
    key: ParsedKey,
    typed: ChallengeRequest,
    internal?: { decoy: boolean },
  ): Promise<CreatedChallenge> {
    const started = performance.now();
    // From here on the name is the tenant's canonical one: every typed form of a user shares limits and lockout.
    const loaded = await this.logins.load(key, typed.username);
    const record = internal ? undefined : assertKeyGrants(key, loaded.key, 'auth');
    return this.begin(
      started,
      loaded,
      typed,
      keyActor(record),
      undefined,
      internal?.decoy === true,
      !internal,
    );
  }

  /**
   * A challenge the self-service portal starts: no API key (the portal's user has none), the same limits,
   * lockout, decoys and rule chain as a login, and a purpose that only the portal's verify accepts.
   */
  async createForSelf(
    tenantId: string,
    typed: ChallengeRequest,
    options: SelfChallengeOptions,
  ): Promise<CreatedChallenge> {
    const started = performance.now();
    const loaded = await this.logins.load({ kind: 'auth', tenantId, hash: NO_KEY }, typed.username);
    return this.begin(started, loaded, typed, 'self-service', options);
  }

  private async begin(
    started: number,
    loaded: LoginLoad,
    typed: ChallengeRequest,
    actor: string,
    options: SelfChallengeOptions | undefined,
    decoy = false,
    /** Only an auth client's login takes `PIN + passcode`; the portal's and the cloud's own flows do not. */
    login = false,
  ): Promise<CreatedChallenge> {
    const { challenges, keys, clock } = this.deps;
    const request = { ...typed, username: loaded.username };
    const tenant = loaded.tenant;
    if (tenant?.status !== 'active') throw new UnauthorizedError();

    const now = clock.now();
    const nowIso = new Date(now).toISOString();
    const only = options?.only;
    // A number check goes to that one number: the user as the chain sees them has no other destination.
    const user: User | undefined = decoy
      ? undefined
      : loaded.user && only
        ? toNumber(loaded.user, only)
        : loaded.user;
    const guard = loaded.guard;

    if (guard?.lockedUntil && guard.lockedUntil > nowIso)
      throw new UserLockedError(Math.ceil((Date.parse(guard.lockedUntil) - now) / 1000));
    if (user?.locked) throw new UserLockedError();

    // Everything below runs on the user's resolved settings (settings.ts), the same values effective-settings
    // shows; a stranger gets the tenant's. The chain is already cut to the channels the settings allow.
    let resolved = await this.planner.chainFor(tenant, user);
    if (only) {
      const phoneRules = resolved.rules
        .filter((r) => channelUnit(r.channel).reaches === 'phone')
        .map((r) => ({ ...r, target: 'primary' as const }));
      resolved = { ...resolved, rules: phoneRules.length > 0 ? phoneRules : defaultChain(resolved.settings) };
    }
    const settings = passcodeOf(resolved.settings);
    assertPasscodeSettings(settings);
    const security = securityOf(resolved.settings);
    // What each rule's channel reaches decides what the user must have: an app rule needs no address at all.
    const reaches = (r: ResolvedChain['rules'][number]) => channelUnit(r.channel).reaches;
    const usesMobile = resolved.rules.some((r) => r.target === 'primary' && reaches(r) !== 'app');
    const reachable = resolved.rules.some(
      (r) =>
        reaches(r) === 'app' ||
        (r.target === 'primary' && user?.mobile) ||
        (r.target === 'secondary' && user?.secondaryMobile) ||
        (r.target === 'email' && user?.email),
    );
    // A known user whom no rule may reach is answered exactly like an unknown name (no enumeration); the
    // reason goes to the message log, where the tenant admin looks.
    let refusal = user && !reachable ? 'no_route' : undefined;
    if (user && !refusal && options?.admit) refusal = options.admit(resolved, user);
    // A user who must type a PIN but has none set cannot log in: sent nothing, answered like an unknown name,
    // and the reason is in the message log. The portal (which needs no PIN) is where they set one.
    const pinRequired = login && security.pinRequired;
    if (user && !refusal && pinRequired && !user.pin) refusal = 'pin_not_set';
    const mobile = usesMobile ? (user?.mobile ?? null) : null;
    if (mobile) {
      try {
        checkDestination(mobile, security.allowedCountries, user?.mobileType);
      } catch (error) {
        if (!(error instanceof DestinationRefusedError)) throw error;
        refusal = `destination_refused:${error.reason}`;
        this.deps.log?.warn('destination refused', {
          tenantId: tenant.id,
          reason: error.reason,
          destination: maskPhone(mobile),
        });
      }
    }
    const quiet = !user || refusal !== undefined;

    await this.defences.countCreate(tenant, security, now, request, quiet ? null : mobile);

    const id = newId();
    const code = generatePasscode(settings);
    const expiresAt = new Date(now + settings.validitySeconds * 1000).toISOString();
    const clientIp = request.client?.ip;
    const personal = security.allowPersonalPasscode && user ? guard?.personal : undefined;
    const radius = user ? radiusOf(resolved.settings) : undefined;
    const challenge: Challenge = {
      tenantId: tenant.id,
      id,
      username: request.username,
      userKnown: user !== undefined,
      codeHash: keys.passcodeHash(tenant.id, id, canonicalPasscode(code)),
      status: 'pending',
      createdAt: nowIso,
      expiresAt,
      attempts: 0,
      maxAttempts: settings.maxAttempts,
      destination: quiet
        ? this.planner.decoyDestination(tenant, request.username)
        : mobile
          ? maskPhone(mobile)
          : user?.email && !usesMobile
            ? maskEmail(user.email)
            : this.planner.decoyDestination(tenant, request.username),
      client: {
        ...(clientIp && { ip: clientIp }),
        ...(request.client?.name && { name: request.client.name }),
      },
      deliveries: [],
      ...(settings.alphabet && settings.alphabet !== 'numeric' && { alphabet: settings.alphabet }),
      ...(security.bindClientIp && clientIp && { boundIp: clientIp }),
      ...(personal && { personal }),
      ...(pinRequired && {
        pin: !quiet && user?.pin ? user.pin : unknownPin(resolved.settings['pin.minLength'].value),
      }),
      ...(radius && { radius }),
      ...(options && { purpose: options.purpose }),
      ...(options?.change && { change: options.change }),
    };
    let step0: DispatchMessage | undefined;
    if (quiet) {
      await this.planner.planDecoy(tenant, resolved, challenge, code, { refusal, to: mobile });
    } else {
      step0 = await this.planner.planDelivery(
        tenant,
        user,
        resolved,
        challenge,
        code,
        nowIso,
        options?.notice,
      );
    }
    // The audit entry goes with the challenge in the same store call (which may make the item itself the entry).
    await challenges.create(challenge, {
      ...(tenant.messageLogRetentionDays !== undefined && {
        messageLogDays: tenant.messageLogRetentionDays,
      }),
      audit: {
        tenantId: tenant.id,
        at: nowIso,
        actor,
        action: 'challenge.created',
        target: `challenge:${id}`,
        details: {
          username: request.username,
          destination: challenge.destination,
          clientIp: clientIp ?? null,
          clientName: request.client?.name ?? null,
          knownUser: challenge.userKnown,
          ...(options && { purpose: options.purpose }),
        },
      },
    });

    if (step0) {
      await sendFirstStep(this.deps, step0);
      this.createTimes.add(performance.now() - started);
    } else {
      // A decoy does less (nothing to send, no index entry), so it waits until it took as long as a real
      // create did: a draw from recent real ones, so that the two answer with the same spread of times.
      const wait = (this.createTimes.draw() ?? 0) - (performance.now() - started);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    const channel = challenge.decoy?.channel ?? challenge.deliveries[0]?.channel ?? 'sms';
    return { challengeId: id, expiresAt, channel, destination: challenge.destination };
  }

  /** A new code for the same login: the old challenge dies, a new one (with its own id) takes its place. */
  async resend(key: ParsedKey, challengeId: string): Promise<CreatedChallenge> {
    const { challenges, clock } = this.deps;
    await this.authorize(key);
    const old = await challenges.get(key.tenantId, challengeId, true);
    const nowIso = new Date(clock.now()).toISOString();
    if (
      !old ||
      old.purpose ||
      effectiveStatus(old, nowIso) === 'accepted' ||
      old.status === 'rejected' ||
      old.expiresAt <= nowIso
    )
      throw new NotFoundError('A live challenge');
    const created = await this.create(key, { username: old.username, client: old.client });
    await challenges.supersede(key.tenantId, challengeId, nowIso);
    return created;
  }

  /**
   * Checks a typed passcode. The guess budget holds however many verifies arrive at once, because no verdict
   * is answered before two conditional writes took it: first the user's guard (at most `lockout.maxFailures`
   * wrong guesses across all the user's challenges, and nothing at all while the user is locked), then the
   * challenge's next attempt slot (at most `maxAttempts` verdicts per challenge, one per slot). A right and a
   * wrong guess take the same two writes in the same order, so neither gets ahead in a race. A wrong guess is
   * counted by the guard even if it then finds no slot: a storm of guesses locks the user sooner, never later.
   * A verify that gets neither write is answered "locked" (or "used"/"expired"), alike for right and wrong.
   * The happy path is one read and those two writes.
   */
  async verify(
    key: ParsedKey,
    challengeId: string,
    passcode: string,
    client?: { ip?: string | undefined },
    internal = false,
  ): Promise<VerifyResult> {
    const loaded = await this.deps.directory.loadForRequest(key.hash, key.tenantId, { challengeId });
    const record = internal ? undefined : assertKeyGrants(key, loaded.key, 'auth');
    // The portal's challenges are the portal's: an auth client cannot spend (or learn about) them.
    if (loaded.challenge?.purpose) throw new NotFoundError('The challenge');
    return this.settle(loaded, key.tenantId, challengeId, passcode, client, keyActor(record));
  }

  /**
   * The portal's verify: only a challenge of the expected purpose (and, when named, of that user) counts; any
   * other is not found. Answers with the challenge as read, for the number change it may carry.
   */
  async verifyForSelf(
    tenantId: string,
    challengeId: string,
    passcode: string,
    expect: { purpose: ChallengePurpose; username?: string },
    client?: { ip?: string | undefined },
  ): Promise<{ verdict: VerifyResult; challenge: Challenge }> {
    const loaded = await this.deps.directory.loadForRequest(NO_KEY, tenantId, { challengeId });
    const found = loaded.challenge;
    if (
      !found ||
      found.purpose !== expect.purpose ||
      expect.purpose === 'notice' ||
      (expect.username !== undefined && found.username.toLowerCase() !== expect.username.toLowerCase())
    )
      throw new NotFoundError('The challenge');
    const verdict = await this.settle(loaded, tenantId, challengeId, passcode, client, 'self-service');
    return { verdict, challenge: found };
  }

  private async settle(
    loaded: Awaited<ReturnType<DirectoryStore['loadForRequest']>>,
    tenantId: string,
    challengeId: string,
    passcode: string,
    client: { ip?: string | undefined } | undefined,
    actor: string,
  ): Promise<VerifyResult> {
    const { challenges, keys, clock } = this.deps;
    if (loaded.tenant?.status !== 'active') throw new UnauthorizedError();
    const { lockout } = tenantSecurity(loaded.tenant);
    let current = loaded.challenge;
    if (!current) throw new NotFoundError('The challenge');
    const nowIso = new Date(clock.now()).toISOString();
    const nonce = newId(12);
    const early = this.settledFor(current, nonce, nowIso);
    if (early) return early;

    let typed = canonicalPasscode(passcode);
    // `PIN + passcode`: both parts are always checked, and a wrong PIN is the same wrong guess as a wrong code.
    let pinRight = true;
    if (current.pin) {
      const parts = splitPin(typed, current.pin);
      pinRight = (await pinMatches(parts.pin, current.pin)) && parts.passcode.length > 0;
      typed = parts.passcode;
    }
    const hash = keys.passcodeHash(tenantId, challengeId, typed);
    const judged = await this.judge(current, typed, hash, nowIso, { ip: client?.ip, actor });
    const outcome: AttemptOutcome = pinRight ? judged : { kind: 'wrong', maxAttempts: current.maxAttempts };
    const failures = await this.defences.admit(current, outcome.kind === 'wrong', lockout, nowIso);

    // Each round either takes the slot, or lost it to another verify that took it: after `maxAttempts` rounds
    // no slot is left, so the loop always ends with an answer.
    for (let round = 0; round <= current.maxAttempts + 1; round++) {
      // Our own wrong attempt may already be in (see below): then the count read includes it.
      const landed = outcome.kind === 'wrong' && current.attemptNonce === nonce;
      const won =
        landed ||
        (await challenges.settleAttempt(tenantId, challengeId, current.attempts, outcome, { nonce, nowIso }));
      if (won && outcome.kind === 'accept') {
        await this.afterAccept(current, failures, actor, nowIso, outcome.method);
        return accepted(current);
      }
      if (won) {
        const left = Math.max(0, current.maxAttempts - current.attempts - (landed ? 0 : 1));
        await this.defences.audit({
          tenantId,
          at: nowIso,
          actor,
          action: 'challenge.rejected',
          target: `challenge:${challengeId}`,
          details: { username: current.username, reason: 'wrong', attemptsLeft: left },
        });
        return { result: 'reject', reason: 'wrong', attemptsLeft: left };
      }
      const next = await challenges.get(tenantId, challengeId, true);
      if (!next) throw new NotFoundError('The challenge');
      current = next;
      // Our own write may have landed with its reply lost (the SDK retried it and the retry failed its
      // condition): the nonce tells, and the next round carries on as the winner.
      if (outcome.kind === 'wrong' && next.attemptNonce === nonce) continue;
      if (outcome.kind === 'accept' && next.acceptNonce === nonce) {
        await this.afterAccept(next, failures, actor, nowIso, outcome.method);
        return accepted(next);
      }
      const settled = this.settledFor(next, nonce, nowIso);
      if (settled) return settled;
    }
    // Only reachable when writes keep failing without the challenge changing: let the client try again.
    throw new RateLimitedError(1);
  }

  /**
   * The answer for a challenge that takes no more verdicts, or that this very request already settled (the
   * SDK retried a write whose reply was lost: the retry fails its condition, but the first write landed).
   */
  private settledFor(current: Challenge, nonce: string, nowIso: string): VerifyResult | undefined {
    if (current.status === 'accepted')
      return current.acceptNonce === nonce
        ? accepted(current)
        : { result: 'reject', reason: 'used', attemptsLeft: 0 };
    const left = Math.max(0, current.maxAttempts - current.attempts);
    if (current.attemptNonce === nonce)
      return current.status === 'rejected'
        ? { result: 'reject', reason: 'locked', attemptsLeft: 0 }
        : { result: 'reject', reason: 'wrong', attemptsLeft: left };
    if (current.status === 'rejected' || left === 0)
      return { result: 'reject', reason: 'locked', attemptsLeft: 0 };
    if (current.expiresAt <= nowIso) return { result: 'reject', reason: 'expired', attemptsLeft: 0 };
    return undefined;
  }

  /**
   * The verdict on a typed code, compared in constant time: the sent code, else the personal passcode inside
   * its window, else (once the chain reached it) the user's authenticator app. Nothing is revealed or written
   * here; the caller acts on the verdict only once the guess budget admitted it.
   */
  private async judge(
    current: Challenge,
    typed: string,
    hash: string,
    nowIso: string,
    context: { ip: string | undefined; actor: string },
  ): Promise<AttemptOutcome> {
    const wrong: AttemptOutcome = { kind: 'wrong', maxAttempts: current.maxAttempts };
    const acceptable =
      current.userKnown && !current.refusal && (!current.boundIp || current.boundIp === context.ip);
    const accept = (method: 'sent' | 'personal' | 'totp'): AttemptOutcome => ({
      kind: 'accept',
      method,
      ...(method === 'sent' && { codeHash: hash }),
      clientIp: context.ip,
      actor: context.actor,
    });
    const sentMatches = sameHash(hash, current.codeHash);
    if (!acceptable) return wrong;
    if (sentMatches) return accept('sent');
    if (current.personal && this.personalMatches(current, typed, nowIso)) return accept('personal');
    if (current.totp && this.deps.totp) {
      const checked = await this.deps.totp.verify(current.tenantId, current.username, typed);
      if (checked.result === 'accept') return accept('totp');
    }
    return wrong;
  }

  async view(key: ParsedKey, challengeId: string): Promise<ChallengeView> {
    const { challenges, clock } = this.deps;
    await this.authorize(key);
    const challenge = await challenges.get(key.tenantId, challengeId);
    if (!challenge) throw new NotFoundError('The challenge');
    const now = clock.now();
    const status = effectiveStatus(challenge, new Date(now).toISOString());
    const shown = (d: Delivery) => ({ step: d.step, channel: d.channel, status: d.status, at: d.at });
    if (challenge.decoy) {
      const progress = decoyProgress(challenge, challenge.decoy, now);
      const live = status !== 'expired' && status !== 'accepted' && status !== 'rejected';
      return {
        status: live ? progress.status : status,
        deliveries: progress.deliveries.filter((d) => d.status !== 'queued').map(shown),
      };
    }
    this.planner.times.observe(challenge);
    const lapsed = lastStepLapsed(challenge, now);
    return {
      status: lapsed && (status === 'pending' || status === 'sent') ? 'failed' : status,
      deliveries: challenge.deliveries
        // A step the chain queued but nobody has acted on yet has nothing to show.
        .filter((d: Delivery) => d.status !== 'queued')
        .map((d: Delivery) =>
          lapsed?.step === d.step ? { ...shown(d), status: 'failed', at: lapsed.at } : shown(d),
        ),
    };
  }

  /**
   * The key must be a live auth key of an active tenant: a suspended (or deleted) tenant's keys stop for
   * every route at once. Key and tenant come in one strongly consistent batch read.
   */
  async authorize(key: ParsedKey) {
    const loaded = await this.deps.directory.loadForRequest(key.hash, key.tenantId);
    const record = assertKeyGrants(key, loaded.key, 'auth');
    if (loaded.tenant?.status !== 'active') throw new UnauthorizedError();
    return record;
  }

  private personalMatches(challenge: Challenge, typed: string, nowIso: string): boolean {
    const personal = challenge.personal;
    if (!personal || personal.validFrom > nowIso || personal.validUntil <= nowIso) return false;
    return personalPasscodeMatches(typed, personal.hash);
  }

  private async afterAccept(
    challenge: Challenge,
    failures: number,
    actor: string,
    nowIso: string,
    method: 'sent' | 'personal' | 'totp',
  ) {
    // The accept write itself is the `challenge.accepted` audit entry (who, how, when): no audit write here.
    // Only a login that followed failures (the guard said how many as it admitted this one) writes the guard
    // again: a clean login costs nothing here.
    if (failures > 0) await this.defences.clearFailures(challenge);
    this.deps.log?.debug('challenge accepted', {
      tenantId: challenge.tenantId,
      challengeId: challenge.id,
      actor,
      at: nowIso,
      passcode: method,
    });
  }
}
