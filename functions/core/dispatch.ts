/**
 * Carries out one queued step of a challenge's rule chain, or fires a step's failover timer.
 *
 * Exactly once where a user would notice:
 * - An SMS step goes to an agent under a job id that is the same on every attempt (`<challenge>.<step>`), and
 *   to the same agent: the agent chosen when the step was queued travels in the message (step 0: chosen when
 *   the challenge was made), or, when the message names none, the first dispatch claims the step for its agent
 *   with a conditional write that a later copy can only repeat for that same agent. The agent's journal drops
 *   the second copy of a job.
 * - A provider step (web SMS, voice, e-mail) and a TOTP step are claimed (`sending`) by a conditional write
 *   before the provider is called, so a redelivered message never calls it twice.
 * - A step for an expired challenge is never sent; nor is one for a challenge that was accepted or ended.
 */

import type { Rule } from '../contracts/admin.ts';
import type { ChannelKindName } from '../contracts/channels.ts';
import { SmsJob } from '../contracts/index.ts';
import { type DispatchMessage, SealedPayload } from '../contracts/queue.ts';
import { type AgentRouter, jobVersionOf } from './agent-router.ts';
import type { ChainRunner } from './chain-runner.ts';
import { type Channel, deliverSafely } from './channels/channel.ts';
import { channelUnit, deliveryChannel, deliveryRoute, maskedDestination } from './channels/registry.ts';
import type { Clock } from './clock.ts';
import { maskPhone } from './phone.ts';
import type { JobPublisher } from './ports/agents.ts';
import type { ChallengeStore } from './ports/challenges.ts';
import type { Logger } from './ports/log.ts';
import type { DeploymentKeys } from './secrets.ts';
import type { UsageMeter } from './usage-meter.ts';

export class DispatchError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DispatchError';
  }
}

/** The message cannot ever be processed (bad shape, tampered seal): retrying will not help. */
export class PoisonMessageError extends DispatchError {}

export const jobId = (challengeId: string, step: number) => `${challengeId}.${step}`;

export function parseJobId(id: string): { challengeId: string; step: number } | undefined {
  const m = /^([A-Za-z0-9_-]{16,64})\.(\d{1,3})$/.exec(id);
  return m ? { challengeId: m[1]!, step: Number(m[2]) } : undefined;
}

/** The seal context of a challenge's destinations and text (one for every step of its chain). */
/**
 * Whether a job of this rule, sent to an agent taking this job version, asks the network for a delivery
 * report: version 2 only where the chain waits for one, version 1 always.
 */
export const jobAsksReport = (rule: Pick<Rule, 'requireDeliveryReport'>, version: 1 | 2): boolean =>
  version === 1 || rule.requireDeliveryReport === true;

export const chainSealContext = (tenantId: string, challengeId: string) => `${tenantId}/${challengeId}/chain`;

/** The agent id the cloud records for steps it carries out itself. */
export const CLOUD_AGENT = 'cloud';

export type DispatchOutcome =
  | 'published'
  | 'delivered'
  | 'failed'
  | 'expired'
  | 'skipped'
  | 'no_agent'
  | 'timer_rearmed'
  | 'timer_fired';

export interface DispatcherDeps {
  challenges: ChallengeStore;
  publisher: JobPublisher;
  keys: DeploymentKeys;
  clock: Clock;
  log: Logger;
  router: AgentRouter;
  runner: ChainRunner;
  /** The channel for a provider step (web SMS, voice, e-mail); undefined when the provider does not exist. */
  providerChannel?: (tenantId: string, providerId: string) => Promise<Channel | undefined>;
  /**
   * The channels of rules without a route, by kind: the TOTP rule's sends nothing, it checks the user has
   * an authenticator app.
   */
  routeless?: Partial<Record<ChannelKindName, Channel>>;
  /** Counts messages for the tenant's monthly usage. */
  usage?: UsageMeter;
}

export interface Opened {
  text: string;
  username: string;
  targets: { primary: string | null; secondary: string | null; email: string | null };
}

/** Opens a dispatch message's sealed destinations and text; a seal that does not open is poison. */
export function openDispatchPayload(keys: DeploymentKeys, message: DispatchMessage): Opened {
  let raw: unknown;
  try {
    raw = JSON.parse(keys.unseal(message.sealed, chainSealContext(message.tenantId, message.challengeId)));
  } catch (cause) {
    throw new PoisonMessageError('the sealed payload does not open with this deployment key', { cause });
  }
  const parsed = SealedPayload.safeParse(raw);
  if (!parsed.success) throw new PoisonMessageError('the sealed payload has the wrong shape');
  return parsed.data;
}

