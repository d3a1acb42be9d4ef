/**
 * Job versions on the agent: a version 2 job says whether to ask for a delivery report, a version 1 job always
 * asks (as every agent did), and a version the agent does not know is refused with a reason that names it. The
 * agent announces the versions it takes in `agent.online`. Over aedes, with a sender that records what it got.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { type Agent, startAgent } from '../../../edge-agent/agent.ts';
import { parseConfig } from '../../../edge-agent/config.ts';
import { silentLogger } from '../../../edge-agent/log.ts';
import type { SendHooks, SendOutcome } from '../../../edge-agent/ports.ts';
import { eventsTopic, jobsTopic } from '../../../functions/contracts/index.ts';
import { FakeSender } from './fake-sender.ts';
import { AGENT, agentPassword, type Observer, observe, startTestBroker, TENANT } from './helpers.ts';

/** Records the report flag of each send, which the plain fake drops. */
class ReportingSender extends FakeSender {
  readonly reports: Array<boolean | undefined> = [];
  override send(
    job: Parameters<FakeSender['send']>[0] & { report?: boolean | undefined },
    signal?: AbortSignal,
    hooks?: SendHooks,
  ): Promise<SendOutcome> {
    this.reports.push(job.report);
    return super.send(job, signal, hooks);
  }
}

const address = { stage: 'local', tenantId: TENANT, agentId: AGENT };
let broker: Awaited<ReturnType<typeof startTestBroker>>;
let cloud: Observer;
let stateDir: string;
let agent: Agent | undefined;

beforeEach(async () => {
  broker = await startTestBroker();
  stateDir = await mkdtemp(path.join(tmpdir(), 'job-versions-'));
  cloud = await observe(broker.url, [eventsTopic(address)]);
});
afterEach(async () => {
  await agent?.stop();
  agent = undefined;
  await cloud.close();
  await broker.close();
  await rm(stateDir, { recursive: true, force: true });
});

async function start(sender: FakeSender): Promise<Agent> {
  agent = await startAgent({
    config: parseConfig({
      tenantId: TENANT,
      agentId: AGENT,
      mqtt: { url: broker.url, username: `${TENANT}.${AGENT}`, password: agentPassword(TENANT, AGENT) },
      stateDir,
      statusIntervalSeconds: 3600,
      modems: [{ id: 'm1', group: 'g1', url: 'tcp://127.0.0.1:4001' }],
    }),
    sender,
    backoff: { initialMs: 10, maxMs: 100 },
    log: silentLogger,
  });
  await agent.link.waitConnected();
  return agent;
}

const job = (id: string, extra: Record<string, unknown>) => ({
  id,
  kind: 'sms',
  to: '+4520123456',
  text: 'Your code is 481516',
  flash: false,
  modemGroup: 'g1',
  expiresAt: new Date(Date.now() + 300_000).toISOString(),
  ...extra,
});

type Event = { type: string; jobId?: string; reason?: string; detail?: string; jobVersions?: number[] };
const events = () => cloud.json(eventsTopic(address)) as Event[];
async function outcome(jobId: string): Promise<Event> {
  await cloud.waitFor(() => events().some((e) => e.jobId === jobId));
  return events().find((e) => e.jobId === jobId)!;
}

it('asks for a delivery report only when a version 2 job says so, and always for version 1', async () => {
  const sender = new ReportingSender();
  await start(sender);
  const publish = (body: unknown) =>
    cloud.client.publishAsync(jobsTopic(address), JSON.stringify(body), { qos: 1 });
  await publish(job('v2-no', { v: 2, report: false }));
  await publish(job('v2-yes', { v: 2, report: true }));
  await publish(job('v1', { v: 1 }));
  for (const id of ['v2-no', 'v2-yes', 'v1']) expect((await outcome(id)).type).toBe('job.sent');
  expect(sender.reports).toEqual([false, true, true]);
  expect(events().find((e) => e.type === 'agent.online')?.jobVersions).toEqual([1, 2]);
});

it('refuses a job of an unknown version, saying which, and a version 2 job without its report flag', async () => {
  const sender = new ReportingSender();
  await start(sender);
  const publish = (body: unknown) =>
    cloud.client.publishAsync(jobsTopic(address), JSON.stringify(body), { qos: 1 });
  await publish(job('v3', { v: 3, report: false, priority: 1 }));
  await publish(job('v2-bare', { v: 2 }));
  await publish(job('v1-extra', { v: 1, report: false }));
  const v3 = await outcome('v3');
  expect(v3).toMatchObject({ type: 'job.failed', reason: 'invalid' });
  expect(v3.detail).toContain('unsupported job version 3');
  expect(await outcome('v2-bare')).toMatchObject({ type: 'job.failed', reason: 'invalid' });
  // version 1 stays exactly as old agents parse it: the new field is not part of it
  expect(await outcome('v1-extra')).toMatchObject({ type: 'job.failed', reason: 'invalid' });
  expect(sender.reports).toEqual([]);
});
