/**
 * The demo edge agent of the local stack: simulated modems on TCP ports, as a serial-to-IP converter
 * would present real ones, and the real agent (MQTT link, journal, modem pool, AT driver) driving them.
 */
import { mkdirSync } from 'node:fs';
import { type Agent, startAgent } from '../../edge-agent/agent.ts';
import { AgentConfig } from '../../edge-agent/config.ts';
import { createLogger as createAgentLogger } from '../../edge-agent/log.ts';
import { ModemPool } from '../../edge-agent/modem/pool/pool.ts';
import { type RunningSimulator, startSimulator } from '../../edge-agent/simulator/server.ts';
import { LOCAL_STAGE, thingName } from '../contracts/topics.ts';
import { DEMO_MODEM_GROUP } from './seed.ts';

export interface LocalEdge {
  agent: Agent;
  pool: ModemPool;
  simulators: RunningSimulator[];
  modems: Array<{ id: string; url: string }>;
  stop(): Promise<void>;
}

export interface LocalEdgeOptions {
  tenantId: string;
  agent: { agentId: string; secret: string };
  mqttUrl: string;
  stateDir: string;
  outbox: string;
  modems: number;
  /** The modem group of each modem, by index; missing ones are in the demo group. */
  groups?: string[];
  /** Fixed TCP ports for the simulators; 0 or missing picks free ones. */
  modemPorts: number[];
  sendMs: number;
  /** Simulated modems are named `<prefix><n>` (default `modem-`), so several agents' modems stay apart. */
  namePrefix?: string;
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** A RADIUS front on 127.0.0.1 for `radtest` (first factor off: the demo has no AD). */
  radius?: { port: number; apiUrl: string; authKey: string; secret: string };
}

export async function startLocalEdge(options: LocalEdgeOptions): Promise<LocalEdge> {
  mkdirSync(options.stateDir, { recursive: true });
  const simulators: RunningSimulator[] = [];
  const cleanup = async () => {
    await Promise.allSettled(simulators.map((s) => s.close()));
  };
  try {
    for (let i = 0; i < options.modems; i++) {
      simulators.push(
        await startSimulator({
          name: `${options.namePrefix ?? 'modem-'}${i + 1}`,
          port: options.modemPorts[i] ?? 0,
          outboxPath: options.outbox,
          sendDelayMs: options.sendMs,
        }),
      );
    }
    const config = AgentConfig.parse({
      stage: LOCAL_STAGE,
      tenantId: options.tenantId,
      agentId: options.agent.agentId,
      mqtt: {
        url: options.mqttUrl,
        username: thingName({
          stage: LOCAL_STAGE,
          tenantId: options.tenantId,
          agentId: options.agent.agentId,
        }),
        password: options.agent.secret,
      },
      stateDir: options.stateDir,
      modems: simulators.map((s, i) => ({
        id: s.name,
        group: options.groups?.[i] ?? DEMO_MODEM_GROUP,
        url: s.url,
      })),
      log: { level: options.logLevel ?? 'warn' },
      ...(options.radius && {
        radius: {
          host: '127.0.0.1',
          port: options.radius.port,
          firstFactor: 'off',
          api: { url: options.radius.apiUrl, authKey: options.radius.authKey },
          clients: [{ name: 'radtest', address: '127.0.0.1', secret: options.radius.secret }],
        },
      }),
    });
    const log = createAgentLogger({ level: config.log.level });
    const pool = new ModemPool(config.modems, { logger: log });
    pool.start().catch((error: unknown) => log.error('modem pool start failed', { error }));
    const agent = await startAgent({ config, sender: pool, log });
    return {
      agent,
      pool,
      simulators,
      modems: simulators.map((s) => ({ id: s.name, url: s.url })),
      async stop() {
        await agent.stop();
        await pool.close();
        await cleanup();
      },
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}
