/**
 * Moves a challenge's rule chain along: when a step fails (the agent's `job.failed`, a provider's refusal, or
 * the step's timer running out) one conditional write fails the step and queues the next rule's step, and only
 * the caller that won that write puts the next step on the dispatch queue. A caller that lost, on a redelivered
 * message, checks whether the winner died before queueing and queues it then; a second copy on the queue is
 * harmless, since the step is claimed (and an agent's job id is the same) on every copy.
 */

import type { DispatchMessage } from '../contracts/queue.ts';
import { deliveryRoute } from './channels/registry.ts';
import type { Clock } from './clock.ts';
import type { Challenge } from './model.ts';
import type { ChallengeStore, FailStepOptions } from './ports/challenges.ts';
import type { Logger } from './ports/log.ts';
import type { DispatchQueue } from './ports/queue.ts';

/** SQS delays at most 15 minutes; a longer timer is re-queued until it is due. */
export const MAX_DELAY_SECONDS = 900;

export interface ChainRunnerDeps {
  challenges: ChallengeStore;
  queue: DispatchQueue;
  clock: Clock;
  log: Logger;
}

export type FailoverOutcome = 'advanced' | 'ended' | 'recorded' | 'none' | 'requeued';

export class ChainRunner {
  constructor(private readonly deps: ChainRunnerDeps) {}

  async failStep(
    tenantId: string,
    challengeId: string,
    step: number,
    failure: Omit<FailStepOptions, 'nowIso'>,
    redelivered = false,
  ): Promise<FailoverOutcome> {
    const { challenges, clock, log } = this.deps;
    const nowIso = new Date(clock.now()).toISOString();
    const result = await challenges.failStep(tenantId, challengeId, step, { ...failure, nowIso });
    const ctx = { tenantId, challengeId, step, reason: failure.reason };
    if (result.outcome === 'advanced') {
      log.info('step failed; the next rule runs', ctx);
      await this.queueStep(result.challenge, step + 1);
      return 'advanced';
    }
    if (result.outcome === 'ended') log.warn('rule chain exhausted; the challenge failed', ctx);
    if (result.outcome === 'none' && redelivered) {
      // Maybe this very message won the write before and its handler died before queueing the next step.
      const current = await challenges.get(tenantId, challengeId, true);
      const next = current?.deliveries.find((d) => d.step === step + 1);
      if (current && next?.status === 'queued' && current.expiresAt > nowIso) {
        await this.queueStep(current, step + 1);
        return 'requeued';
      }
    }
    return result.outcome;
  }

  /** Puts a step of the challenge's chain on the dispatch queue (the agent is chosen when it is dispatched). */
  async queueStep(challenge: Challenge, step: number): Promise<void> {
    const message = stepMessage(challenge, step);
    if (!message) {
      this.deps.log.error('a queued step has no rule or no sealed text', {
        tenantId: challenge.tenantId,
        challengeId: challenge.id,
        step,
      });
      return;
    }
    await this.deps.queue.send(message);
  }

  /** Arms the failover timer of a step that has a next rule. */
  async armTimer(message: DispatchMessage, timeoutSeconds: number): Promise<void> {
    const dueAt = new Date(this.deps.clock.now() + timeoutSeconds * 1000).toISOString();
    const { agentId: _agent, ...rest } = message;
    await this.deps.queue.send(
      { ...rest, kind: 'timer', dueAt },
      Math.min(MAX_DELAY_SECONDS, Math.max(0, Math.ceil(timeoutSeconds))),
    );
  }

  /** A timer that fired early (its timeout was longer than SQS delays) goes back on the queue; false if due. */
  async rearmIfEarly(message: DispatchMessage): Promise<boolean> {
    if (!message.dueAt) return false;
    const remainingMs = Date.parse(message.dueAt) - this.deps.clock.now();
    if (remainingMs <= 1000) return false;
    await this.deps.queue.send(message, Math.min(MAX_DELAY_SECONDS, Math.ceil(remainingMs / 1000)));
    return true;
  }
}

/**
 * A later step's queue message, built from the challenge itself: only chains of several rules keep the sealed
 * text, so without it (or without the rule) there is nothing to send.
 */
export function stepMessage(challenge: Challenge, step: number): DispatchMessage | undefined {
  const rule = challenge.chain?.[step];
  if (!rule || !challenge.sealed) return undefined;
  return {
    v: 1,
    kind: 'step',
    tenantId: challenge.tenantId,
    challengeId: challenge.id,
    step,
    expiresAt: challenge.expiresAt,
    sealed: challenge.sealed,
    modemGroup: deliveryRoute(rule),
    flash: challenge.flash === true,
    rule,
    hasNext: (challenge.chain?.length ?? 0) > step + 1,
  };
}
