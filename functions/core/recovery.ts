/**
 * What keeps a `201` a promise when the dispatch queue lets a step down. A step's message exists only on the
 * queue: when sending it fails, or the queue itself forgets it (the local stack's fauxqs and aedes keep
 * messages in memory), the challenge would wait as `pending` with no SMS until it expired. Here a step either
 * goes on the queue again under its own job id (the agent's journal drops a job it already has), or it fails
 * with a reason the message log shows.
 */
import type { AgentRouter } from './agent-router.ts';
import { type ChainRunner, stepMessage } from './chain-runner.ts';
import { channelUnit } from './channels/registry.ts';
import type { Clock } from './clock.ts';
import { CLOUD_AGENT, openDispatchPayload, smsJob } from './dispatch.ts';
import { DomainError } from './errors.ts';
import type { Challenge, Delivery } from './model.ts';
import type { JobPublisher } from './ports/agents.ts';
import type { ChallengeStore } from './ports/challenges.ts';
import type { Logger } from './ports/log.ts';
import type { MessageLogStore } from './ports/message-log.ts';
import type { DispatchMessage, DispatchQueue } from './ports/queue.ts';
import type { DeploymentKeys } from './secrets.ts';

/** The delivery reason of a step whose queue message could not be sent. */
export const QUEUE_UNAVAILABLE = 'queue_unavailable';

export class DeliveryUnavailableError extends DomainError {
  constructor(options?: { cause?: unknown }) {
    super(
      'delivery_unavailable',
      'The passcode could not be queued for delivery; the challenge was ended. Try again shortly.',
      options,
    );
  }
}

export interface FirstStepDeps {
  queue: DispatchQueue;
  challenges: ChallengeStore;
  clock: Clock;
  log?: Logger | undefined;
  keys: DeploymentKeys;
  /** Publishes step 0's job itself when nothing needs the dispatch queue; without it every step is queued. */
  publisher?: JobPublisher | undefined;
  router?: Pick<AgentRouter, 'jobVersion'> | undefined;
}

/**
 * Step 0 of a one-rule chain whose agent was chosen at create needs nothing the dispatch function adds: no
 * claim write (the challenge already names the agent), no failover timer (no next rule). So the create
 * publishes its job and saves the queue's send, receive and delete and the dispatch invocation. The job is the
 * one dispatch would publish (same id, agent, version and deadline), so should the publish fail, or seem to
 * fail after it landed, the step still goes through the queue and the agent's journal drops a second copy.
 */
export async function sendFirstStep(deps: FirstStepDeps, message: DispatchMessage): Promise<void> {
  if (await publishDirectly(deps, message)) return;
  await queueFirstStep(deps, message);
}

async function publishDirectly(deps: FirstStepDeps, message: DispatchMessage): Promise<boolean> {
  const { publisher, router, agentId } = { ...deps, agentId: message.agentId };
  if (!publisher || !router || !agentId) return false;
  if (message.kind !== 'step' || message.step !== 0 || message.hasNext) return false;
  if (channelUnit(message.rule.channel).route !== 'modem_group') return false;
  const ctx = { tenantId: message.tenantId, challengeId: message.challengeId, step: 0, agentId };
  try {
    const { targets, text } = openDispatchPayload(deps.keys, message);
    const to = targets[message.rule.target];
    if (!to) return false;
    const version = await router.jobVersion(message.tenantId, agentId);
    const group = message.rule.route ?? message.modemGroup;
    await publisher.publishJob(
      message.tenantId,
      agentId,
      smsJob(message, { group, to, text, version }, deps.clock.now()),
    );
    deps.log?.info('job published', ctx);
    return true;
  } catch (error) {
    deps.log?.warn('job not published by the create; it goes through the queue', {
      ...ctx,
      error: error instanceof Error ? error.name : 'unknown',
    });
    return false;
  }
}

/**
 * Puts a new challenge's first step on the queue. The queue client has already retried; when it still fails,
 * the challenge fails now (with the reason on its step) rather than wait unsent, and the caller gets a 503.
 */
export async function queueFirstStep(
  deps: { queue: DispatchQueue; challenges: ChallengeStore; clock: Clock; log?: Logger | undefined },
  message: DispatchMessage,
): Promise<void> {
  try {
    await deps.queue.send(message);
    return;
  } catch (cause) {
    const ctx = { tenantId: message.tenantId, challengeId: message.challengeId, error: cause };
    deps.log?.error('the first step could not be queued; the challenge fails', ctx);
    const nowIso = new Date(deps.clock.now()).toISOString();
    await failWholeChain(deps.challenges, message, nowIso).catch((error: unknown) =>
      deps.log?.error('could not mark the unsent challenge failed; it ends when it expires', {
        ...ctx,
        error,
      }),
    );
    throw new DeliveryUnavailableError({ cause });
  }
}

