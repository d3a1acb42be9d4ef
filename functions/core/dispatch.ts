/**
 * Turns one queued challenge step into a job on an edge agent's topic. Redelivered queue messages are
 * harmless: the step is claimed by a conditional write, and the job id is the same on every attempt, so
 * the agent's journal drops a second copy.
 */

import type { Logger } from '../adapters/log.ts';
import { SmsJob } from '../contracts/index.ts';
import type { Clock } from './clock.ts';
import type { Agent } from './model.ts';
import type { ChallengeStore, DirectoryStore, DispatchMessage, JobPublisher } from './ports.ts';
import type { DeploymentKeys } from './secrets.ts';

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

export type DispatchOutcome = 'published' | 'expired' | 'skipped' | 'no_agent';

export interface DispatcherDeps {
  directory: DirectoryStore;
  challenges: ChallengeStore;
  publisher: JobPublisher;
  keys: DeploymentKeys;
  clock: Clock;
  log: Logger;
  /** How long a warm function trusts its list of a tenant's agents. */
  agentCacheMs?: number;
}

export class Dispatcher {
  private readonly agentCache = new Map<string, { at: number; agents: Agent[] }>();

  constructor(private readonly deps: DispatcherDeps) {}

  async dispatch(message: DispatchMessage): Promise<DispatchOutcome> {
    const { challenges, publisher, keys, clock, log } = this.deps;
    const now = clock.now();
    const nowIso = new Date(now).toISOString();
    const ctx = { tenantId: message.tenantId, challengeId: message.challengeId, step: message.step };
    if (message.expiresAt <= nowIso) {
      log.info('dispatch skipped: challenge expired', ctx);
      return 'expired';
    }

    let payload: { to: string; text: string };
    try {
      payload = JSON.parse(
        keys.unseal(message.sealed, `${message.tenantId}/${message.challengeId}/${message.step}`),
      );
    } catch (cause) {
      throw new PoisonMessageError('the sealed payload does not open with this deployment key', { cause });
    }

    const agent = await this.pickAgent(message.tenantId, message.modemGroup);
    if (!agent) {
      await challenges.claimStep(
        message.tenantId,
        message.challengeId,
        {
          step: message.step,
          channel: 'sms',
          route: message.modemGroup,
          status: 'failed',
          at: nowIso,
          reason: 'no_online_agent',
        },
        nowIso,
      );
      log.warn('no online agent serves the modem group', { ...ctx, modemGroup: message.modemGroup });
      return 'no_agent';
    }

    const claimed = await challenges.claimStep(
      message.tenantId,
      message.challengeId,
      {
        step: message.step,
        channel: 'sms',
        route: message.modemGroup,
        status: 'dispatched',
        at: nowIso,
        agentId: agent.agentId,
      },
      nowIso,
    );
    if (!claimed) {
      log.info('dispatch skipped: step already done or challenge finished', ctx);
      return 'skipped';
    }

    const job = SmsJob.parse({
      v: 1,
      id: jobId(message.challengeId, message.step),
      kind: 'sms',
      to: payload.to,
      text: payload.text,
      flash: message.flash,
      modemGroup: message.modemGroup,
      expiresAt: message.expiresAt,
    });
    await publisher.publishJob(message.tenantId, agent.agentId, job);
    log.info('job published', { ...ctx, agentId: agent.agentId });
    return 'published';
  }

  private async pickAgent(tenantId: string, group: string): Promise<Agent | undefined> {
    const ttl = this.deps.agentCacheMs ?? 5000;
    const now = this.deps.clock.now();
    let cached = this.agentCache.get(tenantId);
    if (!cached || now - cached.at > ttl) {
      cached = { at: now, agents: await this.deps.directory.listAgents(tenantId) };
      this.agentCache.set(tenantId, cached);
    }
    const candidates = cached.agents.filter((a) => a.state === 'online' && a.modemGroups.includes(group));
    // Spread load across equally good agents; modem-level load balancing happens inside each agent.
    return candidates[Math.floor(Math.random() * candidates.length)];
  }
}