/**
 * Until when an agent may still send a step's job. Where a later rule takes over at this rule's timeout, the
 * job must not go out after it: an agent that kept it over an outage (or a broker that queued it for an
 * offline agent's session) would otherwise send it beside the next rule's message, and the user would get two.
 * The agent drops a job at its `expiresAt`, so the deadline goes there; a last rule has only the challenge's.
 */
export function jobDeadline(
  message: Pick<DispatchMessage, 'expiresAt' | 'hasNext'>,
  rule: Rule,
  now: number,
): string {
  if (!message.hasNext) return message.expiresAt;
  return new Date(Math.min(now + rule.timeoutSeconds * 1000, Date.parse(message.expiresAt))).toISOString();
}

/** The job an SMS step puts on its agent's jobs topic, in the newest version that agent takes. */
export function smsJob(
  message: Pick<DispatchMessage, 'challengeId' | 'step' | 'flash' | 'expiresAt' | 'hasNext' | 'rule'>,
  target: { group: string; to: string; text: string; version: 1 | 2 },
  now: number,
): SmsJob {
  const fields = {
    id: jobId(message.challengeId, message.step),
    kind: 'sms',
    to: target.to,
    text: target.text,
    flash: message.flash,
    modemGroup: target.group,
    expiresAt: jobDeadline(message, message.rule, now),
  };
  // A delivery report only where the chain waits for it; an agent that predates version 2 always asks.
  return SmsJob.parse(
    target.version === 2 ? { v: 2, ...fields, report: jobAsksReport(message.rule, 2) } : { v: 1, ...fields },
  );
}

export class Dispatcher {
  constructor(private readonly deps: DispatcherDeps) {}

  async dispatch(
    message: DispatchMessage,
    options: { redelivered?: boolean } = {},
  ): Promise<DispatchOutcome> {
    const { clock, log } = this.deps;
    const nowIso = new Date(clock.now()).toISOString();
    const ctx = { tenantId: message.tenantId, challengeId: message.challengeId, step: message.step };
    if (message.expiresAt <= nowIso) {
      log.info('dispatch skipped: challenge expired', ctx);
      return 'expired';
    }
    if (message.kind === 'timer') return this.fire(message, options.redelivered ?? false);

    const payload = this.open(message);
    const { rule } = message;
    const unit = channelUnit(rule.channel);
    // An authenticator app is the user's own: the channel is asked about the username.
    const recipient = unit.reaches === 'app' ? payload.username : payload.targets[rule.target];
    if (!recipient) {
      await this.deps.runner.failStep(
        message.tenantId,
        message.challengeId,
        message.step,
        { from: ['queued', 'dispatched'], at: nowIso, reason: 'no_destination' },
        options.redelivered,
      );
      log.warn('step has no destination for its target', { ...ctx, target: rule.target });
      return 'failed';
    }
    if (unit.route === 'modem_group') return this.toAgent(message, rule, recipient, payload.text, options);
    return this.inCloud(message, rule, recipient, payload.text, options);
  }

  private open(message: DispatchMessage): Opened {
    return openDispatchPayload(this.deps.keys, message);
  }

  private async toAgent(
    message: DispatchMessage,
    rule: Rule,
    to: string,
    text: string,
    options: { redelivered?: boolean },
  ): Promise<DispatchOutcome> {
    const { challenges, publisher, clock, log, router, runner } = this.deps;
    const nowIso = new Date(clock.now()).toISOString();
    const ctx = { tenantId: message.tenantId, challengeId: message.challengeId, step: message.step };
    const group = rule.route ?? message.modemGroup;
    let agentId = message.agentId;
    let version: 1 | 2 | undefined;
    if (!agentId) {
      const agent = await router.pick(message.tenantId, group);
      if (!agent) {
        log.warn('no online agent serves the modem group', { ...ctx, modemGroup: group });
        await runner.failStep(
          message.tenantId,
          message.challengeId,
          message.step,
          { from: ['queued'], at: nowIso, reason: 'no_online_agent' },
          options.redelivered,
        );
        return 'no_agent';
      }
      const claimed = await challenges.claimStep(
        message.tenantId,
        message.challengeId,
        {
          step: message.step,
          channel: deliveryChannel(rule),
          route: group,
          status: 'dispatched',
          at: nowIso,
          agentId: agent.agentId,
          to: maskPhone(to),
        },
        nowIso,
      );
      if (!claimed) {
        log.info('dispatch skipped: step already done or challenge finished', ctx);
        return 'skipped';
      }
      agentId = agent.agentId;
      version = jobVersionOf(agent);
    }

    version ??= await router.jobVersion(message.tenantId, agentId);
    const job = smsJob(message, { group, to, text, version }, clock.now());
    await publisher.publishJob(message.tenantId, agentId, job);
    if (message.hasNext) await runner.armTimer({ ...message, agentId }, rule.timeoutSeconds);
    log.info('job published', { ...ctx, agentId });
    return 'published';
  }

