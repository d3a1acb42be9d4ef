import mqtt, { type MqttClient } from 'mqtt';
import { type Broker, type Principal, startBroker } from '../../../functions/local/broker.ts';

export const TENANT = 'tenantA';
export const AGENT = 'agent1';
export const OTHER_TENANT = 'tenantB';
export const SERVICE = { username: 'service', password: 'service-secret' };

export function agentPassword(tenantId: string, agentId: string): string {
  return `pw-${tenantId}-${agentId}`;
}

/** An aedes broker whose agents log in as `{tenant}.{agent}` with `agentPassword()`, plus one service user. */
export function startTestBroker(port = 0): Promise<Broker> {
  return startBroker({
    port,
    async authenticate(username, password): Promise<Principal | null> {
      const given = password?.toString('utf8');
      if (username === SERVICE.username) return given === SERVICE.password ? { kind: 'service' } : null;
      const [tenantId, agentId, ...rest] = (username ?? '').split('.');
      if (!tenantId || !agentId || rest.length > 0) return null;
      return given === agentPassword(tenantId, agentId)
        ? { kind: 'agent', stage: 'local', tenantId, agentId }
        : null;
    },
  });
}

export interface Received {
  topic: string;
  payload: string;
  retain: boolean;
}

/** A cloud-side client that records what it receives and can wait for a condition without sleeping. */
export interface Observer {
  client: MqttClient;
  seen: Received[];
  waitFor(predicate: (all: Received[]) => boolean): Promise<void>;
  json(topic: string): unknown[];
  close(): Promise<void>;
}

export async function observe(
  url: string,
  topics: string[],
  credentials: { username: string; password: string; clientId?: string; protocolVersion?: 4 | 5 } = SERVICE,
): Promise<Observer> {
  const client = await mqtt.connectAsync(url, {
    username: credentials.username,
    password: credentials.password,
    clientId: credentials.clientId ?? `observer-${Math.random().toString(36).slice(2)}`,
    protocolVersion: credentials.protocolVersion ?? 4,
    reconnectPeriod: 0,
  });
  const seen: Received[] = [];
  const waiters: Array<() => void> = [];
  client.on('message', (topic, payload, packet) => {
    seen.push({ topic, payload: payload.toString('utf8'), retain: packet.retain });
    for (const w of waiters.splice(0)) w();
  });
  if (topics.length > 0) await client.subscribeAsync(topics, { qos: 1 });
  return {
    client,
    seen,
    async waitFor(predicate) {
      while (!predicate(seen)) await new Promise<void>((r) => waiters.push(r));
    },
    json(topic) {
      return seen.filter((m) => m.topic === topic).map((m) => JSON.parse(m.payload) as unknown);
    },
    close: () => client.endAsync(true),
  };
}

/** Resolves when `check` holds, re-checking whenever `poke` is called; no clocks involved. */
export function until(check: () => boolean): { promise: Promise<void>; poke(): void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  const poke = () => {
    if (check()) resolve();
  };
  poke();
  return { promise, poke };
}
