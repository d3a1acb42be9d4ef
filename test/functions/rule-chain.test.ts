/**
 * The rule chain's moving parts against dynalite: agent routing, failover timers (chained past SQS's 15
 * minutes, and on a missing delivery report), job.failed moving the chain on once, and only for the agent
 * that had the job.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Rule } from '../../functions/contracts/admin.ts';
import type { AgentEvent } from '../../functions/contracts/index.ts';
import type { DispatchMessage } from '../../functions/contracts/queue.ts';
import { AgentRouter, rankAgents } from '../../functions/core/agent-router.ts';
import { ChainRunner } from '../../functions/core/chain-runner.ts';
import { chainSealContext, Dispatcher } from '../../functions/core/dispatch.ts';
import { EventProcessor } from '../../functions/core/events.ts';
import type { Agent, Challenge } from '../../functions/core/model.ts';
import { type CloudFixture, startCloud } from '../support/cloud.ts';

let cloud: CloudFixture;
let nowMs = Date.now();
const clock = { now: () => nowMs };
const queued: Array<{ message: DispatchMessage; delay: number }> = [];
const published: Array<{ agentId: string; id: string; expiresAt?: string }> = [];
let runner: ChainRunner;
let dispatcher: Dispatcher;
let events: EventProcessor;

beforeAll(async () => {
  cloud = await startCloud({ clock });
  const queue = {
    send: async (message: DispatchMessage, delay = 0) => {
      queued.push({ message, delay });
    },
  };
  runner = new ChainRunner({ challenges: cloud.stores.challenges, queue, clock, log: cloud.log });
  dispatcher = new Dispatcher({
    challenges: cloud.stores.challenges,
    publisher: {
      publishJob: async (_t, agentId, job) => {
        published.push({ agentId, id: job.id, expiresAt: job.expiresAt });
      },
    },
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

const agent = (agentId: string, state: Agent['state'], modems: Agent['modems']): Agent => ({
  tenantId: 't',
  agentId,
  secretHash: '',
  modemGroups: ['a'],
  state,
  ...(modems && { modems }),
});

describe('routing to agents', () => {
  const now = Date.parse('2026-06-01T12:00:00Z');
  const fresh = new Date(now - 10_000).toISOString();
  const stale = new Date(now - 600_000).toISOString();
  it('picks online agents with fresh healthy modems in the group, least loaded first', () => {
    const ranked = rankAgents(
      [
        agent('busy', 'online', { m1: { group: 'a', healthy: true, queue: 5, at: fresh } }),
        agent('idle', 'online', { m1: { group: 'a', healthy: true, queue: 0, at: fresh } }),
        agent('offline', 'offline', { m1: { group: 'a', healthy: true, queue: 0, at: fresh } }),
        agent('stale', 'online', { m1: { group: 'a', healthy: true, queue: 0, at: stale } }),
        agent('sick', 'online', { m1: { group: 'a', healthy: false, queue: 0, at: fresh } }),
        agent('other', 'online', { m1: { group: 'b', healthy: true, queue: 0, at: fresh } }),
      ],
      'a',
      now,
      200_000,
    );
    expect(ranked.map((a) => a.agentId)).toEqual(['idle', 'busy']);
  });

  it('stores modem reports and routes by them', async () => {
    const { directory } = cloud.stores;
    const tenantId = cloud.seed.tenantId;
    const agentId = cloud.seed.agent.agentId;
    await directory.setAgentState(tenantId, agentId, 'online', new Date(nowMs).toISOString());
    const report = (healthy: boolean, at: number) => ({
      v: 1,
      type: 'modem.status',
      at: new Date(at).toISOString(),
      modem: 'modem-1',
      group: 'default',
      healthy,
      signal: 20,
      registration: 'home',
      operator: 'TDC',
      queue: 0,
      sent: 1,
      failed: 0,
      retries: 0,
      errors: healthy ? 0 : 3,
      lastError: healthy ? null : 'CMS 38',
    });
    const bridged = (payload: object, receivedAt: number) =>
      JSON.stringify({
        topic: `s/local/t/${tenantId}/a/${agentId}/events`,
        payload: Buffer.from(JSON.stringify(payload)).toString('base64'),
        receivedAt,
      });
    expect(await events.process(bridged(report(false, nowMs), nowMs))).toBe('applied');
    const router = new AgentRouter({ directory, clock, cacheMs: 0 });
    expect(await router.pick(tenantId, 'default')).toBeUndefined();
    expect(await events.process(bridged(report(true, nowMs + 1000), nowMs + 1000))).toBe('applied');
    expect((await router.pick(tenantId, 'default'))?.agentId).toBe(agentId);
    const history = await directory.modemHistory(tenantId, agentId, 'modem-1');
    expect(history.map((h) => h.healthy)).toEqual([true, false]);
    expect(history[1]).toMatchObject({ errors: 3, lastError: 'CMS 38', signal: 20, registration: 'home' });
  });
});

let n = 0;
async function challengeWith(chain: Rule[], agentId: string): Promise<Challenge> {
  const tenantId = cloud.seed.tenantId;
  const id = `chain-challenge-${String(++n).padStart(6, '0')}`;
  const now = new Date(nowMs).toISOString();
  const sealed = cloud.keys.seal(
    JSON.stringify({
      text: 'Your login code is 123456.',
      targets: { primary: '+4520123456', secondary: '+4530123456', email: null },
      username: 'alice',
    }),
    chainSealContext(tenantId, id),
  );
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
    deliveries: [
      { step: 0, channel: 'sms', route: chain[0]!.route!, status: 'dispatched', at: now, agentId },
    ],
    chain,
    sealed,
  };
  await cloud.stores.challenges.create(challenge);
  return challenge;
}

const stepMessage = (c: Challenge, step: number): DispatchMessage => ({
  v: 1,
  kind: 'step',
  tenantId: c.tenantId,
  challengeId: c.id,
  step,
  expiresAt: c.expiresAt,
  sealed: c.sealed!,
  modemGroup: c.chain![step]!.route!,
  flash: false,
  rule: c.chain![step]!,
  hasNext: c.chain!.length > step + 1,
});

const eventFrom = (tenantId: string, agentId: string, event: AgentEvent) =>
  JSON.stringify({
    topic: `s/local/t/${tenantId}/a/${agentId}/events`,
    payload: Buffer.from(JSON.stringify(event)).toString('base64'),
    receivedAt: nowMs,
  });

describe('failover', () => {
  const sms = (route: string, timeoutSeconds: number, report = false): Rule => ({
    channel: 'sms_modem',
    target: 'primary',
    route,
    timeoutSeconds,
    ...(report && { requireDeliveryReport: true }),
  });

  it('re-queues a timer longer than SQS can delay until it is due, then moves on', async () => {
    const c = await challengeWith([sms('default', 900), sms('default', 60)], cloud.seed.agent.agentId);
    queued.length = 0;
    const timer: DispatchMessage = {
      ...stepMessage(c, 0),
      kind: 'timer',
      dueAt: new Date(nowMs + 1500_000).toISOString(),
    };
    expect(await dispatcher.dispatch(timer)).toBe('timer_rearmed');
    expect(queued).toEqual([{ message: timer, delay: 900 }]);
    nowMs += 1500_000;
    queued.length = 0;
    expect(await dispatcher.dispatch(timer)).toBe('timer_fired');
    const stored = await cloud.stores.challenges.get(c.tenantId, c.id, true);
    expect(stored?.deliveries.map((d) => [d.step, d.status, d.reason])).toEqual([
      [0, 'failed', 'timeout'],
      [1, 'queued', undefined],
    ]);
    expect(queued.map((q) => [q.message.kind, q.message.step, q.delay])).toEqual([['step', 1, 0]]);
  });

  it('gives a job that a later rule backs up the deadline of its rule, so a kept job never goes out beside the next', async () => {
    const agentId = cloud.seed.agent.agentId;
    const c = await challengeWith([sms('default', 30), sms('default', 45)], agentId);
    published.length = 0;
    queued.length = 0;
    expect(await dispatcher.dispatch({ ...stepMessage(c, 0), agentId })).toBe('published');
    // the agent drops the job at this deadline: the moment the timer armed beside it fails the step over
    expect(published).toEqual([
      { agentId, id: `${c.id}.0`, expiresAt: new Date(nowMs + 30_000).toISOString() },
    ]);
    expect(queued.map((q) => [q.message.kind, q.delay])).toEqual([['timer', 30]]);
    // the last rule has nothing after it: its job lives as long as the challenge
    published.length = 0;
    expect(await dispatcher.dispatch({ ...stepMessage(c, 1), agentId })).toBe('published');
    expect(published).toEqual([{ agentId, id: `${c.id}.1`, expiresAt: c.expiresAt }]);
  });

  it('moves on when a rule needs a delivery report and only job.sent came', async () => {
    const agentId = cloud.seed.agent.agentId;
    const c = await challengeWith([sms('default', 30, true), sms('default', 30)], agentId);
    const sent: AgentEvent = {
      v: 1,
      type: 'job.sent',
      at: new Date(nowMs).toISOString(),
      jobId: `${c.id}.0`,
      modem: 'modem-1',
      messageRefs: [7],
    };
    expect(await events.process(eventFrom(c.tenantId, agentId, sent))).toBe('applied');
    queued.length = 0;
    expect(await dispatcher.dispatch({ ...stepMessage(c, 0), kind: 'timer' })).toBe('timer_fired');
    const stored = await cloud.stores.challenges.get(c.tenantId, c.id, true);
    expect(stored?.deliveries[0]).toMatchObject({ status: 'failed', reason: 'no_delivery_report' });
    expect(queued.map((q) => q.message.step)).toEqual([1]);
  });

  it('moves on once on job.failed, only for the agent that had the job, and fails the challenge after the last rule', async () => {
    const agentId = cloud.seed.agent.agentId;
    const c = await challengeWith([sms('default', 30), sms('default', 30)], agentId);
    const failed = (jobId: string): AgentEvent => ({
      v: 1,
      type: 'job.failed',
      at: new Date(nowMs).toISOString(),
      jobId,
      reason: 'permanent',
    });
    // Another tenant's agent reporting on this job changes nothing.
    expect(
      await events.process(eventFrom(cloud.other.tenantId, cloud.other.agent.agentId, failed(`${c.id}.0`))),
    ).toBe('rejected');
    expect(await events.process(eventFrom(c.tenantId, 'some-other-agent', failed(`${c.id}.0`)))).toBe(
      'rejected',
    );
    queued.length = 0;
    expect(await events.process(eventFrom(c.tenantId, agentId, failed(`${c.id}.0`)))).toBe('applied');
    // The same event again (MQTT and SQS redeliver) queues nothing more.
    await events.process(eventFrom(c.tenantId, agentId, failed(`${c.id}.0`)));
    expect(queued.map((q) => q.message.step)).toEqual([1]);

    // Step 1 is claimed for an agent when dispatched, then fails: the chain is exhausted.
    await cloud.stores.directory.recordModemStatus(c.tenantId, agentId, {
      modem: 'modem-1',
      group: 'default',
      healthy: true,
      signal: 20,
      registration: 'home',
      queue: 0,
      retries: 0,
      errors: 0,
      lastError: null,
      at: new Date(nowMs).toISOString(),
    });
    published.length = 0;
    expect(await dispatcher.dispatch(queued[0]!.message)).toBe('published');
    expect(published).toEqual([{ agentId, id: `${c.id}.1`, expiresAt: c.expiresAt }]);
    expect(await events.process(eventFrom(c.tenantId, agentId, failed(`${c.id}.1`)))).toBe('applied');
    const stored = await cloud.stores.challenges.get(c.tenantId, c.id, true);
    expect(stored?.status).toBe('failed');
    expect(stored?.sealed).toBeUndefined();
  });
});

describe('the last rule', () => {
  it('reads as failed once its timeout ran out without success (no timer is armed after it)', async () => {
    const { lastStepLapsed } = await import('../../functions/core/challenge-transitions.ts');
    const at = '2026-06-01T12:00:00.000Z';
    const challenge = {
      chain: [{ channel: 'sms_modem', target: 'primary', route: 'a', timeoutSeconds: 30 }],
      deliveries: [{ step: 0, channel: 'sms', route: 'a', status: 'dispatched', at }],
    } as unknown as Challenge;
    expect(lastStepLapsed(challenge, Date.parse(at) + 29_000)).toBeUndefined();
    expect(lastStepLapsed(challenge, Date.parse(at) + 30_000)).toEqual({
      step: 0,
      at: '2026-06-01T12:00:30.000Z',
    });
    const sent = { ...challenge, deliveries: [{ ...challenge.deliveries[0]!, status: 'sent' }] } as Challenge;
    expect(lastStepLapsed(sent, Date.parse(at) + 60_000)).toBeUndefined();
  });
});
