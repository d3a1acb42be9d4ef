/**
 * A job whose agent died mid-send (`kill -9` of the real `edge-agent run`) is reported `job.unknown` by the next
 * process; when the simulated modem's delivery report for it arrives after the restart (its message reference
 * died with the first process), the journal's modem and keyed recipient hash still tie it to the job, and the
 * agent reports `job.delivered` for it. The journal never holds the number in clear.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { type RunningSimulator, startSimulator } from '../../../edge-agent/simulator/server.ts';
import { eventsTopic, jobsTopic, type SmsJob } from '../../../functions/contracts/index.ts';
import type { Broker } from '../../../functions/local/broker.ts';
import { AGENT, agentPassword, type Observer, observe, startTestBroker, TENANT } from './helpers.ts';

const REPO = path.join(import.meta.dirname, '../../..');
const CLI = path.join(REPO, 'edge-agent/cli.ts');
const address = { stage: 'local', tenantId: TENANT, agentId: AGENT };
const TO = '+4520123456';

interface JobEvent {
  type: string;
  jobId?: string;
  modem?: string;
  healthy?: boolean;
  status?: number;
}

let broker: Broker;
let dir: string;
let cloud: Observer;
let sim: RunningSimulator;
const children: ChildProcess[] = [];

beforeEach(async () => {
  broker = await startTestBroker();
  dir = await mkdtemp(path.join(tmpdir(), 'agent-unknown-'));
  cloud = await observe(broker.url, [eventsTopic(address)]);
});

afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  await cloud.close();
  await sim.close();
  await broker.close();
  await rm(dir, { recursive: true, force: true });
});

const events = (): JobEvent[] => cloud.json(eventsTopic(address)) as JobEvent[];

/** Starts `edge-agent run`; resolves once its modem reported healthy on this connection. */
async function startAgent() {
  const config = path.join(dir, 'agent.json');
  await writeFile(
    config,
    JSON.stringify({
      tenantId: TENANT,
      agentId: AGENT,
      mqtt: { url: broker.url, username: `${TENANT}.${AGENT}`, password: agentPassword(TENANT, AGENT) },
      stateDir: 'state',
      statusIntervalSeconds: 3600,
      modems: [{ id: sim.name, group: 'g1', url: sim.url }],
      log: { level: 'info' },
    }),
  );
  const seenBefore = cloud.seen.length;
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'run', '--config', config], {
    cwd: REPO,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.push(child);
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const healthy = () =>
    cloud.seen
      .slice(seenBefore)
      .map((m) => JSON.parse(m.payload) as JobEvent)
      .some((e) => e.type === 'modem.status' && e.modem === sim.name && e.healthy);
  await Promise.race([
    cloud.waitFor(healthy),
    exited.then((code) => {
      throw new Error(`agent exited (${code}) before its modem was healthy:\n${stderr}`);
    }),
  ]);
  return { child, exited };
}

const job = (id: string): SmsJob => ({
  v: 1,
  id,
  kind: 'sms',
  to: TO,
  text: `Your code is 123456 (${id})`,
  flash: false,
  modemGroup: 'g1',
  expiresAt: new Date(Date.now() + 10 * 60_000).toISOString(),
});

it('confirms a job of unknown outcome with the delivery report that arrives after the restart', async () => {
  // the network takes a second per SMS, so the kill lands while the modem holds the whole message
  sim = await startSimulator({ name: 'm1', sendDelayMs: 1000, deliveryDelayMs: 50 });
  const first = await startAgent();
  const typed = sim.transcript.length;
  await cloud.client.publishAsync(jobsTopic(address), JSON.stringify(job('u-1')), { qos: 1 });
  // the PDU and its Ctrl-Z reached the modem: the send is in the network's hands now
  while (!sim.transcript.slice(typed).some((t) => t.dir === 'in' && String(t.data).includes('\x1a')))
    await new Promise((r) => setTimeout(r, 5));
  first.child.kill('SIGKILL');
  await first.exited;
  expect(events().some((e) => e.jobId === 'u-1')).toBe(false);

  // the journal's handed line names the modem and a keyed hash of the number, never the number
  const journal = await readFile(path.join(dir, 'state', 'jobs.journal'), 'utf8');
  const handed = journal
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { id: string; s: string; m?: string; r?: string })
    .find((l) => l.id === 'u-1' && l.s === 'h');
  expect(handed).toMatchObject({ m: 'm1', r: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/) });
  expect(journal).not.toContain(TO.slice(1));

  const second = await startAgent();
  await cloud.waitFor(() => events().some((e) => e.jobId === 'u-1' && e.type === 'job.delivered'));
  const forJob = events().filter((e) => e.jobId === 'u-1');
  expect(forJob.map((e) => e.type)).toEqual(['job.unknown', 'job.delivered']);
  expect(forJob[1]).toMatchObject({ modem: 'm1', status: 0 });
  // it went out once, and only once
  expect(sim.sent.filter((s) => s.text.endsWith('(u-1)'))).toHaveLength(1);
  second.child.kill('SIGTERM');
  expect(await second.exited).toBe(0);
}, 120_000);
