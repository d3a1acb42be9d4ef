/**
 * The local broker refuses what AWS IoT Core refuses, with a real MQTT client each time, and publishes IoT
 * Core's lifecycle events. The broker is the stack's own (starters/mqtt-broker.ts), logging agents in from a
 * directory; one case swaps in a login that establishes an illegal thing name.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../functions/adapters/log.ts';
import { eventsTopic, jobsTopic, statusTopic } from '../../functions/contracts/index.ts';
import { ALL_PRESENCE_FILTER, type LifecycleEvent } from '../../functions/contracts/presence.ts';
import type { Agent, Tenant } from '../../functions/core/model.ts';
import { secretHash } from '../../functions/core/secrets.ts';
import { startBroker } from '../../functions/local/broker.ts';
import { enforceIotRules, IOT_CORE_RULES } from '../../functions/local/iot-rules.ts';
import { LocalCa } from '../../functions/local/local-ca.ts';
import { type LocalBroker, startLocalBroker } from '../../functions/local/starters/mqtt-broker.ts';

const A1 = { stage: 'local', tenantId: 'acme', agentId: 'edge-1' };
const B1 = { stage: 'local', tenantId: 'globex', agentId: 'edge-1' };
const agents = new Map(
  [A1, B1].map((a) => [`${a.tenantId}/${a.agentId}`, { ...a, secretHash: secretHash(`pw-${a.tenantId}`) }]),
);
const directory = {
  getAgent: async (tenantId: string, agentId: string) =>
    agents.get(`${tenantId}/${agentId}`) as Agent | undefined,
  getTenant: async (tenantId: string) => ({ id: tenantId, status: 'active' }) as Tenant,
};

let local: LocalBroker;
const clients: MqttClient[] = [];
beforeAll(async () => {
  local = await startLocalBroker({
    port: 0,
    tls: { port: 0, ca: LocalCa.open(mkdtempSync(join(tmpdir(), 'iot-rules-ca-'))) },
    directory,
    stage: 'local',
    log: createLogger({}, { level: 'error' }),
  });
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true)));
  await local.stop();
});

async function connect(options: IClientOptions, url = local.broker.url): Promise<MqttClient> {
  const client = await mqtt.connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0, ...options });
  clients.push(client);
  return client;
}
const asAgent = (a = A1, extra: IClientOptions = {}) =>
  connect({
    username: `${a.stage}:${a.tenantId}:${a.agentId}`,
    password: `pw-${a.tenantId}`,
    clientId: `${a.stage}:${a.tenantId}:${a.agentId}`,
    ...extra,
  });
const asService = (clientId: string, extra: IClientOptions = {}) =>
  connect({ ...local.serviceCredentials, clientId, ...extra });

/** Resolves once the broker has closed the client's connection. */
const closed = (client: MqttClient) =>
  new Promise<void>((resolve) => {
    if (client.disconnected || !client.connected) return resolve();
    client.once('close', () => resolve());
  });

/** The SUBACK return codes (128 is a refusal), whether or not mqtt.js calls the answer an error. */
function suback(client: MqttClient, topics: string | string[], qos: 0 | 1 | 2): Promise<number[]> {
  return new Promise((resolve, reject) => {
    client.subscribe(topics, { qos }, (err, granted) => {
      const codes = (err as { packet?: { granted?: number[] } } | null)?.packet?.granted;
      if (codes) return resolve(codes.map(Number));
      if (err) return reject(err);
      resolve((granted ?? []).map((g) => g.qos));
    });
  });
}

const refusalsOf = (rule: keyof typeof IOT_CORE_RULES) =>
  local.iotRules.refusals.filter((r) => r.rule === rule).length;

