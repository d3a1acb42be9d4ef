/**
 * Applies what agents report. Only the topic says who is reporting (the broker's ACL vouches for it), so a
 * report about a job is applied only to that tenant's challenge and only when that agent was given the job.
 *
 * Whether an agent is online comes from IoT Core's lifecycle events alone (contracts/presence.ts), never from
 * what the agent says: they arrive even when an agent vanishes, need no retained message, and carry a version
 * that orders them (a late "disconnected" never overrides a newer "connected").
 */

import {
  AgentEvent,
  BridgedMessage,
  type JobUnknownEvent,
  LifecycleEvent,
  type ModemStatusEvent,
  PRESENCE_TOPIC_PREFIX,
  parseAgentThingName,
  parseAgentTopic,
  parseJson,
  RpcReply,
} from '../contracts/index.ts';
import { jobVersionOf } from './agent-router.ts';
import { type ChainRunner, stepMessage } from './chain-runner.ts';
import { OUTCOME_UNKNOWN, UNKNOWN_OUTCOME_WAIT_SECONDS } from './challenge-transitions.ts';
import { jobAsksReport, parseJobId } from './dispatch.ts';
import type { ChallengeStore } from './ports/challenges.ts';
import type { DirectoryStore } from './ports/directory.ts';
import type { Logger } from './ports/log.ts';
import type { ServiceEventStore } from './ports/service-events.ts';
import type { RpcService } from './rpc.ts';
import { modemTransition } from './service-events.ts';
import type { UsageMeter } from './usage-meter.ts';

export type EventOutcome = 'applied' | 'ignored' | 'rejected';

export { OUTCOME_UNKNOWN, UNKNOWN_OUTCOME_WAIT_SECONDS };

export interface EventProcessorDeps {
  /** The deployment's stage: only its agents' topics and thing names are heard. */
  stage: string;
  directory: DirectoryStore;
  challenges: ChallengeStore;
  log: Logger;
  /** Moves the rule chain on when a job fails; without it a failure is only recorded. */
  runner?: ChainRunner;
  /** Counts messages for the tenant's monthly usage. */
  usage?: UsageMeter;
  /** The tenant's service-status log (agents connected/disconnected, modems up/blocked/recovered). */
  serviceEvents?: ServiceEventStore;
  /** Takes agents' RPC replies and records the AD domains they announce; without it both are dropped. */
  rpc?: Pick<RpcService, 'answer' | 'noteDomains'>;
}

export class EventProcessor {
  /** Counts of dropped input by reason, for metrics and tests. */
  readonly dropped = new Map<string, number>();

  constructor(private readonly deps: EventProcessorDeps) {}

