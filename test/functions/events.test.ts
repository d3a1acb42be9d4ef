/** What agents report is applied only where the reporting agent has a right to it; bad input is dropped. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentEvent } from '../../functions/contracts/index.ts';
import { EventProcessor } from '../../functions/core/events.ts';
import type { Challenge } from '../../functions/core/model.ts';
import { type CloudFixture, startCloud } from '../support/cloud.ts';

let cloud: CloudFixture;
let events: EventProcessor;
beforeAll(async () => {
  cloud = await startCloud();
  events = new EventProcessor({
    stage: 'local',
    ...cloud.stores,
    log: cloud.log,
  });
});
afterAll(async () => cloud?.close());

let n = 0;
async function dispatchedChallenge(tenantId: string, agentId: string): Promise<Challenge> {
  const id = `challenge-${String(++n).padStart(8, '0')}-xyz`;
  const now = new Date();
  const challenge: Challenge = {
    tenantId,
    id,
    username: 'alice',
    userKnown: true,
    codeHash: 'h'.repeat(43),
    status: 'pending',
    createdAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + 300_000).toISOString(),
    attempts: 0,
    maxAttempts: 3,
    destination: '+45 •• •• •• 56',
    client: {},
    deliveries: [],
  };
  await cloud.stores.challenges.create(challenge);
  const claimed = await cloud.stores.challenges.claimStep(
    tenantId,
    id,
    { step: 0, channel: 'sms', route: 'default', status: 'dispatched', at: now.toISOString(), agentId },
    now.toISOString(),
  );
  expect(claimed).toBe(true);
  return challenge;
}

function bridged(topic: string, payload: unknown): string {
  const bytes = Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload));
  return JSON.stringify({ topic, payload: bytes.toString('base64'), receivedAt: Date.now() });
}

const sent = (jobId: string): AgentEvent => ({
  v: 1,
  type: 'job.sent',
  at: new Date().toISOString(),
  jobId,
  modem: 'modem-1',
  messageRefs: [7],
});

describe('the events processor', () => {
  it('marks the step and the challenge sent when the agent that got the job reports it', async () => {
    const c = await dispatchedChallenge('acme', 'edge-1');
    expect(await events.process(bridged('s/local/t/acme/a/edge-1/events', sent(`${c.id}.0`)))).toBe(
      'applied',
    );
    const after = await cloud.stores.challenges.get('acme', c.id, true);
    expect(after?.status).toBe('sent');
    expect(after?.deliveries[0]).toMatchObject({ status: 'sent', modem: 'modem-1' });
  });

  it("ignores another tenant's agent reporting on this tenant's job", async () => {
    const c = await dispatchedChallenge('acme', 'edge-1');
    expect(await events.process(bridged('s/local/t/globex/a/edge-1/events', sent(`${c.id}.0`)))).toBe(
      'rejected',
    );
    expect((await cloud.stores.challenges.get('acme', c.id, true))?.status).toBe('pending');
  });

  it('ignores another agent of the same tenant reporting on a job it was not given', async () => {
    const c = await dispatchedChallenge('acme', 'edge-1');
    expect(await events.process(bridged('s/local/t/acme/a/edge-2/events', sent(`${c.id}.0`)))).toBe(
      'rejected',
    );
    expect((await cloud.stores.challenges.get('acme', c.id, true))?.status).toBe('pending');
  });

  it('never moves a delivery backwards: a late job.sent after job.delivered changes nothing', async () => {
    const c = await dispatchedChallenge('acme', 'edge-1');
    const delivered: AgentEvent = {
      v: 1,
      type: 'job.delivered',
      at: new Date().toISOString(),
      jobId: `${c.id}.0`,
      modem: 'modem-1',
      messageRef: 7,
      status: 0,
    };
    expect(await events.process(bridged('s/local/t/acme/a/edge-1/events', delivered))).toBe('applied');
    expect(await events.process(bridged('s/local/t/acme/a/edge-1/events', sent(`${c.id}.0`)))).toBe(
      'rejected',
    );
    expect((await cloud.stores.challenges.get('acme', c.id, true))?.status).toBe('delivered');
  });

  it('drops and counts bad input without touching stored data', async () => {
    const c = await dispatchedChallenge('acme', 'edge-1');
    const bad = [
      'not json',
      JSON.stringify({ topic: 's/local/t/acme/a/edge-1/events' }),
      JSON.stringify({ topic: 's/local/t/acme/a/edge-1/events', payload: '!!!not base64' }),
      bridged('s/local/t/acme/a/edge-1/events', 'garbage'),
      bridged('s/local/t/acme/a/edge-1/events', { ...sent(`${c.id}.0`), extra: 1 }),
      bridged('s/local/t/acme/a/edge-1/events', { ...sent(`${c.id}.0`), type: 'job.teleported' }),
      bridged('s/local/t/acme/a/edge-1/events', sent('not-a-job-id')),
      bridged('s/local/t/acme/a/edge-1/jobs', sent(`${c.id}.0`)),
      bridged('s/local/t/../a/edge-1/events', sent(`${c.id}.0`)),
      bridged('s/local/t/acme/a/edge-1/status', { v: 1, state: 'maybe' }),
      // the unprefixed layout, and the same agent's job in another stage sharing the account
      bridged('t/acme/a/edge-1/events', sent(`${c.id}.0`)),
      bridged('s/prod/t/acme/a/edge-1/events', sent(`${c.id}.0`)),
    ];
    for (const body of bad) expect(await events.process(body)).toBe('rejected');
    expect((await cloud.stores.challenges.get('acme', c.id, true))?.status).toBe('pending');
    expect([...events.dropped.values()].reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(bad.length);
  });

  it("changes no agent's presence from what the agent says: that comes from lifecycle events", async () => {
    const before = (await cloud.stores.directory.getAgent('acme', 'edge-1'))?.state;
    expect(
      await events.process(
        bridged('s/local/t/acme/a/edge-1/status', { v: 1, state: 'offline', at: '2026-01-01T00:00:00.000Z' }),
      ),
    ).toBe('rejected');
    expect(
      await events.process(
        bridged('s/local/t/acme/a/edge-1/events', {
          v: 1,
          type: 'agent.online',
          at: '2026-01-01T00:00:01.000Z',
          version: '0.1.0',
          modemGroups: ['default'],
        }),
      ),
      // only the job versions it takes are kept (version 1, as it names none)
    ).toBe('applied');
    expect((await cloud.stores.directory.getAgent('acme', 'edge-1'))?.state).toBe(before);
  });
});
