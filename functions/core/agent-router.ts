/**
 * Which edge agent gets an SMS for a modem group. A group may live on several agents; the router picks among
 * the agents that are online and whose latest modem reports (fresh ones only) show a healthy modem in the
 * group, the least loaded first. An agent whose last will said offline, or that stopped reporting, is never
 * chosen. The tenant's agent list is cached while the container is warm, so routing costs no store call per
 * message.
 */
import type { Clock } from './clock.ts';
import type { Agent } from './model.ts';
import type { DirectoryStore } from './ports/directory.ts';

export interface AgentRouterDeps {
  directory: Pick<DirectoryStore, 'listAgents'>;
  clock: Clock;
  /** How long a warm container trusts its list of a tenant's agents. */
  cacheMs?: number;
  /** A modem report older than this no longer counts (agents report every 60 s by default, and on change). */
  staleMs?: number;
}

export class AgentRouter {
  private readonly cache = new Map<string, { at: number; agents: Agent[] }>();

  constructor(private readonly deps: AgentRouterDeps) {}

  async pick(tenantId: string, group: string): Promise<Agent | undefined> {
    const now = this.deps.clock.now();
    const ranked = rankAgents(await this.agents(tenantId, now), group, now, this.deps.staleMs ?? 200_000);
    return ranked[0];
  }

  /**
   * The newest job version an agent takes, as the cached list says: an agent not in it (yet) gets version 1,
   * which every agent takes.
   */
  async jobVersion(tenantId: string, agentId: string): Promise<1 | 2> {
    const agent = (await this.agents(tenantId, this.deps.clock.now())).find((a) => a.agentId === agentId);
    return jobVersionOf(agent);
  }

  /** Forgets a tenant's list (an agent went offline under our feet). */
  forget(tenantId: string): void {
    this.cache.delete(tenantId);
  }

  private async agents(tenantId: string, now: number): Promise<Agent[]> {
    const ttl = this.deps.cacheMs ?? 5000;
    const cached = this.cache.get(tenantId);
    if (cached && now - cached.at < ttl) return cached.agents;
    const agents = await this.deps.directory.listAgents(tenantId);
    this.cache.set(tenantId, { at: now, agents });
    return agents;
  }
}

export const jobVersionOf = (agent: Agent | undefined): 1 | 2 => (agent?.jobVersions?.includes(2) ? 2 : 1);

/**
 * Online agents able to send for `group`, least loaded first (ties in random order, to spread the load).
 * An agent with modem reports needs a fresh, healthy one in the group; an agent that never reported any
 * modem (older agents) is judged by its registered groups alone.
 */
export function rankAgents(agents: Agent[], group: string, now: number, staleMs: number): Agent[] {
  const scored: Array<{ agent: Agent; load: number; tie: number }> = [];
  for (const agent of agents) {
    if (agent.state !== 'online') continue;
    const reports = Object.values(agent.modems ?? {});
    if (reports.length === 0) {
      if (agent.modemGroups.includes(group)) scored.push({ agent, load: 0, tie: Math.random() });
      continue;
    }
    const healthy = reports.filter(
      (m) => m.group === group && m.healthy && now - Date.parse(m.at) <= staleMs,
    );
    if (healthy.length === 0) continue;
    const load = healthy.reduce((sum, m) => sum + m.queue, 0) / healthy.length;
    scored.push({ agent, load, tie: Math.random() });
  }
  return scored.sort((a, b) => a.load - b.load || a.tie - b.tie).map((s) => s.agent);
}
