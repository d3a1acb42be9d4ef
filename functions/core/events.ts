/**
 * Applies what agents report. Only the topic says who is reporting (the broker's ACL vouches for it), so a
 * report about a job is applied only to that tenant's challenge and only when that agent was given the job.
 */

import {
  AgentEvent,
  AgentStatus,
  BridgedMessage,
  type JobUnknownEvent,
  parseAgentTopic,
  parseJson,
} from '../contracts/index.ts';
import { type ChainRunner, stepMessage } from './chain-runner.ts';
import { OUTCOME_UNKNOWN, UNKNOWN_OUTCOME_WAIT_SECONDS } from './challenge-transitions.ts';
import { parseJobId } from './dispatch.ts';
import type { ChallengeStore } from './ports/challenges.ts';
import type { DirectoryStore } from './ports/directory.ts';
import type { Logger } from './ports/log.ts';
import type { UsageMeter } from './usage-meter.ts';

export type EventOutcome = 'applied' | 'ignored' | 'rejected';

export { OUTCOME_UNKNOWN, UNKNOWN_OUTCOME_WAIT_SECONDS };

export interface EventProcessorDeps {
  directory: DirectoryStore;
  challenges: ChallengeStore;
  log: Logger;
  /** Moves the rule chain on when a job fails; without it a failure is only recorded. */
  runner?: ChainRunner;
  /** Counts messages for the tenant's monthly usage. */
  usage?: UsageMeter;
}

export class EventProcessor {
  /** Counts of dropped input by reason, for metrics and tests. */
  readonly dropped = new Map<string, number>();

  constructor(private readonly deps: EventProcessorDeps) {}

  async process(body: string, options: { redelivered?: boolean } = {}): Promise<EventOutcome> {
    const bridged = BridgedMessage.safeParse(parseJson(body));
    if (!bridged.success) return this.drop('bad_envelope');
    const address = parseAgentTopic(bridged.data.topic);
    if (!address || (address.kind !== 'events' && address.kind !== 'status')) return this.drop('bad_topic');
    const raw = parseJson(Buffer.from(bridged.data.payload, 'base64'));
    // Agent state is ordered by when the cloud heard it: agents' clocks may be off, the broker's is ours.
    const heardAt = new Date(bridged.data.receivedAt ?? Date.now()).toISOString();

    if (address.kind === 'status') {
      const status = AgentStatus.safeParse(raw);
      if (!status.success) return this.drop('bad_status');
      await this.deps.directory.setAgentState(address.tenantId, address.agentId, status.data.state, heardAt);
      return 'applied';
    }

    const parsed = AgentEvent.safeParse(raw);
    if (!parsed.success) return this.drop('bad_event');
    const event = parsed.data;
    const { tenantId, agentId } = address;
    switch (event.type) {
      case 'agent.online':
        await this.deps.directory.setAgentState(tenantId, agentId, 'online', heardAt);
        return 'applied';
      case 'modem.status':
        // The routing view (latest per modem) orders by when the cloud heard it; the history keeps the details.
        await this.deps.directory.recordModemStatus(tenantId, agentId, {
          modem: event.modem,
          group: event.group,
          healthy: event.healthy,
          signal: event.signal,
          registration: event.registration,
          queue: event.queue,
          retries: event.retries,
          errors: event.errors,
          lastError: event.lastError,
          at: heardAt,
        });
        return 'applied';
      case 'job.unknown':
        return this.unknownOutcome(tenantId, agentId, event, options.redelivered === true);
      case 'job.sent':
      case 'job.failed':
      case 'job.delivered': {
        const job = parseJobId(event.jobId);
        if (!job) return this.drop('bad_job_id');
        if (event.type === 'job.failed' && this.deps.runner) {
          const outcome = await this.deps.runner.failStep(
            tenantId,
            job.challengeId,
            job.step,
            {
              from: ['dispatched', 'sent'],
              agentId,
              at: event.at,
              reason: event.reason,
              ...(event.modem && { modem: event.modem }),
            },
            options.redelivered,
          );
          if (outcome === 'none') return this.drop('not_applicable');
          this.deps.log.info('job failed', {
            tenantId,
            agentId,
            challengeId: job.challengeId,
            step: job.step,
            outcome,
          });
          return 'applied';
        }
        const status =
          event.type === 'job.sent' ? 'sent' : event.type === 'job.delivered' ? 'delivered' : 'failed';
        const applied = await this.deps.challenges.updateStep(tenantId, job.challengeId, job.step, agentId, {
          status,
          at: event.at,
          ...('modem' in event && event.modem && { modem: event.modem }),
          ...(event.type === 'job.failed' && { reason: event.reason }),
        });
        if (!applied) return this.drop('not_applicable');
        if (status === 'sent') this.deps.usage?.message(tenantId, event.at);
        this.deps.log.info('delivery updated', {
          tenantId,
          agentId,
          challengeId: job.challengeId,
          step: job.step,
          status,
        });
        return 'applied';
      }
    }
  }

  /**
   * The agent died while the job was at a modem, which may have sent it. Failing over at once would send the
   * passcode twice whenever the modem did (most of the time); waiting out the rule's timeout would leave the
   * user without one when it did not. So the step reads `sent` (reason `outcome_unknown`), which the rule's
   * own timer leaves alone, and a short timer waits for the job's `job.delivered`: when none came, the next
   * rule runs. With no next rule nothing is armed: the challenge reads `failed` once the same wait is over
   * (`lastStepLapsed`), and a late report still makes it `delivered`.
   */
  private async unknownOutcome(
    tenantId: string,
    agentId: string,
    event: JobUnknownEvent,
    redelivered: boolean,
  ): Promise<EventOutcome> {
    const job = parseJobId(event.jobId);
    if (!job) return this.drop('bad_job_id');
    const { challenges, runner, log } = this.deps;
    const applied = await challenges.updateStep(tenantId, job.challengeId, job.step, agentId, {
      status: 'sent',
      at: event.at,
      reason: OUTCOME_UNKNOWN,
      ...(event.modem && { modem: event.modem }),
    });
    const challenge =
      applied || redelivered ? await challenges.get(tenantId, job.challengeId, true) : undefined;
    if (!applied) {
      // A copy of an event whose handler died before arming the timer arms it now; an extra timer is harmless,
      // since failing a step is a conditional write.
      const step = challenge?.deliveries.find((d) => d.step === job.step);
      if (!(step?.status === 'sent' && step.reason === OUTCOME_UNKNOWN && step.agentId === agentId))
        return this.drop('not_applicable');
    }
    const message = challenge && stepMessage(challenge, job.step);
    if (runner && message?.hasNext) {
      await runner.armTimer(
        { ...message, rule: { ...message.rule, requireDeliveryReport: true } },
        Math.min(UNKNOWN_OUTCOME_WAIT_SECONDS, message.rule.timeoutSeconds),
      );
    }
    log.info('job outcome unknown; waiting for its delivery report', {
      tenantId,
      agentId,
      challengeId: job.challengeId,
      step: job.step,
      failover: message?.hasNext === true,
    });
    return 'applied';
  }

  private drop(reason: string): EventOutcome {
    this.dropped.set(reason, (this.dropped.get(reason) ?? 0) + 1);
    this.deps.log.warn('agent message dropped', { reason });
    return 'rejected';
  }
}
