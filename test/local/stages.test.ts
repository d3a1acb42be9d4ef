/**
 * Two stages in one account: one broker (IoT Core is per account and region), each stage with its own
 * directory, its own logins, its own events bridge and queue. The same tenant and agent ids exist in both
 * stages, so nothing but the stage keeps their jobs, events and presence apart.
 */
import { CreateQueueCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../functions/adapters/log.ts';
import { type BridgedMessage, eventsTopic, jobsTopic, thingName } from '../../functions/contracts/index.ts';
import type { Agent, Tenant } from '../../functions/core/model.ts';
import { secretHash } from '../../functions/core/secrets.ts';
import { localSqs } from '../../functions/local/aws-local.ts';
import { startEventsBridge } from '../../functions/local/bridge.ts';
import { type Broker, startBroker } from '../../functions/local/broker.ts';
import { anyOf, brokerAuthenticator, SERVICE_USERNAME } from '../../functions/local/broker-auth.ts';
import { enforceIotRules, type IotRules } from '../../functions/local/iot-rules.ts';
import { type LocalSqs, startFauxqs } from '../../functions/local/sqs.ts';

const STAGES = ['blue', 'green'] as const;
type Stage = (typeof STAGES)[number];
const ids = { tenantId: 'acme', agentId: 'edge-1' };
const staged = (stage: Stage) => ({ stage, ...ids });
const secret = (stage: Stage) => `pw-${stage}`;
const SERVICE_PASSWORD = 'service-pw';
const log = createLogger({}, { level: 'error' });

/** Each stage's directory holds the same tenant and agent, with that stage's secret. */
const directoryOf = (stage: Stage) => ({
  getAgent: async (tenantId: string, agentId: string) =>
    tenantId === ids.tenantId && agentId === ids.agentId
      ? ({ ...ids, secretHash: secretHash(secret(stage)) } as Agent)
      : undefined,
  getTenant: async (tenantId: string) => ({ id: tenantId, status: 'active' }) as Tenant,
});

let broker: Broker;
let iotRules: IotRules;
let fauxqs: LocalSqs;
let sqs: SQSClient;
const queues = {} as Record<Stage, string>;
const clients: MqttClient[] = [];

async function connect(options: mqtt.IClientOptions): Promise<MqttClient> {
  const client = await mqtt.connectAsync(broker.url, { protocolVersion: 4, reconnectPeriod: 0, ...options });
  clients.push(client);
  return client;
}
const asAgent = (stage: Stage) =>
  connect({
    username: thingName(staged(stage)),
    password: secret(stage),
    clientId: thingName(staged(stage)),
  });
const asService = (clientId: string) =>
  connect({ username: SERVICE_USERNAME, password: SERVICE_PASSWORD, clientId, clean: false });

/** The SUBACK return codes (128 is a refusal), whether or not mqtt.js calls the answer an error. */
function suback(client: MqttClient, topics: string[]): Promise<number[]> {
  return new Promise((resolve, reject) => {
    client.subscribe(topics, { qos: 1 }, (err, granted) => {
      const codes = (err as { packet?: { granted?: number[] } } | null)?.packet?.granted;
      if (codes) return resolve(codes.map(Number));
      if (err) return reject(err);
      resolve((granted ?? []).map((g) => g.qos));
    });
  });
}

/** Every message on the stage's events queue, wrapped as the rule wraps them. */
async function drain(stage: Stage): Promise<BridgedMessage[]> {
  const out: BridgedMessage[] = [];
  for (;;) {
    const r = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queues[stage], MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    if (!r.Messages?.length) return out;
    for (const m of r.Messages) out.push(JSON.parse(m.Body ?? '{}') as BridgedMessage);
  }
}

/** Waits until `stage`'s queue has a message that `found` accepts, collecting all it saw on the way. */
async function waitForOnQueue(stage: Stage, found: (m: BridgedMessage) => boolean, seen: BridgedMessage[]) {
  while (!seen.some(found)) {
    const r = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queues[stage], MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    for (const m of r.Messages ?? []) seen.push(JSON.parse(m.Body ?? '{}') as BridgedMessage);
  }
}

beforeAll(async () => {
  broker = await startBroker({
    authenticate: anyOf(
      ...STAGES.map((stage) =>
        brokerAuthenticator({ directory: directoryOf(stage), servicePassword: SERVICE_PASSWORD, stage }),
      ),
    ),
  });
  iotRules = enforceIotRules(broker);
  fauxqs = await startFauxqs();
  sqs = localSqs(fauxqs.endpoint);
  for (const stage of STAGES) {
    const created = await sqs.send(new CreateQueueCommand({ QueueName: `${stage}-events` }));
    queues[stage] = created.QueueUrl!;
    await startEventsBridge({
      mqtt: await asService(`${stage}-bridge`),
      sqs,
      queueUrl: queues[stage],
      log,
      stage,
    });
  }
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true)));
  await broker.close();
  sqs.destroy();
  await fauxqs.close();
});

