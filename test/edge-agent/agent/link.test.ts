import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../edge-agent/log.ts';
import { MqttLink, type MqttLinkOptions } from '../../../edge-agent/mqtt/link.ts';
import { Outbox } from '../../../edge-agent/mqtt/outbox.ts';
import { type AgentEvent, eventsTopic, jobsTopic, statusTopic } from '../../../functions/contracts/index.ts';
import type { Broker } from '../../../functions/local/broker.ts';
import { AGENT, agentPassword, type Observer, observe, startTestBroker, TENANT } from './helpers.ts';

const address = { stage: 'local', tenantId: TENANT, agentId: AGENT };
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function link(broker: Broker, extra: Partial<MqttLinkOptions> = {}): MqttLink {
  const l = new MqttLink({
    url: broker.url,
    stage: 'local',
    tenantId: TENANT,
    agentId: AGENT,
    username: `${TENANT}.${AGENT}`,
    password: agentPassword(TENANT, AGENT),
    backoff: { initialMs: 10, maxMs: 100 },
    log: process.env.DEBUG_LINK ? createLogger({ level: 'debug' }) : undefined,
    onJob: async () => {},
    ...extra,
  });
  cleanups.push(() => l.close());
  l.start();
  return l;
}

async function broker(port = 0): Promise<Broker> {
  const b = await startTestBroker(port);
  cleanups.push(() => b.close());
  return b;
}

async function watcher(b: Broker, topics: string[]): Promise<Observer> {
  const o = await observe(b.url, topics);
  cleanups.push(() => o.close());
  return o;
}

function status(modem: string, n: number): AgentEvent {
  return {
    v: 1,
    at: new Date().toISOString(),
    type: 'modem.status',
    modem,
    group: 'g',
    healthy: true,
    signal: n,
    registration: 'home',
    operator: null,
    queue: 0,
    sent: n,
    failed: 0,
    retries: 0,
    errors: 0,
    lastError: null,
  };
}

function sent(jobId: string): AgentEvent {
  return { v: 1, at: new Date().toISOString(), type: 'job.sent', jobId, modem: 'm1', messageRefs: [1] };
}

describe('MqttLink', () => {
  it('logs in with user and password, announces itself online (not retained) and receives its jobs', async () => {
    const b = await broker();
    const service = await watcher(b, [statusTopic(address)]);
    const jobs: string[] = [];
    let gotJob!: () => void;
    const job = new Promise<void>((r) => {
      gotJob = r;
    });
    const l = link(b, {
      onJob: async (payload) => {
        jobs.push(payload.toString());
        gotJob();
      },
    });
    await l.waitConnected();
    // IoT Core disconnects a retained publish without iot:RetainPublish, which the agent policy does not grant
    await service.waitFor((seen) => seen.some((m) => m.payload.includes('"online"')));
    expect(service.seen.every((m) => !m.retain)).toBe(true);
    // the subscription is in place once the job we publish now arrives
    await service.client.publishAsync(jobsTopic(address), 'job-1', { qos: 1 });
    await job;
    expect(jobs).toEqual(['job-1']);
  });

  it('withholds PUBACK until the job is handled, so a job that failed to be recorded comes back', async () => {
    const b = await broker();
    const calls: string[] = [];
    let secondCall!: () => void;
    const again = new Promise<void>((r) => {
      secondCall = r;
    });
    const l = link(b, {
      onJob: async (payload) => {
        calls.push(payload.toString());
        if (calls.length === 1) throw new Error('disk full');
        secondCall();
      },
    });
    await l.waitConnected();
    const service = await watcher(b, []);
    await service.client.publishAsync(jobsTopic(address), 'job-x', { qos: 1 });
    await again;
    expect(calls).toEqual(['job-x', 'job-x']);
    expect(l.stats.jobsUnacked).toBe(1);
  });

  it('buffers events while the broker is down and flushes them in order once it is back', async () => {
    const first = await broker();
    const l = link(first);
    await l.waitConnected();
    const port = first.port;
    await first.close();

    const events = [status('m1', 1), sent('j1'), status('m1', 2), sent('j2'), sent('j3')];
    const acks = events.map((e) => l.publishEvent(e));

    const second = await broker(port);
    // subscribed in-process before the link can possibly be back, so nothing it flushes is missed
    const arrived: unknown[] = [];
    let allArrived!: () => void;
    const done = new Promise<void>((r) => {
      allArrived = r;
    });
    second.aedes.subscribe(
      eventsTopic(address),
      (packet, cb) => {
        arrived.push(JSON.parse(packet.payload.toString()));
        if (arrived.length === events.length) allArrived();
        cb();
      },
      () => {},
    );
    expect(await Promise.all(acks)).toEqual([true, true, true, true, true]);
    await done;
    expect(arrived).toEqual(events);
    expect(l.stats.connectionLosses).toBeGreaterThanOrEqual(1);
    await l.close();
  });

  it('says offline (not retained) when closed', async () => {
    const b = await broker();
    const l = link(b);
    await l.waitConnected();
    await l.publishEvent(sent('j1'));
    const cloud = await watcher(b, [statusTopic(address)]);
    await l.close();
    await cloud.waitFor((seen) => seen.some((m) => m.payload.includes('"offline"')));
    const offline = cloud.seen.find((m) => m.payload.includes('"offline"'))!;
    expect(JSON.parse(offline.payload)).toMatchObject({ v: 1, state: 'offline' });
    expect(offline.retain).toBe(false);
  });

  it('refuses to publish an event that breaks the contract', async () => {
    const b = await broker();
    const l = link(b);
    await l.waitConnected();
    const bad = { ...sent('j1'), messageRefs: [] } as AgentEvent;
    expect(await l.publishEvent(bad)).toBe(false);
  });
});

describe('Outbox', () => {
  it('drops the oldest modem.status first and never a job result', () => {
    const outbox = new Outbox(3);
    const settled: Array<[string, boolean]> = [];
    const push = (e: AgentEvent, name: string) =>
      outbox.push({ event: e, payload: name, settle: (ok) => settled.push([name, ok]) });
    push(status('m1', 1), 's1');
    push(sent('j1'), 'j1');
    push(status('m1', 2), 's2');
    push(sent('j2'), 'j2');
    push(sent('j3'), 'j3');
    push(sent('j4'), 'j4');
    expect(settled).toEqual([
      ['s1', false],
      ['s2', false],
    ]);
    const left: string[] = [];
    for (let item = outbox.shift(); item; item = outbox.shift()) left.push(item.payload);
    expect(left).toEqual(['j1', 'j2', 'j3', 'j4']);
  });
});
