/**
 * Delivery reports on demand: the cloud asks an agent for a delivery report only for a rule that waits for one
 * (`requireDeliveryReport`), in a version 2 job, and only to an agent that said it takes version 2; any other
 * agent gets version 1, which it parses as before (and which always asks). Against dynalite, with the real
 * events processor and dispatcher.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Rule } from '../../functions/contracts/admin.ts';
import { eventsTopic, type SmsJob } from '../../functions/contracts/index.ts';
import { AgentRouter } from '../../functions/core/agent-router.ts';
import { ChainRunner, stepMessage } from '../../functions/core/chain-runner.ts';
import { chainSealContext, Dispatcher } from '../../functions/core/dispatch.ts';
import { EventProcessor } from '../../functions/core/events.ts';
import type { Challenge } from '../../functions/core/model.ts';
import { type CloudFixture, startCloud } from '../support/cloud.ts';

let cloud: CloudFixture;
let dispatcher: Dispatcher;
let events: EventProcessor;
const published: SmsJob[] = [];

beforeAll(async () => {
  cloud = await startCloud();
  const clock = { now: () => Date.now() };
  const runner = new ChainRunner({
    challenges: cloud.stores.challenges,
    queue: { send: async () => {} },
    clock,
    log: cloud.log,
  });
  dispatcher = new Dispatcher({
    challenges: cloud.stores.challenges,
    publisher: { publishJob: async (_t, _a, job) => void published.push(job) },
    keys: cloud.keys,
    clock,
    log: cloud.log,
    router: new AgentRouter({ directory: cloud.stores.directory, clock, cacheMs: 0 }),
    runner,
  });
  events = new EventProcessor({ ...cloud.stores, log: cloud.log, runner, stage: 'local' });
});
afterAll(async () => cloud?.close());

let n = 0;
async function dispatchStep0(rule: Rule): Promise<SmsJob> {
  const tenantId = cloud.seed.tenantId;
  const agentId = cloud.seed.agent.agentId;
  const id = `report-challenge-${String(++n).padStart(6, '0')}`;
  const now = new Date().toISOString();
  const challenge: Challenge = {
    tenantId,
    id,
    username: 'alice',
    userKnown: true,
    codeHash: 'h'.repeat(43),
    status: 'pending',
    createdAt: now,
    expiresAt: new Date(Date.now() + 300_000).toISOString(),
    attempts: 0,
    maxAttempts: 3,
    destination: '+45 •• •• •• 56',
    client: {},
    deliveries: [{ step: 0, channel: 'sms', route: 'default', status: 'dispatched', at: now, agentId }],
    chain: [rule],
    sealed: cloud.keys.seal(
      JSON.stringify({
        text: 'Your login code is 123456.',
        targets: { primary: '+4520123456', secondary: null, email: null },
        username: 'alice',
      }),
      chainSealContext(tenantId, id),
    ),
  };
  await cloud.stores.challenges.create(challenge);
  expect(await dispatcher.dispatch({ ...stepMessage(challenge, 0)!, agentId })).toBe('published');
  return published.at(-1)!;
}

async function agentOnline(extra: Record<string, unknown>) {
  const event = {
    v: 1,
    type: 'agent.online',
    at: new Date().toISOString(),
    version: '0.1.0',
    modemGroups: ['default'],
    ...extra,
  };
  const body = JSON.stringify({
    topic: eventsTopic({ stage: 'local', tenantId: cloud.seed.tenantId, agentId: cloud.seed.agent.agentId }),
    payload: Buffer.from(JSON.stringify(event)).toString('base64'),
    receivedAt: Date.now(),
  });
  expect(await events.process(body)).toBe('applied');
}

const sms = (requireDeliveryReport?: boolean): Rule => ({
  channel: 'sms_modem',
  target: 'primary',
  route: 'default',
  timeoutSeconds: 60,
  ...(requireDeliveryReport !== undefined && { requireDeliveryReport }),
});

it('sends version 1 to an agent that never said which versions it takes', async () => {
  const job = await dispatchStep0(sms());
  expect(job.v).toBe(1);
  expect(job).not.toHaveProperty('report');
});

it('asks a version 2 agent for a report only where the rule waits for one', async () => {
  await agentOnline({ jobVersions: [1, 2] });
  expect(
    (await cloud.stores.directory.getAgent(cloud.seed.tenantId, cloud.seed.agent.agentId))?.jobVersions,
  ).toEqual([1, 2]);
  expect(await dispatchStep0(sms())).toMatchObject({ v: 2, report: false });
  expect(await dispatchStep0(sms(false))).toMatchObject({ v: 2, report: false });
  expect(await dispatchStep0(sms(true))).toMatchObject({ v: 2, report: true });
});

it('goes back to version 1 when the agent comes back as an older one', async () => {
  await agentOnline({ jobVersions: [1, 2] });
  await agentOnline({});
  const job = await dispatchStep0(sms());
  expect(job.v).toBe(1);
});

it('leaves an unknown agent alone', async () => {
  const body = JSON.stringify({
    topic: `t/${cloud.seed.tenantId}/a/ghost/events`,
    payload: Buffer.from(
      JSON.stringify({
        v: 1,
        type: 'agent.online',
        at: new Date().toISOString(),
        version: '0.1.0',
        modemGroups: [],
        jobVersions: [1, 2],
      }),
    ).toString('base64'),
  });
  await events.process(body);
  expect(await cloud.stores.directory.getAgent(cloud.seed.tenantId, 'ghost')).toBeUndefined();
});
