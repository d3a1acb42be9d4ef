/**
 * The on-prem side of the local stack: the demo edge agent and any extra ones, each the real agent driving
 * simulated modems, registered in the directory first. The part is up only once the cloud has heard every
 * agent come online with healthy modems, so the first login is routed and dispatched.
 */
import { join } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Logger } from '../../adapters/log.ts';
import { newId } from '../../core/ids.ts';
import type { DirectoryStore } from '../../core/ports/directory.ts';
import { type LocalEdge, startLocalEdge } from '../edge.ts';
import { type DemoSeed, registerAgent } from '../seed.ts';
import { type Part, startPart } from './part.ts';

const READY_WITHIN_MS = 15_000;

export interface EdgeAgents extends Part {
  /** The demo agent. */
  edge: LocalEdge | undefined;
  /** Every running agent by id (the demo one and the extra ones). */
  edges: Map<string, LocalEdge>;
}

interface AgentPlan {
  agent: { agentId: string; secret: string };
  modems: number;
  groups: string[];
  prefix: string;
  ports: number[];
}

export function startEdgeAgents(options: {
  seed: Pick<DemoSeed, 'tenantId' | 'agent'>;
  dynamo: DynamoDBClient;
  table: string;
  directory: Pick<DirectoryStore, 'getAgent'>;
  mqttUrl: string;
  dataDir: string;
  /** Where every simulated modem appends the SMS it "sent". */
  outbox: string;
  modems: number | undefined;
  modemGroups: string[] | undefined;
  modemPorts: number[];
  modemSendMs: number;
  extraAgents: Array<{ agentId: string; groups: string[] }>;
  /** The demo agent's RADIUS front, if any. */
  radius?: { port: number; apiUrl: string; authKey: string; secret: string } | undefined;
  log: Logger;
}): Promise<EdgeAgents> {
  const { seed, dynamo, table } = options;
  return startPart(options.log, async (stops) => {
    const demoGroups = options.modemGroups ?? [];
    const plans: AgentPlan[] = [
      {
        agent: seed.agent,
        modems: options.modemGroups?.length ?? options.modems ?? 2,
        groups: demoGroups,
        prefix: 'modem-',
        ports: options.modemPorts,
      },
    ];
    for (const extra of options.extraAgents) {
      const agent = { agentId: extra.agentId, secret: newId(24), modemGroups: [...new Set(extra.groups)] };
      await registerAgent(dynamo, table, seed.tenantId, agent);
      plans.push({
        agent,
        modems: extra.groups.length,
        groups: extra.groups,
        prefix: `${extra.agentId}-modem-`,
        ports: [],
      });
    }
    if (demoGroups.length > 0)
      await registerAgent(dynamo, table, seed.tenantId, {
        ...seed.agent,
        modemGroups: [...new Set(demoGroups)],
      });

    const edges = new Map<string, LocalEdge>();
    for (const plan of plans) {
      const started = await startLocalEdge({
        tenantId: seed.tenantId,
        agent: plan.agent,
        mqttUrl: options.mqttUrl,
        stateDir: join(
          options.dataDir,
          plan.agent.agentId === seed.agent.agentId ? 'agent' : `agent-${plan.agent.agentId}`,
        ),
        outbox: options.outbox,
        modems: plan.modems,
        groups: plan.groups,
        namePrefix: plan.prefix,
        modemPorts: plan.ports,
        sendMs: options.modemSendMs,
        ...(options.radius && plan.agent.agentId === seed.agent.agentId && { radius: options.radius }),
      });
      edges.set(plan.agent.agentId, started);
      stops.push(() => started.stop());
    }
    await waitUntilOnline(options.directory, seed.tenantId, plans);
    return { edge: edges.get(seed.agent.agentId), edges };
  });
}

/** Ready means ready: each agent is online in the directory and has reported all its modems healthy. */
async function waitUntilOnline(
  directory: Pick<DirectoryStore, 'getAgent'>,
  tenantId: string,
  plans: AgentPlan[],
): Promise<void> {
  const deadline = Date.now() + READY_WITHIN_MS;
  for (const plan of plans) {
    for (;;) {
      const stored = await directory.getAgent(tenantId, plan.agent.agentId);
      const reports = Object.values(stored?.modems ?? {});
      if (stored?.state === 'online' && reports.length >= plan.modems && reports.every((m) => m.healthy))
        break;
      if (Date.now() > deadline)
        throw new Error(
          `edge agent ${plan.agent.agentId} did not come online with healthy modems within 15 s`,
        );
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}
