/**
 * Agent presence from IoT Core's lifecycle events, in any order and any number of times, and the tenant's
 * service-status log (`GET /v1/service-events`) it feeds together with modems' health changes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoServiceEventStore } from '../../functions/adapters/dynamo/service-event-store.ts';
import type { AgentEvent } from '../../functions/contracts/index.ts';
import { type LifecycleEvent, presenceTopic } from '../../functions/contracts/presence.ts';
import { EventProcessor } from '../../functions/core/events.ts';
import { TABLE } from '../support/cloud.ts';
import { type DirectoryFixture, startDirectory } from '../support/directory.ts';

let t: DirectoryFixture;
let events: EventProcessor;
let now = Date.parse('2030-01-01T00:00:00.000Z');
const clock = { now: () => now };
beforeAll(async () => {
  t = await startDirectory({ clock });
  events = new EventProcessor({
    stage: 'local',
    ...t.stores,
    log: t.log,
    serviceEvents: new DynamoServiceEventStore(t.dynamo, TABLE),
  });
});
afterAll(async () => t?.close());

function bridged(topic: string, payload: unknown): string {
  const bytes = Buffer.from(JSON.stringify(payload));
  return JSON.stringify({ topic, payload: bytes.toString('base64'), receivedAt: now });
}

function lifecycle(
  eventType: 'connected' | 'disconnected',
  versionNumber: number,
  timestamp: number,
  extra: Partial<LifecycleEvent> = {},
  clientId = 'local:acme:edge-1',
): string {
  const event: LifecycleEvent = {
    clientId,
    timestamp,
    eventType,
    sessionIdentifier: `session-${versionNumber}`,
    principalIdentifier: 'cert-id',
    versionNumber,
    ...(eventType === 'disconnected' && {
      clientInitiatedDisconnect: false,
      disconnectReason: 'CONNECTION_LOST',
    }),
    ...extra,
  };
  return bridged(presenceTopic(eventType, clientId), event);
}

const stateOf = async (tenantId = 'acme', agentId = 'edge-1') =>
  (await t.stores.directory.getAgent(tenantId, agentId))?.state;

async function serviceEvents(key: string, query = '') {
  return (await t.call(t.admin, 'GET', `/v1/service-events${query}`, key)) as {
    status: number;
    body: {
      events: Array<{ at: string; type: string; agentId: string; reason?: string; modem?: string }>;
      cursor?: string;
    };
  };
}

const modemStatus = (healthy: boolean, lastError: string | null = null): AgentEvent => ({
  v: 1,
  type: 'modem.status',
  at: new Date(now).toISOString(),
  modem: 'modem-1',
  group: 'default',
  healthy,
  signal: healthy ? 21 : null,
  registration: healthy ? 'home' : 'denied',
  operator: null,
  queue: 0,
  sent: 0,
  failed: 0,
  retries: 0,
  errors: healthy ? 0 : 3,
  lastError,
});

describe('agent presence from lifecycle events', () => {
  it("goes online at connected and offline at that connection's disconnected", async () => {
    const base = now;
    expect(await events.process(lifecycle('connected', 10, base))).toBe('applied');
    expect(await stateOf()).toBe('online');
    expect(await events.process(lifecycle('disconnected', 10, base + 5_000))).toBe('applied');
    expect(await stateOf()).toBe('offline');
  });

  it("keeps a newer connection online when the old connection's disconnect arrives late", async () => {
    const base = now + 60_000;
    await events.process(lifecycle('connected', 20, base));
    await events.process(lifecycle('connected', 21, base + 1_000));
    // DUPLICATE_CLIENTID or a dropped link: the old connection's disconnect, even stamped later, comes after
    expect(await events.process(lifecycle('disconnected', 20, base + 2_000))).toBe('ignored');
    expect(await stateOf()).toBe('online');
    // a duplicate of a connect already superseded by its own disconnect changes nothing either
    await events.process(lifecycle('disconnected', 21, base + 3_000));
    expect(await events.process(lifecycle('connected', 21, base + 1_000))).toBe('ignored');
    expect(await stateOf()).toBe('offline');
  });

  it('follows a version that restarted from 0 after an hour away, and never goes back past it', async () => {
    const base = now + 120_000;
    await events.process(lifecycle('disconnected', 30, base));
    expect(await stateOf()).toBe('offline');
    const hourLater = base + 3_700_000;
    expect(await events.process(lifecycle('connected', 0, hourLater))).toBe('applied');
    expect(await stateOf()).toBe('online');
    // a straggler from before the restart has a higher version but is an hour older
    expect(await events.process(lifecycle('disconnected', 30, base))).toBe('ignored');
    expect(await stateOf()).toBe('online');
    await events.process(lifecycle('disconnected', 0, hourLater + 1_000));
  });

  it('ends in the newest state whatever order a hundred and more concurrent events arrive in', async () => {
    const base = now + 10_000_000;
    const all: string[] = [];
    for (let v = 100; v < 160; v++) {
      all.push(lifecycle('connected', v, base + v * 10));
      all.push(lifecycle('disconnected', v, base + v * 10 + 5));
    }
    all.push(lifecycle('connected', 300, base + 3_000));
    expect(all.length).toBe(121);
    for (let i = all.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [all[i], all[j]] = [all[j]!, all[i]!];
    }
    await Promise.all(all.map((body) => events.process(body)));
    const agent = await t.stores.directory.getAgent('acme', 'edge-1');
    expect(agent?.state).toBe('online');
    expect(agent?.stateAt).toBe(new Date(base + 3_000).toISOString());
  }, 120_000);

  it('takes presence from nothing the agent says: its status topic and agent.online change nothing', async () => {
    await events.process(lifecycle('disconnected', 300, now + 20_000_000));
    expect(await stateOf()).toBe('offline');
    await events.process(bridged('s/local/t/acme/a/edge-1/status', { v: 1, state: 'online' }));
    await events.process(
      bridged('s/local/t/acme/a/edge-1/events', {
        v: 1,
        type: 'agent.online',
        at: new Date(now).toISOString(),
        version: '0.1.0',
        modemGroups: ['default'],
      }),
    );
    expect(await stateOf()).toBe('offline');
  });

  it("ignores the cloud's own clients and drops an event whose payload names another client than its topic", async () => {
    expect(await events.process(lifecycle('connected', 1, now, {}, 'cloud-events-bridge'))).toBe('ignored');
    // the same agent's thing in another stage of the account is not this stage's agent
    expect(await events.process(lifecycle('connected', 2, now, {}, 'prod:acme:edge-1'))).toBe('ignored');
    expect(await stateOf()).not.toBe('online');
    const forged = JSON.parse(lifecycle('connected', 999, now + 30_000_000)) as { payload: string };
    const body = JSON.stringify({
      topic: presenceTopic('connected', 'local:globex:edge-1'),
      payload: forged.payload,
      receivedAt: now,
    });
    expect(await events.process(body)).toBe('rejected');
    expect(await stateOf('globex', 'edge-1')).not.toBe('online');
  });
});

describe('the service-status log', () => {
  it('lists connects and disconnects with the reason, newest first, once each however often redelivered', async () => {
    now += 40_000_000;
    const base = now;
    for (let i = 0; i < 3; i++) {
      await events.process(lifecycle('connected', 500, base));
      await events.process(
        lifecycle('disconnected', 500, base + 1_000, {
          clientInitiatedDisconnect: false,
          disconnectReason: 'MQTT_KEEP_ALIVE_TIMEOUT',
        }),
      );
    }
    const { status, body } = await serviceEvents(t.seed.keys.admin, '?agentId=edge-1&limit=2');
    expect(status).toBe(200);
    expect(body.events).toEqual([
      {
        at: new Date(base + 1_000).toISOString(),
        type: 'agent.disconnected',
        agentId: 'edge-1',
        reason: 'MQTT_KEEP_ALIVE_TIMEOUT',
      },
      { at: new Date(base).toISOString(), type: 'agent.connected', agentId: 'edge-1' },
    ]);
    expect(body.cursor).toBeDefined();
  });

  it('logs modem transitions only: up, blocked with its error, recovered; not every report', async () => {
    now += 1_000;
    const sendReport = async (event: AgentEvent) => {
      now += 1_000;
      await events.process(bridged('s/local/t/acme/a/edge-1/events', event));
    };
    await sendReport(modemStatus(true));
    await sendReport(modemStatus(true));
    await sendReport(modemStatus(false, '+CMS ERROR: 500'));
    await sendReport(modemStatus(false, '+CMS ERROR: 500'));
    await sendReport(modemStatus(true));
    await sendReport(modemStatus(true));
    const { body } = await serviceEvents(t.seed.keys.admin, '?limit=3');
    expect(body.events.map((e) => [e.type, e.modem, e.reason])).toEqual([
      ['modem.recovered', 'modem-1', 'registration home, signal 21'],
      ['modem.blocked', 'modem-1', '+CMS ERROR: 500'],
      ['modem.up', 'modem-1', 'registration home, signal 21'],
    ]);
  });

  it('pages through everything with the cursor, and refuses a cursor it did not hand out', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let round = 0; round < 50; round++) {
      const { status, body } = await serviceEvents(
        t.seed.keys.admin,
        `?limit=3${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(status).toBe(200);
      seen.push(...body.events.map((e) => `${e.at}/${e.type}`));
      cursor = body.cursor;
      if (!cursor) break;
    }
    expect(seen.length).toBeGreaterThan(5);
    expect([...seen].sort().reverse()).toEqual(seen);
    expect(new Set(seen).size).toBe(seen.length);
    const bad = await serviceEvents(
      t.seed.keys.admin,
      `?cursor=${Buffer.from('TENANT#x').toString('base64url')}`,
    );
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ error: { code: 'invalid_request' } });
    expect((await serviceEvents(t.seed.keys.admin, '?limit=500')).status).toBe(400);
    expect((await serviceEvents(t.seed.keys.admin, '?agentId=../x')).status).toBe(400);
  });

  it("keeps each tenant to its own: another tenant's admin sees none of acme's events, other keys none", async () => {
    const globex = await serviceEvents(t.other.keys.admin);
    expect(globex.status).toBe(200);
    expect(globex.body.events).toEqual([]);
    // even naming acme's agent
    expect((await serviceEvents(t.other.keys.admin, '?agentId=edge-1')).body.events).toEqual([]);
    expect((await serviceEvents(t.seed.keys.auth)).status).toBe(403);
    expect((await serviceEvents('sp.admin.acme.nope')).status).toBe(401);
  });

  it('stops listing events once they are older than the retention (their TTL)', async () => {
    const before = (await serviceEvents(t.seed.keys.admin, '?limit=200')).body.events.length;
    expect(before).toBeGreaterThan(0);
    now += 31 * 24 * 3600 * 1000;
    expect((await serviceEvents(t.seed.keys.admin, '?limit=200')).body.events).toEqual([]);
  });
});