describe('two stages on one broker', () => {
  it('keeps each stage’s jobs, events and presence to that stage, with the same tenant and agent ids', async () => {
    const agents = { blue: await asAgent('blue'), green: await asAgent('green') };
    const jobs: Record<Stage, string[]> = { blue: [], green: [] };
    for (const stage of STAGES) {
      agents[stage].on('message', (_topic, payload) => jobs[stage].push(payload.toString()));
      // its own jobs topic only: the other stage's (same ids) is refused
      const other = stage === 'blue' ? 'green' : 'blue';
      expect(await suback(agents[stage], [jobsTopic(staged(stage)), jobsTopic(staged(other))])).toEqual([
        1, 128,
      ]);
    }

    const cloud = await asService('cloud');
    for (const stage of STAGES) {
      await cloud.publishAsync(jobsTopic(staged(stage)), `job-${stage}`, { qos: 1 });
      await agents[stage].publishAsync(eventsTopic(staged(stage)), `event-${stage}`, { qos: 1 });
    }
    const seen: Record<Stage, BridgedMessage[]> = { blue: [], green: [] };
    for (const stage of STAGES) {
      await waitForOnQueue(
        stage,
        (m) => Buffer.from(m.payload, 'base64').toString() === `event-${stage}`,
        seen[stage],
      );
      // the jobs came in order behind nothing else: each agent has exactly its own
      while (jobs[stage].length === 0) await new Promise((r) => setTimeout(r, 20));
    }
    expect(jobs).toEqual({ blue: ['job-blue'], green: ['job-green'] });

    // a blue agent that tries green's topics (same ids) is cut off, as IoT Core's policy would
    agents.blue.publish(eventsTopic(staged('green')), 'forged', { qos: 1 });
    await new Promise<void>((resolve) => agents.blue.once('close', () => resolve()));
    expect(iotRules.refusals.map((r) => r.rule)).toContain('policy');

    // a marker on green after the forgery: when it arrives, the forgery would have too
    await agents.green.publishAsync(eventsTopic(staged('green')), 'marker', { qos: 1 });
    await waitForOnQueue(
      'green',
      (m) => Buffer.from(m.payload, 'base64').toString() === 'marker',
      seen.green,
    );
    for (const stage of STAGES) seen[stage].push(...(await drain(stage)));

    for (const stage of STAGES) {
      const other = stage === 'blue' ? 'green' : 'blue';
      const topics = seen[stage].map((m) => m.topic);
      // only this stage's agent topics and this stage's clients' lifecycle events
      for (const topic of topics)
        expect(topic, stage).toMatch(new RegExp(`^(s/${stage}/|\\$aws/events/presence/\\w+/${stage}:)`));
      expect(topics).toContain(`$aws/events/presence/connected/${thingName(staged(stage))}`);
      expect(topics.some((t) => t.includes(other))).toBe(false);
      expect(seen[stage].map((m) => Buffer.from(m.payload, 'base64').toString())).not.toContain('forged');
    }
  });

  it('lets an agent log in only as its own stage’s thing, with that stage’s secret', async () => {
    await expect(
      connect({
        username: thingName(staged('green')),
        password: secret('blue'),
        clientId: thingName(staged('green')),
      }),
    ).rejects.toThrow();
    // a stage no directory here knows
    const unknown = { stage: 'prod', ...ids };
    await expect(
      connect({ username: thingName(unknown), password: secret('blue'), clientId: thingName(unknown) }),
    ).rejects.toThrow();
  });
});
