/**
 * Applies what agents report. Only the topic says who is reporting (the broker's ACL vouches for it), so a
 * report about a job is applied only to that tenant's challenge and only when that agent was given the job.
 */

import type { Logger } from '../adapters/log.ts';
import { AgentEvent, AgentStatus, BridgedMessage, parseAgentTopic, parseJson } from '../contracts/index.ts';
import { parseJobId } from './dispatch.ts';
import type { ChallengeStore, DirectoryStore } from './ports.ts';

export type EventOutcome = 'applied' | 'ignored' | 'rejected';

export interface EventProcessorDeps {
  directory: DirectoryStore;
  challenges: ChallengeStore;
  log: Logger;
}

export class EventProcessor {
  /** Counts of dropped input by reason, for metrics and tests. */
  readonly dropped = new Map<string, number>();

  constructor(private readonly deps: EventProcessorDeps) {}

  async process(body: string): Promise<EventOutcome> {
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
        // Stored for monitoring by the dispatch issue's health views; until then only logged.
        this.deps.log.debug('modem status', {
          tenantId,
          agentId,
          modem: event.modem,
          healthy: event.healthy,
        });
        return 'ignored';
      case 'job.sent':
      case 'job.failed':
      case 'job.delivered': {
        const job = parseJobId(event.jobId);
        if (!job) return this.drop('bad_job_id');
        const status =
          event.type === 'job.sent' ? 'sent' : event.type === 'job.delivered' ? 'delivered' : 'failed';
        const applied = await this.deps.challenges.updateStep(tenantId, job.challengeId, job.step, agentId, {
          status,
          at: event.at,
          ...('modem' in event && event.modem && { modem: event.modem }),
          ...(event.type === 'job.failed' && { reason: event.reason }),
        });
        if (!applied) return this.drop('not_applicable');
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

  private drop(reason: string): EventOutcome {
    this.dropped.set(reason, (this.dropped.get(reason) ?? 0) + 1);
    this.deps.log.warn('agent message dropped', { reason });
    return 'rejected';
  }
}