describe('the local broker enforces AWS IoT Core rules', () => {
  it('holds an agent to its thing name as client id ({tenant}:{agent}), as the iot:Connect policy does', async () => {
    const refused = /identifier rejected|not authori[sz]ed/i;
    await expect(asAgent(A1, { clientId: 'acme.edge-1' })).rejects.toThrow(refused);
    await expect(asAgent(A1, { clientId: 'local:acme:edge-2' })).rejects.toThrow(refused);
    const ok = await asAgent(A1);
    expect(ok.connected).toBe(true);
    await ok.endAsync();
  });

  it('refuses a thing whose name breaks the thing-name grammar', async () => {
    const broker = await startBroker({
      authenticate: async () => ({ kind: 'agent', ...A1, thingName: 'acme.edge-1' }),
    });
    const rules = enforceIotRules(broker);
    try {
      await expect(
        connect({ username: 'x', password: 'y', clientId: 'acme.edge-1' }, broker.url),
      ).rejects.toThrow(/not authori[sz]ed/i);
      expect(rules.refusals.map((r) => r.rule)).toEqual(['thingName']);
    } finally {
      await broker.close();
    }
  });

  it('refuses a client id longer than 128 bytes', async () => {
    await expect(asService('s'.repeat(129))).rejects.toThrow(/identifier rejected/i);
    const ok = await asService('s'.repeat(128));
    await ok.endAsync();
  });

  it('disconnects an agent that publishes retained (no iot:RetainPublish), and refuses a retained will', async () => {
    const before = refusalsOf('retainPublish');
    const agent = await asAgent();
    const gone = closed(agent);
    agent.publish(statusTopic(A1), '{"v":1,"state":"online"}', { qos: 1, retain: true });
    await gone;
    expect(refusalsOf('retainPublish')).toBe(before + 1);
    await expect(
      asAgent(A1, { will: { topic: statusTopic(A1), payload: Buffer.from('x'), qos: 1, retain: true } }),
    ).rejects.toThrow(/not authori[sz]ed/i);
    // the same without retain is what the agent does, and passes
    const ok = await asAgent(A1, {
      will: { topic: statusTopic(A1), payload: Buffer.from('x'), qos: 1, retain: false },
    });
    await ok.publishAsync(statusTopic(A1), '{"v":1,"state":"online"}', { qos: 1 });
    await ok.endAsync();
  });

  it('disconnects a QoS 2 publish and refuses a QoS 2 subscription', async () => {
    const agent = await asAgent();
    expect(await suback(agent, jobsTopic(A1), 2)).toEqual([128]);
    const gone = closed(agent);
    agent.publish(eventsTopic(A1), '{}', { qos: 2 });
    await gone;
  });

  it('disconnects a publish over 128 KB, and takes one of exactly 128 KB', async () => {
    const agent = await asAgent();
    await agent.publishAsync(eventsTopic(A1), Buffer.alloc(IOT_CORE_RULES.payloadBytes.max), { qos: 1 });
    const gone = closed(agent);
    agent.publish(eventsTopic(A1), Buffer.alloc(IOT_CORE_RULES.payloadBytes.max + 1), { qos: 1 });
    await gone;
  });

  it("disconnects an agent that publishes on another tenant's topic, and refuses such a subscription", async () => {
    const agent = await asAgent();
    expect(await suback(agent, [jobsTopic(B1), jobsTopic(A1)], 1)).toEqual([128, 1]);
    const gone = closed(agent);
    agent.publish(eventsTopic(B1), '{}', { qos: 1 });
    await gone;
  });

  it('disconnects any client that publishes to a reserved $aws topic (lifecycle events cannot be forged)', async () => {
    for (const client of [await asAgent(), await asService('svc-reserved')]) {
      const gone = closed(client);
      client.publish('$aws/events/presence/connected/local:globex:edge-1', '{}', { qos: 1 });
      await gone;
    }
  });

  it('refuses topics deeper than 7 slashes, and more than 50 subscriptions on one connection', async () => {
    const service = await asService('svc-limits');
    expect(await suback(service, 'a/b/c/d/e/f/g/h/i', 1)).toEqual([128]);
    const many = await suback(
      service,
      Array.from({ length: 51 }, (_, i) => `x/${i}`),
      1,
    );
    expect(many.filter((code) => code === 128)).toHaveLength(1);
    const gone = closed(service);
    service.publish('a/b/c/d/e/f/g/h/i', 'x', { qos: 1 });
    await gone;
  });

  it('publishes lifecycle events: one version per connection, a reason for each disconnect', async () => {
    const watcher = await asService('svc-presence', { clean: true });
    const seen: Array<{ topic: string; event: LifecycleEvent }> = [];
    watcher.on('message', (topic, payload) => seen.push({ topic, event: JSON.parse(payload.toString()) }));
    await watcher.subscribeAsync(ALL_PRESENCE_FILTER, { qos: 1 });
    const until = async (n: number) => {
      while (seen.filter((s) => s.event.clientId === 'local:acme:edge-1').length < n)
        await new Promise((r) => setTimeout(r, 20));
      return seen.filter((s) => s.event.clientId === 'local:acme:edge-1');
    };

    const first = await asAgent();
    await first.endAsync();
    const second = await asAgent();
    second.stream.destroy();
    const third = await asAgent();
    const gone = closed(third);
    third.publish(statusTopic(A1), 'x', { qos: 1, retain: true });
    await gone;

    const events = (await until(6)).map((s) => s.event);
    expect(events.map((e) => [e.eventType, e.disconnectReason])).toEqual([
      ['connected', undefined],
      ['disconnected', 'CLIENT_INITIATED_DISCONNECT'],
      ['connected', undefined],
      ['disconnected', 'CONNECTION_LOST'],
      ['connected', undefined],
      ['disconnected', 'AUTH_ERROR'],
    ]);
    expect(seen[0]?.topic).toBe('$aws/events/presence/connected/local:acme:edge-1');
    const versions = events.map((e) => e.versionNumber);
    expect(versions[0]).toBe(versions[1]);
    expect(versions[2]).toBeGreaterThan(versions[1]!);
    expect(versions[4]).toBeGreaterThan(versions[3]!);
    expect(events[0]?.sessionIdentifier).toBe(events[1]?.sessionIdentifier);
    expect(events[1]?.clientInitiatedDisconnect).toBe(true);
    await watcher.endAsync();
  });
});