  async process(body: string, options: { redelivered?: boolean } = {}): Promise<EventOutcome> {
    const bridged = BridgedMessage.safeParse(parseJson(body));
    if (!bridged.success) return this.drop('bad_envelope');
    const raw = parseJson(Buffer.from(bridged.data.payload, 'base64'));
    if (bridged.data.topic.startsWith(PRESENCE_TOPIC_PREFIX)) return this.presence(bridged.data.topic, raw);
    const address = parseAgentTopic(bridged.data.topic);
    if (address?.kind !== 'events' && address?.kind !== 'rpc/res') return this.drop('bad_topic');
    // another stage's agents are strangers here, whatever their ids (the rules take only this stage's topics)
    if (address.stage !== this.deps.stage) return this.drop('other_stage');
    if (address.kind === 'rpc/res') return this.rpcReply(address.tenantId, address.agentId, raw);
    // Agent state is ordered by when the cloud heard it: agents' clocks may be off, the broker's is ours.
    const heardAt = new Date(bridged.data.receivedAt ?? Date.now()).toISOString();

    const parsed = AgentEvent.safeParse(raw);
    if (!parsed.success) return this.drop('bad_event');
    const event = parsed.data;
    const { tenantId, agentId } = address;
    switch (event.type) {
      case 'agent.online': {
        // Presence is the lifecycle events' alone: this one could arrive after a newer disconnect. What it says
        // about the agent's software holds whichever came first: the job versions it takes, and the AD domains
        // its connector serves (ordered by when the cloud heard it).
        await this.deps.directory.setAgentJobVersions(tenantId, agentId, event.jobVersions ?? [1]);
        if (this.deps.rpc) await this.deps.rpc.noteDomains(tenantId, agentId, event.adDomains ?? [], heardAt);
        return 'applied';
      }
      case 'modem.status': {
        // The routing view (latest per modem) orders by when the cloud heard it; the history keeps the details.
        const recorded = await this.deps.directory.recordModemStatus(tenantId, agentId, {
          modem: event.modem,
          group: event.group,
          healthy: event.healthy,
          signal: event.signal,
          registration: event.registration,
          operator: event.operator,
          queue: event.queue,
          retries: event.retries,
          errors: event.errors,
          lastError: event.lastError,
          at: heardAt,
        });
        if (recorded.applied) await this.modemChange(tenantId, agentId, event, recorded.previous, heardAt);
        return 'applied';
      }
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
   *
   * A job that asked for no delivery report (version 2 without `report`) will never be confirmed, so waiting
   * tells nothing: the step fails at once (reason `outcome_unknown`) and the next rule runs, as it would after
   * the wait. Which version the job had is read from the rule and the versions the agent announces now (it
   * announced them on the connection that reports `job.unknown`); only an agent upgraded between its crash
   * and its restart could have had a job of another version.
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
    if (runner && !(await this.unknownJobAskedReport(tenantId, agentId, job))) {
      const outcome = await runner.failStep(
        tenantId,
        job.challengeId,
        job.step,
        {
          from: ['dispatched', 'sent'],
          agentId,
          at: event.at,
          reason: OUTCOME_UNKNOWN,
          ...(event.modem && { modem: event.modem }),
        },
        redelivered,
      );
      if (outcome === 'none') return this.drop('not_applicable');
      log.info('job outcome unknown and no delivery report asked; the chain moves on', {
        tenantId,
        agentId,
        challengeId: job.challengeId,
        step: job.step,
        outcome,
      });
      return 'applied';
    }
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

  /** Whether the job of this step asked the network for a delivery report (unknown rule: assume it did). */
  private async unknownJobAskedReport(
    tenantId: string,
    agentId: string,
    job: { challengeId: string; step: number },
  ): Promise<boolean> {
    const challenge = await this.deps.challenges.get(tenantId, job.challengeId, true);
    const rule = challenge?.chain?.[job.step];
    if (!rule) return true;
    const agent = await this.deps.directory.getAgent(tenantId, agentId);
    return jobAsksReport(rule, jobVersionOf(agent));
  }

  /** One of IoT Core's lifecycle events: the agent's presence, and an entry in its tenant's service log. */
  private async presence(topic: string, raw: unknown): Promise<EventOutcome> {
    const parsed = LifecycleEvent.safeParse(raw);
    if (!parsed.success) return this.drop('bad_lifecycle_event');
    const event = parsed.data;
    // the topic is IoT Core's own and names the client; a payload naming another is not to be trusted
    if (topic !== `${PRESENCE_TOPIC_PREFIX}${event.eventType}/${event.clientId}`)
      return this.drop('bad_topic');
    // the policy holds an agent's client id to its thing name, `{stage}:{tenantId}:{agentId}`; others (the
    // cloud's own clients, another stage's agents) are not this stage's agents
    const agent = parseAgentThingName(event.clientId);
    if (agent?.stage !== this.deps.stage) return 'ignored';
    const connected = event.eventType === 'connected';
    const at = new Date(event.timestamp).toISOString();
    await this.deps.serviceEvents?.record(
      agent.tenantId,
      {
        at,
        type: connected ? 'agent.connected' : 'agent.disconnected',
        agentId: agent.agentId,
        ...(!connected && event.disconnectReason && { reason: event.disconnectReason }),
      },
      `${event.eventType}#${event.sessionIdentifier ?? ''}#${event.versionNumber}`,
    );
    const applied = await this.deps.directory.applyPresence(agent.tenantId, agent.agentId, {
      state: connected ? 'online' : 'offline',
      version: event.versionNumber,
      phase: connected ? 0 : 1,
      timestamp: event.timestamp,
    });
    this.deps.log.info(applied ? 'agent presence' : 'agent presence superseded', {
      ...agent,
      event: event.eventType,
      version: event.versionNumber,
      ...(event.disconnectReason && { reason: event.disconnectReason }),
    });
    return applied ? 'applied' : 'ignored';
  }

  /**
   * An RPC reply: the topic names the agent answering, so a reply is taken only for a request that agent was
   * asked, once, and before its expiry (RpcService.answer). Anything else changes nothing.
   */
  private async rpcReply(tenantId: string, agentId: string, raw: unknown): Promise<EventOutcome> {
    if (!this.deps.rpc) return this.drop('rpc_unconfigured');
    const parsed = RpcReply.safeParse(raw);
    if (!parsed.success) return this.drop('bad_rpc_reply');
    if (await this.deps.rpc.answer(tenantId, agentId, parsed.data)) return 'applied';
    return this.drop('rpc_reply_not_taken');
  }

  /** A modem's report that changes its health (first report, blocked, recovered) goes into the service log. */
  private async modemChange(
    tenantId: string,
    agentId: string,
    event: ModemStatusEvent,
    previous: { healthy: boolean } | undefined,
    heardAt: string,
  ): Promise<void> {
    const type = modemTransition(previous, event);
    if (!type || !this.deps.serviceEvents) return;
    const reason =
      type === 'modem.blocked'
        ? (event.lastError ?? `registration ${event.registration}`)
        : `registration ${event.registration}${event.signal === null ? '' : `, signal ${event.signal}`}`;
    await this.deps.serviceEvents.record(
      tenantId,
      { at: heardAt, type, agentId, modem: event.modem, group: event.group, reason },
      `${event.modem}#${heardAt}`,
    );
  }

  private drop(reason: string): EventOutcome {
    this.dropped.set(reason, (this.dropped.get(reason) ?? 0) + 1);
    this.deps.log.warn('agent message dropped', { reason });
    return 'rejected';
  }
}
