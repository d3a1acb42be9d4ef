/**
 * `job.unknown`: the agent died while a job was at a modem, which may have sent it. The cloud neither fails over
 * at once (a second SMS whenever the modem did send it) nor waits out the whole rule: the step reads `sent`
 * (reason `outcome_unknown`) and a short timer waits for the job's delivery report before the next rule runs.
 * Against dynalite, with the real events processor, chain runner and dispatcher.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import type { Rule } from '../../functions/contracts/admin.ts';
import {
  AgentEvent,
  AgentOnlineEvent,
  JobDeliveredEvent,
  JobFailedEvent,
  JobSentEvent,
  ModemStatusEvent,
} from '../../functions/contracts/index.ts';
import type { DispatchMessage } from '../../functions/contracts/queue.ts';
import { AgentRouter } from '../../functions/core/agent-router.ts';
import { ChainRunner, stepMessage } from '../../functions/core/chain-runner.ts';
import { lastStepLapsed } from '../../functions/core/challenge-transitions.ts';
import { chainSealContext, Dispatcher } from '../../functions/core/dispatch.ts';
import {
  EventProcessor,
  OUTCOME_UNKNOWN,
  UNKNOWN_OUTCOME_WAIT_SECONDS,
} from '../../functions/core/events.ts';
import type { Challenge } from '../../functions/core/model.ts';
import { type CloudFixture, startCloud } from '../support/cloud.ts';

let cloud: CloudFixture;
let nowMs = Date.now();
const clock = { now: () => nowMs };
const queued: Array<{ message: DispatchMessage; delay: number }> = [];
let dispatcher: Dispatcher;
let events: EventProcessor;

beforeAll(async () => {
  cloud = await startCloud({ clock });
  const queue = {
    send: async (message: DispatchMessage, delay = 0) => {
      queued.push({ message, delay });
    },
  };
  const runner = new ChainRunner({ challenges: cloud.stores.challenges, queue, clock, log: cloud.log });
  dispatcher = new Dispatcher({
    challenges: cloud.stores.challenges,
    publisher: { publishJob: async () => {} },
    keys: cloud.keys,
    clock,
    log: cloud.log,
    router: new AgentRouter({ directory: cloud.stores.directory, clock, cacheMs: 0 }),
    runner,
  });
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

const delivered = (jobId: string) => ({
  v: 1,
  type: 'job.delivered',
  at: new Date(nowMs).toISOString(),
  jobId,
  modem: 'modem-1',
  messageRef: 7,
  status: 0,
});

const steps = async (c: Challenge) =>
  (await cloud.stores.challenges.get(c.tenantId, c.id, true))?.deliveries.map((d) => [
    d.step,
    d.status,
    d.reason,
  ]);

describe('job.unknown in the cloud', () => {
  it('waits for the delivery report, then fails over when none came', async () => {
    const agentId = cloud.seed.agent.agentId;
    const c = await challengeWith([sms(30), sms(30)], agentId);
    queued.length = 0;
    expect(await events.process(from(agentId, unknown(`${c.id}.0`)))).toBe('applied');
    expect(await steps(c)).toEqual([[0, 'sent', OUTCOME_UNKNOWN]]);
    // one timer, the short wait, which fails the step unless a delivery report came
    expect(queued.map((q) => [q.message.kind, q.message.step, q.delay])).toEqual([
      ['timer', 0, UNKNOWN_OUTCOME_WAIT_SECONDS],
    ]);
    const wait = queued[0]!.message;
    expect(wait.rule.requireDeliveryReport).toBe(true);

    // The rule's own timer (armed when the job was published) finds the step sent and leaves it alone.
    queued.length = 0;
    nowMs += 30_000;
    expect(await dispatcher.dispatch({ ...stepMessage(c, 0)!, kind: 'timer' })).toBe('timer_fired');
    expect(await steps(c)).toEqual([[0, 'sent', OUTCOME_UNKNOWN]]);
    expect(queued).toEqual([]);

    // The wait runs out with no report: the next rule runs.
    expect(await dispatcher.dispatch(wait)).toBe('timer_fired');
    expect(await steps(c)).toEqual([
      [0, 'failed', 'no_delivery_report'],
      [1, 'queued', undefined],
    ]);
    expect(queued.map((q) => [q.message.kind, q.message.step])).toEqual([['step', 1]]);
  });

  it('does not fail over when the delivery report comes within the wait', async () => {
    const agentId = cloud.seed.agent.agentId;
    const c = await challengeWith([sms(30), sms(30)], agentId);
    queued.length = 0;
    expect(await events.process(from(agentId, unknown(`${c.id}.0`)))).toBe('applied');
    const wait = queued[0]!.message;
    expect(await events.process(from(agentId, delivered(`${c.id}.0`)))).toBe('applied');
    queued.length = 0;
    nowMs += UNKNOWN_OUTCOME_WAIT_SECONDS * 1000;
    expect(await dispatcher.dispatch(wait)).toBe('timer_fired');
    expect(await steps(c)).toEqual([[0, 'delivered', OUTCOME_UNKNOWN]]);
    expect((await cloud.stores.challenges.get(c.tenantId, c.id, true))?.status).toBe('delivered');
    expect(queued).toEqual([]);
  });

  it('waits no longer than the rule itself would', async () => {
    const agentId = cloud.seed.agent.agentId;
    const c = await challengeWith([sms(5), sms(30)], agentId);
    queued.length = 0;
    await events.process(from(agentId, unknown(`${c.id}.0`)));
    expect(queued.map((q) => q.delay)).toEqual([5]);
  });

  it('with no next rule, arms nothing, and reads failed once the wait is over without a report', async () => {
    const agentId = cloud.seed.agent.agentId;
    const c = await challengeWith([sms(30)], agentId);
    queued.length = 0;
    expect(await events.process(from(agentId, unknown(`${c.id}.0`)))).toBe('applied');
    expect(await steps(c)).toEqual([[0, 'sent', OUTCOME_UNKNOWN]]);
    expect(queued).toEqual([]);
    const stored = (await cloud.stores.challenges.get(c.tenantId, c.id, true))!;
    const reportedAt = Date.parse(stored.deliveries[0]!.at);
    const waitMs = UNKNOWN_OUTCOME_WAIT_SECONDS * 1000;
    expect(lastStepLapsed(stored, reportedAt + waitMs - 1)).toBeUndefined();
    expect(lastStepLapsed(stored, reportedAt + waitMs)).toEqual({
      step: 0,
      at: new Date(reportedAt + waitMs).toISOString(),
    });
  });

  it('applies only for the agent that had the job, and only once unless redelivered', async () => {
    const agentId = cloud.seed.agent.agentId;
    const c = await challengeWith([sms(30), sms(30)], agentId);
    queued.length = 0;
    expect(await events.process(from('some-other-agent', unknown(`${c.id}.0`)))).toBe('rejected');
    expect(await steps(c)).toEqual([[0, 'dispatched', undefined]]);
    expect(queued).toEqual([]);
    expect(await events.process(from(agentId, unknown(`${c.id}.0`)))).toBe('applied');
    // a second copy from the broker is not applied again…
    expect(await events.process(from(agentId, unknown(`${c.id}.0`)))).toBe('rejected');
    // …but a queue redelivery (its first handler may have died before arming) arms the wait again, harmlessly
    expect(await events.process(from(agentId, unknown(`${c.id}.0`)), { redelivered: true })).toBe('applied');
    expect(queued.map((q) => q.message.kind)).toEqual(['timer', 'timer']);
    // a step that already failed over is not brought back
    nowMs += 60_000;
    await dispatcher.dispatch(queued[0]!.message);
    expect(await events.process(from(agentId, unknown(`${c.id}.0`)), { redelivered: true })).toBe('rejected');
  });
});

describe('the job.unknown contract', () => {
  it('is part of version 1 of the agent events, strictly shaped', () => {
    expect(AgentEvent.safeParse(unknown('abcdefghijklmnop.0')).success).toBe(true);
    expect(AgentEvent.safeParse({ ...unknown('abcdefghijklmnop.0'), text: 'Your code' }).success).toBe(false);
    expect(AgentEvent.safeParse({ ...unknown('abcdefghijklmnop.0'), v: 2 }).success).toBe(false);
  });

  it('is refused, by its type, by a parser that predates it', () => {
    const before = z.discriminatedUnion('type', [
      JobSentEvent,
      JobFailedEvent,
      JobDeliveredEvent,
      ModemStatusEvent,
      AgentOnlineEvent,
    ]);
    const result = before.safeParse(unknown('abcdefghijklmnop.0'));
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]).toMatchObject({ code: 'invalid_union', path: ['type'] });
  });
});