/**
 * Fails the step and every later rule's step with it: each of them would need the same queue, so the chain
 * ends `failed` in this call rather than leave a later step queued that nothing will send.
 */
async function failWholeChain(challenges: ChallengeStore, message: DispatchMessage, nowIso: string) {
  for (let step = message.step; step < 100; step++) {
    const result = await challenges.failStep(message.tenantId, message.challengeId, step, {
      from: ['queued', 'dispatched'],
      at: nowIso,
      reason: QUEUE_UNAVAILABLE,
      nowIso,
    });
    if (result.outcome !== 'advanced') return;
  }
}

/** The step a live challenge waits on that nobody may be working on: queued, or handed to an agent. */
export function waitingStep(challenge: Challenge, nowIso: string): Delivery | undefined {
  if (challenge.status !== 'pending' || challenge.expiresAt <= nowIso) return undefined;
  const last = challenge.deliveries.at(-1);
  return last && (last.status === 'queued' || last.status === 'dispatched') ? last : undefined;
}

export interface StepSweepDeps {
  messageLog: Pick<MessageLogStore, 'list'>;
  queue: DispatchQueue;
  runner: Pick<ChainRunner, 'failStep'>;
  clock: Clock;
  log: Logger;
}

export interface StepSweepOptions {
  tenantIds: string[];
  /** How far back to look: the longest a challenge lives. */
  lookbackMs: number;
  /** A copy of a step's message kept outside the queue (the local stack keeps one on disk). */
  saved?: (challengeId: string, step: number) => DispatchMessage | undefined;
  /** The reason a step that cannot be sent again fails with. */
  reason: string;
}

export interface StepSweepReport {
  waiting: number;
  resent: number;
  failed: number;
}

/**
 * Finds known users' live challenges (through the message log) whose current step is queued or dispatched,
 * and sends that step again, or fails it when its message is gone. Only for when everything in flight is known
 * to be lost (a restart of the local stack): on a running system a waiting step is usually just in flight.
 */
export class StepSweeper {
  constructor(private readonly deps: StepSweepDeps) {}

  async sweep(options: StepSweepOptions): Promise<StepSweepReport> {
    const { clock, messageLog } = this.deps;
    const now = clock.now();
    const nowIso = new Date(now).toISOString();
    const since = new Date(now - options.lookbackMs).toISOString();
    const report: StepSweepReport = { waiting: 0, resent: 0, failed: 0 };
    for (const tenantId of options.tenantIds) {
      let cursor: string | undefined;
      do {
        const page = await messageLog.list(tenantId, { since, limit: 100, ...(cursor && { cursor }) });
        for (const challenge of page.challenges) {
          const step = waitingStep(challenge, nowIso);
          if (!step) continue;
          report.waiting++;
          if (await this.recover(challenge, step, options, nowIso)) report.resent++;
          else report.failed++;
        }
        cursor = page.cursor;
      } while (cursor);
    }
    return report;
  }

  private async recover(
    challenge: Challenge,
    step: Delivery,
    options: StepSweepOptions,
    nowIso: string,
  ): Promise<boolean> {
    const ctx = { tenantId: challenge.tenantId, challengeId: challenge.id, step: step.step };
    const message = options.saved?.(challenge.id, step.step) ?? stepMessage(challenge, step.step);
    if (message && message.kind !== 'timer') {
      // A step an agent was given goes to that agent again: same agent, same job id, so it is sent once.
      const agentId =
        step.status === 'dispatched' && step.agentId && step.agentId !== CLOUD_AGENT
          ? step.agentId
          : message.agentId;
      await this.deps.queue.send({ ...message, ...(agentId && { agentId }) });
      this.deps.log.info('waiting step queued again', ctx);
      return true;
    }
    await this.deps.runner.failStep(challenge.tenantId, challenge.id, step.step, {
      from: ['queued', 'dispatched'],
      at: nowIso,
      reason: options.reason,
    });
    this.deps.log.warn('waiting step could not be sent again; it failed', { ...ctx, reason: options.reason });
    return false;
  }
}