  private async inCloud(
    message: DispatchMessage,
    rule: Rule,
    to: string,
    text: string,
    options: { redelivered?: boolean },
  ): Promise<DispatchOutcome> {
    const { challenges, clock, log, runner } = this.deps;
    const nowIso = new Date(clock.now()).toISOString();
    const ctx = { tenantId: message.tenantId, challengeId: message.challengeId, step: message.step };
    const unit = channelUnit(rule.channel);
    const masked = maskedDestination(rule, to);
    const claimed = await challenges.claimStep(
      message.tenantId,
      message.challengeId,
      {
        step: message.step,
        channel: deliveryChannel(rule),
        route: deliveryRoute(rule),
        status: 'sending',
        at: nowIso,
        agentId: CLOUD_AGENT,
        ...(masked !== undefined && { to: masked }),
      },
      nowIso,
    );
    if (!claimed) {
      log.info('dispatch skipped: step already claimed or challenge finished', ctx);
      return 'skipped';
    }
    // Armed first: should this call die mid-send, the timer still moves the chain on.
    if (message.hasNext) await runner.armTimer(message, rule.timeoutSeconds);

    const channel =
      unit.route === 'none'
        ? this.deps.routeless?.[rule.channel]
        : rule.route
          ? await this.deps.providerChannel?.(message.tenantId, rule.route)
          : undefined;
    const outcome = channel
      ? await deliverSafely(
          channel,
          { tenantId: message.tenantId, challengeId: message.challengeId, step: message.step, to, text },
          AbortSignal.timeout(rule.timeoutSeconds * 1000),
        )
      : ({ status: 'failed', failure: 'config', reason: 'provider_missing' } as const);
    const at = new Date(clock.now()).toISOString();
    if (outcome.status === 'sent') {
      const moved = await challenges.updateStep(
        message.tenantId,
        message.challengeId,
        message.step,
        CLOUD_AGENT,
        {
          status: 'sent',
          at,
          ...(unit.reaches === 'app' && { totp: true }),
        },
      );
      // A step that reaches an app sends nothing, so it is no message.
      if (moved && unit.reaches !== 'app') this.deps.usage?.message(message.tenantId, at);
      log.info('step delivered by the cloud', { ...ctx, channel: rule.channel });
      return 'delivered';
    }
    log.warn('provider step failed', { ...ctx, channel: rule.channel, reason: outcome.reason });
    await runner.failStep(
      message.tenantId,
      message.challengeId,
      message.step,
      { from: ['sending'], agentId: CLOUD_AGENT, at, reason: outcome.reason },
      options.redelivered,
    );
    return 'failed';
  }

  /** A step's timeout ran out: unless the step succeeded meanwhile, the next rule runs. */
  private async fire(message: DispatchMessage, redelivered: boolean): Promise<DispatchOutcome> {
    const { runner, clock } = this.deps;
    if (await runner.rearmIfEarly(message)) return 'timer_rearmed';
    const { rule } = message;
    await runner.failStep(
      message.tenantId,
      message.challengeId,
      message.step,
      {
        from: rule.requireDeliveryReport
          ? ['queued', 'dispatched', 'sending', 'sent']
          : ['queued', 'dispatched', 'sending'],
        at: new Date(clock.now()).toISOString(),
        reason: rule.requireDeliveryReport ? 'no_delivery_report' : 'timeout',
      },
      redelivered,
    );
    return 'timer_fired';
  }
}

export { maskEmail } from './channels/registry.ts';
