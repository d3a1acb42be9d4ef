/**
 * The local broker's TLS port with real MQTT clients: an enrolled agent's certificate gets in with its thing
 * name as client id and nothing else; a certificate another CA signed never completes the handshake; deleting
 * the agent or suspending its tenant ends the live session at once and refuses reconnects (resume lets it back).
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeKeyAndCsr } from '../../edge-agent/enroll/csr.ts';
import { createLogger } from '../../functions/adapters/log.ts';
import { jobsTopic } from '../../functions/contracts/topics.ts';
import { LocalCa } from '../../functions/local/local-ca.ts';
import { type LocalStack, startLocalStack } from '../../functions/local/stack.ts';

let stack: LocalStack;
const clients: MqttClient[] = [];

beforeAll(async () => {
  stack = await startLocalStack({ edge: false, log: createLogger({}, { level: 'error' }) });
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true)));
  await stack?.stop();
});

async function call(key: string, route: string, method = 'GET', body?: unknown) {
  const res = await fetch(`${stack.json.apiUrl}${route}`, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

interface Identity {
  thingName: string;
  key: string;
  cert: string;
  ca: string;
}

async function enrolAgent(agentId: string): Promise<Identity> {
  const registered = await call(stack.json.adminKey, '/v1/agents', 'POST', {
    agentId,
    modemGroups: ['default'],
  });
  const token = (registered.body.enrolment as { token: string }).token;
  const thingName = `local:demo:${agentId}`;
  const { keyPem, csrPem } = makeKeyAndCsr(thingName);
  const res = await fetch(`${stack.json.apiUrl}/v1/enrolments`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token, csr: csrPem }),
  });
  const reply = (await res.json()) as { mqtt: { certificatePem: string; caPem: string } };
  return { thingName, key: keyPem, cert: reply.mqtt.certificatePem, ca: reply.mqtt.caPem };
}

async function connect(id: Identity, clientId = id.thingName): Promise<MqttClient> {
  const client = await mqtt.connectAsync(stack.broker.tlsUrl!, {
    clientId,
    key: id.key,
    cert: id.cert,
    ca: id.ca,
    protocolVersion: 4,
    reconnectPeriod: 0,
    connectTimeout: 5_000,
  });
  // mqtt.js also emits a refused subscription as an error event
  client.on('error', () => {});
  clients.push(client);
  return client;
}

/** Whether the broker lets this identity in: a refused handshake closes without a CONNACK or error event. */
function attempt(id: Identity, clientId = id.thingName): Promise<'connected' | 'refused'> {
  return new Promise((resolve) => {
    const client = mqtt.connect(stack.broker.tlsUrl!, {
      clientId,
      key: id.key,
      cert: id.cert,
      ca: id.ca,
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 5_000,
    });
    client.once('connect', () => {
      client.end(true);
      resolve('connected');
    });
    client.once('close', () => {
      client.end(true);
      resolve('refused');
    });
  });
}

const closed = (client: MqttClient) =>
  new Promise<void>((resolve) => {
    if (!client.connected) return resolve();
    client.once('close', () => resolve());
  });

describe('agents over TLS on the local broker', () => {
  it('lets an enrolled agent in as its thing name, to its own topics', async () => {
    const id = await enrolAgent('tls-1');
    const client = await connect(id);
    expect(client.connected).toBe(true);
    const granted = await client.subscribeAsync(
      jobsTopic({ stage: 'local', tenantId: 'demo', agentId: 'tls-1' }),
      {
        qos: 1,
      },
    );
    expect(granted[0]?.qos).toBe(1);
    // another agent's jobs: SUBACK 0x80
    const foreign = await client
      .subscribeAsync(jobsTopic({ stage: 'local', tenantId: 'demo', agentId: 'edge-1' }), { qos: 1 })
      .then(
        () => 'granted',
        () => 'refused',
      );
    expect(foreign).toBe('refused');
    await client.endAsync();
  });

  it('refuses a client id that is not the certificate’s thing name', async () => {
    const id = await enrolAgent('tls-2');
    expect(await attempt(id, 'local:demo:edge-1')).toBe('refused');
    expect(await attempt(id, 'demo.tls-2')).toBe('refused');
  });

  it('refuses a certificate another CA signed, even with the right name', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'other-ca-'));
    try {
      const rogue = LocalCa.open(dir);
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
      const leaf = rogue.signClient('local:demo:tls-3', publicKey.export({ type: 'spki', format: 'der' }));
      const real = await enrolAgent('tls-3');
      const refusedBefore = stack.broker.stats.refusedConnects;
      const forged = {
        ...real,
        key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
        cert: leaf.certificatePem,
      };
      expect(await attempt(forged)).toBe('refused');
      expect(stack.broker.stats.refusedConnects).toBeGreaterThan(refusedBefore);
      expect(await attempt(real)).toBe('connected');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('ends a deleted agent’s session at once and refuses it from then on', async () => {
    const id = await enrolAgent('tls-4');
    const client = await connect(id);
    const gone = closed(client);
    expect((await call(stack.json.adminKey, '/v1/agents/tls-4', 'DELETE')).status).toBe(200);
    await gone;
    expect(client.connected).toBe(false);
    expect(await attempt(id)).toBe('refused');
    // registering the same id again does not bring the old certificate back
    await call(stack.json.adminKey, '/v1/agents', 'POST', { agentId: 'tls-4', modemGroups: ['default'] });
    expect(await attempt(id)).toBe('refused');
  });

  it('ends the sessions of a suspended tenant’s agents, refuses them, and lets them back on resume', async () => {
    const id = await enrolAgent('tls-5');
    const client = await connect(id);
    const gone = closed(client);
    const op = stack.json.operatorKey;
    expect((await call(op, '/v1/operator/tenants/demo/suspend', 'POST')).status).toBe(200);
    try {
      await gone;
      expect(await attempt(id)).toBe('refused');
    } finally {
      expect((await call(op, '/v1/operator/tenants/demo/resume', 'POST')).status).toBe(200);
    }
    const back = await connect(id);
    expect(back.connected).toBe(true);
    await back.endAsync();
  });
});
