/**
 * `job.unknown` for a job that asked for no delivery report (version 2 without `report`): no report will ever
 * confirm it, so the cloud does not wait for one; the step fails at once (reason `outcome_unknown`) and the
 * next rule runs. A job that asked for one (the rule requires it, or the agent takes version 1 only) still
 * waits. Against dynalite, with the real events processor and chain runner.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Rule } from '../../functions/contracts/admin.ts';
import type { DispatchMessage } from '../../functions/contracts/queue.ts';
import { ChainRunner } from '../../functions/core/chain-runner.ts';
import { chainSealContext } from '../../functions/core/dispatch.ts';
import {
  EventProcessor,
  OUTCOME_UNKNOWN,
  UNKNOWN_OUTCOME_WAIT_SECONDS,
} from '../../functions/core/events.ts';
import type { Challenge } from '../../functions/core/model.ts';
import { type CloudFixture, startCloud } from '../support/cloud.ts';

let cloud: CloudFixture;
const nowMs = Date.now();
const clock = { now: () => nowMs };
const queued: Array<{ message: DispatchMessage; delay: number }> = [];
let events: EventProcessor;

beforeAll(async () => {
  cloud = await startCloud({ clock });
  const queue = {
    send: async (message: DispatchMessage, delay = 0) => {
      queued.push({ message, delay });
    },
  };
  const runner = new ChainRunner({ challenges: cloud.stores.challenges, queue, clock, log: cloud.log });
  events = new EventProcessor({
    stage: 'local',
    ...cloud.stores,
    log: cloud.log,
    runner,
  });
});
afterAll(async () => cloud?.close());

const sms = (timeoutSeconds: number): Rule => ({
  channel: 'sms_modem',
  target: 'primary',
  route: 'default',
  timeoutSeconds,
});

let n = 0;
async function challengeWith(chain: Rule[], agentId: string): Promise<Challenge> {
  const tenantId = cloud.seed.tenantId;
  const id = `unknown-challenge-${String(++n).padStart(6, '0')}`;
  const now = new Date(nowMs).toISOString();
  const challenge: Challenge = {
    tenantId,
    id,
    username: 'alice',
    userKnown: true,
    codeHash: 'h'.repeat(43),
    status: 'pending',
    createdAt: now,
    expiresAt: new Date(nowMs + 3_600_000).toISOString(),
    attempts: 0,
    maxAttempts: 3,
    destination: '+45 •• •• •• 56',
    client: {},
    deliveries: [{ step: 0, channel: 'sms', route: 'default', status: 'dispatched', at: now, agentId }],
    chain,
  };
  if (chain.length > 1) {
    challenge.sealed = cloud.keys.seal(
      JSON.stringify({
        text: 'Your login code is 123456.',
        targets: { primary: '+4520123456', secondary: null, email: null },
        username: 'alice',
      }),
      chainSealContext(tenantId, id),
    );
  }
  await cloud.stores.challenges.create(challenge);
  return challenge;
}

const from = (agentId: string, event: unknown) =>
  JSON.stringify({
    topic: `s/local/t/${cloud.seed.tenantId}/a/${agentId}/events`,
    payload: Buffer.from(JSON.stringify(event)).toString('base64'),
    receivedAt: nowMs,
  });

const unknown = (jobId: string) => ({
  v: 1,
  type: 'job.unknown',
  at: new Date(nowMs).toISOString(),
  jobId,
  modem: 'modem-1',
  detail: 'agent restarted mid-send; the modem may have sent it',
});

const steps = async (c: Challenge) =>
  (await cloud.stores.challenges.get(c.tenantId, c.id, true))?.deliveries.map((d) => [
    d.step,
    d.status,
    d.reason,
  ]);

describe('job.unknown of a job that asked for no delivery report', () => {
  beforeAll(async () => {
    // the agent takes version 2: its jobs ask for a report only where the rule requires one
    await cloud.stores.directory.setAgentJobVersions(cloud.seed.tenantId, cloud.seed.agent.agentId, [1, 2]);
  });

  it('fails the step at once and runs the next rule, arming no wait', async () => {
    const agentId = cloud.seed.agent.agentId;
    const c = await challengeWith([sms(30), sms(30)], agentId);
    queued.length = 0;
    expect(await events.process(from(agentId, unknown(`${c.id}.0`)))).toBe('applied');
    expect(await steps(c)).toEqual([
      [0, 'failed', OUTCOME_UNKNOWN],
      [1, 'queued', undefined],
    ]);
    expect(queued.map((q) => [q.message.kind, q.message.step, q.delay])).toEqual([['step', 1, 0]]);
    // a second copy from the broker changes nothing
    queued.length = 0;
    expect(await events.process(from(agentId, unknown(`${c.id}.0`)))).toBe('rejected');
    expect(queued).toEqual([]);
  });

  it('with no next rule, the challenge reads failed at once', async () => {
    const agentId = cloud.seed.agent.agentId;
    const c = await challengeWith([sms(30)], agentId);
    queued.length = 0;
    expect(await events.process(from(agentId, unknown(`${c.id}.0`)))).toBe('applied');
    expect(await steps(c)).toEqual([[0, 'failed', OUTCOME_UNKNOWN]]);
    expect((await cloud.stores.challenges.get(c.tenantId, c.id, true))?.status).toBe('failed');
    expect(queued).toEqual([]);
  });

  it('still waits where the rule asked for a report', async () => {
    const agentId = cloud.seed.agent.agentId;
    const c = await challengeWith([{ ...sms(30), requireDeliveryReport: true }, sms(30)], agentId);
    queued.length = 0;
    expect(await events.process(from(agentId, unknown(`${c.id}.0`)))).toBe('applied');
    expect(await steps(c)).toEqual([[0, 'sent', OUTCOME_UNKNOWN]]);
    expect(queued.map((q) => [q.message.kind, q.message.step, q.delay])).toEqual([
      ['timer', 0, UNKNOWN_OUTCOME_WAIT_SECONDS],
    ]);
  });

  it('only for the agent that had the job', async () => {
    const agentId = cloud.seed.agent.agentId;
    const c = await challengeWith([sms(30), sms(30)], agentId);
    queued.length = 0;
    expect(await events.process(from('some-other-agent', unknown(`${c.id}.0`)))).toBe('rejected');
    expect(await steps(c)).toEqual([[0, 'dispatched', undefined]]);
    expect(queued).toEqual([]);
  });
});
