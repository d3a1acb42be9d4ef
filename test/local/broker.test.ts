import net from 'node:net';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventsTopic, jobsTopic, rpcRequestTopic, statusTopic } from '../../functions/contracts/index.ts';
import { type Broker, type Principal, startBroker } from '../../functions/local/broker.ts';

const A1 = { stage: 'local', tenantId: 'tenantA', agentId: 'agent1' };
const A2 = { stage: 'local', tenantId: 'tenantA', agentId: 'agent2' };
const B1 = { stage: 'local', tenantId: 'tenantB', agentId: 'agent1' };

const accounts = new Map<string, { password: string; principal: Principal }>([
  ['local:tenantA:agent1', { password: 'pw-a1', principal: { kind: 'agent', ...A1 } }],
  ['local:tenantA:agent2', { password: 'pw-a2', principal: { kind: 'agent', ...A2 } }],
  ['local:tenantB:agent1', { password: 'pw-b1', principal: { kind: 'agent', ...B1 } }],
  ['service', { password: 'pw-service', principal: { kind: 'service' } }],
]);

let broker: Broker;
const clients: MqttClient[] = [];

beforeAll(async () => {
  broker = await startBroker({
    async authenticate(username, password) {
      const account = accounts.get(username ?? '');
      return account && password?.toString('utf8') === account.password ? account.principal : null;
    },
  });
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true)));
  await broker.close();
});

async function connect(username: string, password: string, extra: IClientOptions = {}): Promise<MqttClient> {
  const client = await mqtt.connectAsync(broker.url, {
    username,
    password,
    // an agent's client id is its thing name, `{tenant}:{agent}`
    clientId: username.replace('.', ':'),
    protocolVersion: 4,
    reconnectPeriod: 0,
    ...extra,
  });
  clients.push(client);
  return client;
}

/** Collects every message a client receives, so a test can wait for a marker that proves ordering. */
function inbox(client: MqttClient) {
  const seen: Array<{ topic: string; payload: string; retain: boolean }> = [];
  const waiters: Array<() => void> = [];
  client.on('message', (topic, payload, packet) => {
    seen.push({ topic, payload: payload.toString(), retain: packet.retain });
    for (const w of waiters.splice(0)) w();
  });
  return {
    seen,
    async waitFor(predicate: (m: { topic: string; payload: string; retain: boolean }) => boolean) {
      while (!seen.some(predicate)) await new Promise<void>((r) => waiters.push(r));
      return seen.find(predicate)!;
    },
  };
}

