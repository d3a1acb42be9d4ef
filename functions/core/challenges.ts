/**
 * The challenge lifecycle: create one for a login attempt, verify a passcode against it once, and report
 * its status. Knows nothing of DynamoDB, SQS or HTTP.
 */
import { assertKeyGrants, type ParsedKey } from './api-keys.ts';
import type { Clock } from './clock.ts';
import { NoDeliveryRouteError, NotFoundError, UnauthorizedError } from './errors.ts';
import { newId } from './ids.ts';
import type { Challenge, ChallengeStatus, Delivery, Tenant } from './model.ts';
import { generateNumericPasscode } from './passcode.ts';
import { maskPhone } from './phone.ts';
import type { ChallengeStore, DirectoryStore, DispatchQueue } from './ports.ts';
import type { DeploymentKeys } from './secrets.ts';

export interface ChallengeRequest {
  username: string;
  client?: { ip?: string | undefined; name?: string | undefined } | undefined;
}

export interface CreatedChallenge {
  challengeId: string;
  expiresAt: string;
  channel: 'sms';
  destination: string;
}

export type VerifyResult =
  | { result: 'accept' }
  | { result: 'reject'; reason: 'wrong' | 'expired' | 'used' | 'locked'; attemptsLeft: number };

export interface ChallengeView {
  status: ChallengeStatus;
  deliveries: Array<{ step: number; channel: string; status: string; at: string }>;
}

export interface ChallengeServiceDeps {
  directory: DirectoryStore;
  challenges: ChallengeStore;
  queue: DispatchQueue;
  keys: DeploymentKeys;
  clock: Clock;
}

/** How many times a verify re-reads after losing a race on the attempt counter before giving up. */
const MAX_VERIFY_ROUNDS = 5;

export function renderMessage(
  template: string,
  facts: { code: string; minutes: number; ip?: string; client?: string },
) {
  return template
    .replaceAll('{code}', facts.code)
    .replaceAll('{minutes}', String(facts.minutes))
    .replaceAll('{ip}', facts.ip ?? 'unknown')
    .replaceAll('{client}', facts.client ?? 'unknown');
}

export class ChallengeService {
  constructor(private readonly deps: ChallengeServiceDeps) {}

  async create(key: ParsedKey, request: ChallengeRequest): Promise<CreatedChallenge> {
    const { directory, challenges, queue, keys, clock } = this.deps;
    const loaded = await directory.loadForRequest(key.hash, key.tenantId, request.username);
    assertKeyGrants(key, loaded.key, 'auth');
    const tenant = loaded.tenant;
    if (tenant?.status !== 'active') throw new UnauthorizedError();

    const now = clock.now();
    const settings = tenant.passcode;
    const id = newId();
    const code = generateNumericPasscode(settings.length);
    const expiresAt = new Date(now + settings.validitySeconds * 1000).toISOString();
    const user = loaded.user;
    const mobile = user?.mobile ?? null;
    if (user && !mobile) throw new NoDeliveryRouteError();

    const challenge: Challenge = {
      tenantId: tenant.id,
      id,
      username: request.username,
      userKnown: user !== undefined,
      codeHash: keys.passcodeHash(tenant.id, id, code),
      status: 'pending',
      createdAt: new Date(now).toISOString(),
      expiresAt,
      attempts: 0,
      maxAttempts: settings.maxAttempts,
      destination: mobile ? maskPhone(mobile) : this.decoyDestination(tenant, request.username),
      client: {
        ...(request.client?.ip && { ip: request.client.ip }),
        ...(request.client?.name && { name: request.client.name }),
      },
      deliveries: [],
    };
    await challenges.create(challenge);

    if (user && mobile) {
      const text = renderMessage(tenant.messageTemplate, {
        code,
        minutes: Math.round(settings.validitySeconds / 60),
        ...(challenge.client.ip && { ip: challenge.client.ip }),
        ...(challenge.client.name && { client: challenge.client.name }),
      });
      await queue.send({
        v: 1,
        tenantId: tenant.id,
        challengeId: id,
        step: 0,
        expiresAt,
        sealed: keys.seal(JSON.stringify({ to: mobile, text }), `${tenant.id}/${id}/0`),
        modemGroup: tenant.defaultModemGroup,
        flash: false,
      });
    }
    return { challengeId: id, expiresAt, channel: 'sms', destination: challenge.destination };
  }

  async verify(key: ParsedKey, challengeId: string, passcode: string): Promise<VerifyResult> {
    const { directory, challenges, keys, clock } = this.deps;
    assertKeyGrants(key, await directory.findKey(key.hash), 'auth');
    const tenantId = key.tenantId;
    const hash = keys.passcodeHash(tenantId, challengeId, passcode);
    const nowIso = new Date(clock.now()).toISOString();

    if ((await challenges.acceptIfMatches(tenantId, challengeId, hash, nowIso)) === 'accepted')
      return { result: 'accept' };

    for (let round = 0; round < MAX_VERIFY_ROUNDS; round++) {
      const current = await challenges.get(tenantId, challengeId, true);
      if (!current) throw new NotFoundError('The challenge');
      const left = Math.max(0, current.maxAttempts - current.attempts);
      if (current.status === 'accepted') return { result: 'reject', reason: 'used', attemptsLeft: 0 };
      if (current.status === 'rejected' || left === 0)
        return { result: 'reject', reason: 'locked', attemptsLeft: 0 };
      if (current.expiresAt <= nowIso) return { result: 'reject', reason: 'expired', attemptsLeft: 0 };
      if (await challenges.recordWrongAttempt(tenantId, challengeId, current.attempts, current.maxAttempts)) {
        return { result: 'reject', reason: 'wrong', attemptsLeft: left - 1 };
      }
    }
    // Every round lost a race against other verifies of this challenge: count this one as spent.
    return { result: 'reject', reason: 'locked', attemptsLeft: 0 };
  }

  async view(key: ParsedKey, challengeId: string): Promise<ChallengeView> {
    const { directory, challenges, clock } = this.deps;
    assertKeyGrants(key, await directory.findKey(key.hash), 'auth');
    const challenge = await challenges.get(key.tenantId, challengeId);
    if (!challenge) throw new NotFoundError('The challenge');
    return {
      status: effectiveStatus(challenge, new Date(clock.now()).toISOString()),
      deliveries: challenge.deliveries.map((d: Delivery) => ({
        step: d.step,
        channel: d.channel,
        status: d.status,
        at: d.at,
      })),
    };
  }

  /** An unknown user's destination looks like a real one and stays the same between calls. */
  private decoyDestination(tenant: Tenant, username: string): string {
    const digest = this.deps.keys.digest(tenant.id, 'decoy-destination', username.toLowerCase());
    const lastTwo = String((digest.readUInt16BE(0) % 100) + 100).slice(1);
    const sample = DECOY_NUMBERS[tenant.defaultCountry] ?? DECOY_NUMBERS.DK!;
    return maskPhone(`${sample.slice(0, -2)}${lastTwo}`);
  }
}

export function effectiveStatus(challenge: Challenge, nowIso: string): ChallengeStatus {
  if (challenge.status === 'accepted' || challenge.status === 'rejected') return challenge.status;
  if (challenge.expiresAt <= nowIso) return 'expired';
  return challenge.status;
}

/** Plausible mobile numbers per country, only their shape (country code and length) is ever shown. */
const DECOY_NUMBERS: Record<string, string> = {
  DK: '+4520000000',
  SE: '+46700000000',
  NO: '+4740000000',
  DE: '+4915100000000',
  GB: '+447700900000',
  US: '+12025550100',
};
