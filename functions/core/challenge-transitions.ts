/**
 * Which status a challenge and its delivery steps may move to, and from where. The store turns these into
 * the conditions of its writes, so a late or repeated event never moves anything back; the rules themselves
 * are the domain's.
 */
import type { Challenge, ChallengeStatus, DeliveryStatus } from './model.ts';

/** The delivery reason of a step whose SMS an agent may or may not have sent (`job.unknown`). */
export const OUTCOME_UNKNOWN = 'outcome_unknown';
/**
 * How long a step of unknown outcome waits for its delivery report before the next rule runs, or a last rule
 * reads failed (at most the rule's own timeout). A handset that got the SMS answers within seconds; waiting
 * longer only delays the user whose SMS really was lost.
 */
export const UNKNOWN_OUTCOME_WAIT_SECONDS = 20;

/** Statuses in which a challenge can still be accepted or delivered. */
export const LIVE_STATUSES = [
  'pending',
  'sent',
  'delivered',
  'failed',
] as const satisfies Challenge['status'][];

/** Which delivery statuses a step may move from. Statuses with none are only ever set when a step starts. */
export const DELIVERY_FROM: Record<DeliveryStatus, DeliveryStatus[]> = {
  queued: [],
  dispatched: [],
  sending: [],
  sent: ['dispatched', 'sending'],
  delivered: ['dispatched', 'sent'],
  failed: ['dispatched', 'sending', 'sent'],
};

/** Which challenge statuses move along with a step that reports. */
export const CHALLENGE_FROM: Record<DeliveryStatus, Challenge['status'][]> = {
  queued: [],
  dispatched: [],
  sending: [],
  sent: ['pending', 'failed'],
  delivered: ['pending', 'sent', 'failed'],
  failed: ['pending', 'sent'],
};

/**
 * The last rule's step when its timeout ran out without success. No timer is armed after the last rule (there
 * is nowhere to fail over to), so its failure is read from the clock rather than written: one queue message
 * and one store write fewer per login.
 */
export function lastStepLapsed(challenge: Challenge, now: number): { step: number; at: string } | undefined {
  const chain = challenge.chain;
  const last = challenge.deliveries.at(-1);
  if (!chain || !last || last.step !== chain.length - 1) return undefined;
  const rule = chain[last.step]!;
  // an agent's job.unknown: the step waits only a short while for its delivery report (`at` is when it came)
  const unknown = last.status === 'sent' && last.reason === OUTCOME_UNKNOWN;
  const waiting: string[] = rule.requireDeliveryReport
    ? ['queued', 'dispatched', 'sending', 'sent']
    : ['queued', 'dispatched', 'sending'];
  if (!waiting.includes(last.status) && !unknown) return undefined;
  const waitSeconds = unknown
    ? Math.min(UNKNOWN_OUTCOME_WAIT_SECONDS, rule.timeoutSeconds)
    : rule.timeoutSeconds;
  const due = Date.parse(last.at) + waitSeconds * 1000;
  return due <= now ? { step: last.step, at: new Date(due).toISOString() } : undefined;
}

export function effectiveStatus(challenge: Challenge, nowIso: string): ChallengeStatus {
  if (challenge.status === 'accepted' || challenge.status === 'rejected') return challenge.status;
  if (challenge.expiresAt <= nowIso) return 'expired';
  return challenge.status;
}