describe('local broker (aedes stand-in for AWS IoT Core)', () => {
  it('binds to loopback only', () => {
    expect(broker.url).toMatch(/^mqtt:\/\/127\.0\.0\.1:\d+$/);
  });

  it('refuses a wrong password and an unknown user', async () => {
    await expect(connect('local:tenantA:agent1', 'wrong')).rejects.toThrow(/bad user ?name or password/i);
    await expect(connect('nobody', 'pw')).rejects.toThrow();
  });

  it('refuses an agent whose client id is not its own, so it cannot take over another session', async () => {
    await expect(
      connect('local:tenantA:agent1', 'pw-a1', { clientId: 'local:tenantA:agent2' }),
    ).rejects.toThrow();
    await expect(
      connect('local:tenantA:agent1', 'pw-a1', { clientId: 'local:tenantA:agent10' }),
    ).rejects.toThrow();
    // the client id is the thing name itself, as IoT Core's policy demands: no suffix, no dotted form
    await expect(
      connect('local:tenantA:agent1', 'pw-a1', { clientId: 'local:tenantA:agent1.probe' }),
    ).rejects.toThrow();
    await expect(connect('local:tenantA:agent1', 'pw-a1', { clientId: 'tenantA.agent1' })).rejects.toThrow();
    const ok = await connect('local:tenantA:agent1', 'pw-a1', { clientId: 'local:tenantA:agent1' });
    expect(ok.connected).toBe(true);
    await ok.endAsync();
  });

  it('refuses a last will outside the agent status topic', async () => {
    await expect(
      connect('local:tenantA:agent1', 'pw-a1', {
        will: { topic: jobsTopic(B1), payload: Buffer.from('x'), qos: 1, retain: true },
      }),
    ).rejects.toThrow();
  });

  it('lets an agent subscribe only to its own jobs and rpc/req topics', async () => {
    const agent = await connect('local:tenantA:agent1', 'pw-a1');
    const topics = [
      jobsTopic(A1),
      rpcRequestTopic(A1),
      jobsTopic(B1),
      jobsTopic(A2),
      eventsTopic(A1),
      's/local/t/tenantA/a/+/jobs',
      's/local/t/tenantB/#',
      '#',
    ];
    // mqtt.js rejects a SUBSCRIBE with any refused entry and hands over the SUBACK on the error
    const suback = await agent.subscribeAsync(topics, { qos: 1 }).then(
      () => undefined,
      (err: { packet?: { granted?: number[] } }) => err.packet?.granted,
    );
    expect(suback).toEqual([1, 1, 128, 128, 128, 128, 128, 128]);
    expect(agent.connected).toBe(true);
    await agent.endAsync();
  });

  it("drops an agent's publishes on another tenant's or another agent's topics, and counts them", async () => {
    const service = await connect('service', 'pw-service');
    const seen = inbox(service);
    await service.subscribeAsync('#', { qos: 1 });
    const agent = await connect('local:tenantA:agent1', 'pw-a1');
    const before = broker.stats.refusedPublishes;

    await agent.publishAsync(eventsTopic(B1), 'forged-b', { qos: 1 });
    await agent.publishAsync(jobsTopic(B1), 'forged-b-job', { qos: 1, retain: true });
    await agent.publishAsync(eventsTopic(A2), 'forged-a2', { qos: 1 });
    await agent.publishAsync(jobsTopic(A1), 'self-job', { qos: 1 });
    await agent.publishAsync(eventsTopic(A1), 'marker', { qos: 1 });

    // the broker handles one client's publishes in order, so once the marker is here the others were judged
    await seen.waitFor((m) => m.payload === 'marker');
    expect(seen.seen.map((m) => m.payload)).toEqual(['marker']);
    expect(broker.stats.refusedPublishes - before).toBe(4);
    expect(agent.connected).toBe(true);

    const late = await connect('service', 'pw-service', { clientId: 'service-late' });
    const lateSeen = inbox(late);
    await late.subscribeAsync([jobsTopic(B1), statusTopic(A1)], { qos: 1 });
    await late.publishAsync(statusTopic(A1), 'probe', { qos: 1 });
    await lateSeen.waitFor((m) => m.payload === 'probe');
    expect(lateSeen.seen.some((m) => m.payload === 'forged-b-job')).toBe(false);
    await Promise.all([agent.endAsync(), service.endAsync(), late.endAsync()]);
  });

  it('lets the service publish to any agent jobs topic', async () => {
    const agentB = await connect('local:tenantB:agent1', 'pw-b1');
    const seen = inbox(agentB);
    await agentB.subscribeAsync(jobsTopic(B1), { qos: 1 });
    const service = await connect('service', 'pw-service');
    await service.publishAsync(jobsTopic(B1), 'job-for-b', { qos: 1 });
    await seen.waitFor((m) => m.payload === 'job-for-b');
    await Promise.all([agentB.endAsync(), service.endAsync()]);
  });

  it('publishes the retained last will on the agent status topic when it vanishes', async () => {
    const service = await connect('service', 'pw-service');
    const seen = inbox(service);
    await service.subscribeAsync(statusTopic(A2), { qos: 1 });
    const agent = await connect('local:tenantA:agent2', 'pw-a2', {
      will: {
        topic: statusTopic(A2),
        payload: Buffer.from('{"v":1,"state":"offline"}'),
        qos: 1,
        retain: true,
      },
    });
    agent.stream.destroy();
    await seen.waitFor((m) => m.payload.includes('offline'));

    const later = await connect('service', 'pw-service', { clientId: 'service-later' });
    const laterSeen = inbox(later);
    await later.subscribeAsync(statusTopic(A2), { qos: 1 });
    const retained = await laterSeen.waitFor((m) => m.payload.includes('offline'));
    expect(retained.retain).toBe(true);
    await Promise.all([service.endAsync(), later.endAsync()]);
  });

  it('survives garbage bytes and half packets', async () => {
    for (const bytes of [
      Buffer.from('GET / HTTP/1.1\r\n\r\n'),
      Buffer.from([0x10, 0xff, 0xff, 0xff, 0xff, 0x7f]),
    ]) {
      await new Promise<void>((resolve) => {
        const socket = net.connect(broker.port, '127.0.0.1', () => socket.end(bytes));
        socket.on('error', () => resolve());
        socket.on('close', () => resolve());
      });
    }
    const probe = await connect('service', 'pw-service', { clientId: 'service-probe' });
    expect(probe.connected).toBe(true);
    await probe.endAsync();
  });
});
