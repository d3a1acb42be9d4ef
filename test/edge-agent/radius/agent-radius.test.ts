/**
 * The agent starts the RADIUS front from its `radius` section and, on a stop, answers the logins in hand
 * before it closes the port. The auth API here is a small hono app that holds each challenge until told.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startAgent } from '../../../edge-agent/agent.ts';
import { parseConfig } from '../../../edge-agent/config.ts';
import { createLogger } from '../../../edge-agent/log.ts';
import { Attr, Code } from '../../../edge-agent/radius/codec.ts';
import type { Broker } from '../../../functions/local/broker.ts';
import { accessRequest, decodeReply, RawClient } from '../../support/radius.ts';
import { FakeSender } from '../agent/fake-sender.ts';
import { AGENT, agentPassword, startTestBroker, TENANT } from '../agent/helpers.ts';

const SECRET = 'agent-radius-secret';
let broker: Broker;
let stateDir: string;
let apiUrl = '';
let closeApi: () => void;
let release: () => void = () => {};
let arrived: () => void = () => {};
const challengeArrived = new Promise<void>((r) => {
  arrived = r;
});

beforeAll(async () => {
  broker = await startTestBroker();
  stateDir = await mkdtemp(path.join(tmpdir(), 'agent-radius-'));
  const app = new Hono();
  app.post('/v1/challenges', async (c) => {
    arrived();
    await new Promise<void>((r) => {
      release = r;
    });
    return c.json(
      {
        challengeId: 'c'.repeat(22),
        expiresAt: new Date(Date.now() + 300_000).toISOString(),
        channel: 'sms',
        destination: '+45 •• •• •• 56',
      },
      201,
    );
  });
  await new Promise<void>((resolve) => {
    const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info) => {
      apiUrl = `http://127.0.0.1:${info.port}`;
      resolve();
    });
    closeApi = () => server.close();
  });
});
afterAll(async () => {
  closeApi?.();
  await broker?.close();
  await rm(stateDir, { recursive: true, force: true });
});

it('starts the front with the agent, and drains it on stop', async () => {
  const config = parseConfig({
    tenantId: TENANT,
    agentId: AGENT,
    mqtt: { url: broker.url, username: `${TENANT}.${AGENT}`, password: agentPassword(TENANT, AGENT) },
    stateDir,
    modems: [{ id: 'm1', group: 'g1', url: 'tcp://127.0.0.1:4001' }],
    radius: {
      host: '127.0.0.1',
      port: 0,
      firstFactor: 'off',
      api: { url: apiUrl, authKey: 'test-key' },
      clients: [{ name: 'gw', address: '127.0.0.1', secret: SECRET }],
    },
  });
  const agent = await startAgent({ config, sender: new FakeSender(), log: createLogger({ level: 'warn' }) });
  const port = agent.radius!.address.port;
  const client = await RawClient.open();
  try {
    await client.send(port, accessRequest(SECRET, 'alice', 'pw').datagram);
    await challengeArrived;
    const stopped = agent.stop();
    // a new login during the drain is not taken
    await client.send(port, accessRequest(SECRET, 'bob', 'pw').datagram);
    release();
    await stopped;
    const replies = await client.receive(1);
    expect(replies).toHaveLength(1);
    const reply = decodeReply(replies[0]!);
    expect(reply.code).toBe(Code.AccessChallenge);
    expect(reply.attributes.some((a) => a.type === Attr.State)).toBe(true);
    expect(agent.radius!.stats.dropped.draining).toBe(1);
    // the port is closed
    await client.send(port, accessRequest(SECRET, 'carol', 'pw').datagram);
    expect(await client.receive(1, 300)).toEqual([]);
  } finally {
    client.close();
  }
});
