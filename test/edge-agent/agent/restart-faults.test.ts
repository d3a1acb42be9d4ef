/**
 * The agent process under faults, end to end: the real `edge-agent run` in a child process, simulated modems
 * (TCP, as behind a serial-to-IP converter) and aedes here. Counted at the modems, by the job id inside each
 * text: every job is sent exactly once, except at most one per modem that was really mid-send at a `kill -9`,
 * which is reported `job.unknown` and never sent again. Prints the figures (SMS sent, duplicates, unknown,
 * lost, time to drain) for quoting.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type RunningSimulator, startSimulator } from '../../../edge-agent/simulator/server.ts';
import { eventsTopic, jobsTopic, type SmsJob } from '../../../functions/contracts/index.ts';
import type { Broker } from '../../../functions/local/broker.ts';
import { AGENT, agentPassword, type Observer, observe, startTestBroker, TENANT } from './helpers.ts';

const REPO = path.join(import.meta.dirname, '../../..');
const CLI = path.join(REPO, 'edge-agent/cli.ts');
const address = { stage: 'local', tenantId: TENANT, agentId: AGENT };

interface AgentProcess {
  child: ChildProcess;
  exited: Promise<number | null>;
  stderr: () => string;
}

interface JobEvent {
  type: string;
  jobId?: string;
  modem?: string;
  reason?: string;
  healthy?: boolean;
}

let broker: Broker;
let dir: string;
let cloud: Observer;
let sims: RunningSimulator[] = [];
const children: ChildProcess[] = [];

beforeEach(async () => {
  broker = await startTestBroker();
  dir = await mkdtemp(path.join(tmpdir(), 'agent-faults-'));
  cloud = await observe(broker.url, [eventsTopic(address)]);
});

afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  await cloud.close();
  await Promise.all(sims.map((s) => s.close()));
  sims = [];
  await broker.close();
  await rm(dir, { recursive: true, force: true });
});

const events = (): JobEvent[] => cloud.json(eventsTopic(address)) as JobEvent[];

async function startSims(count: number, sendDelayMs: number): Promise<void> {
  sims = await Promise.all(
    Array.from({ length: count }, (_, i) => startSimulator({ name: `m${i + 1}`, sendDelayMs })),
  );
}

/** Starts `edge-agent run` and resolves once every modem reported healthy on this connection. */
async function startAgent(): Promise<AgentProcess> {
  const config = path.join(dir, 'agent.json');
  await writeFile(
    config,
    JSON.stringify({
      tenantId: TENANT,
      agentId: AGENT,
      mqtt: { url: broker.url, username: `${TENANT}.${AGENT}`, password: agentPassword(TENANT, AGENT) },
      stateDir: 'state',
      statusIntervalSeconds: 3600,
      modems: sims.map((s) => ({ id: s.name, group: 'g1', url: s.url })),
      log: { level: 'info' },
    }),
  );
  const seenBefore = cloud.seen.length;
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'run', '--config', config], {
    // tsx resolves from here; the config's relative stateDir from the config's own folder
    cwd: REPO,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.push(child);
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const healthy = () => {
    const fresh = cloud.seen.slice(seenBefore).map((m) => JSON.parse(m.payload) as JobEvent);
    return sims.every((s) => fresh.some((e) => e.type === 'modem.status' && e.modem === s.name && e.healthy));
  };
  await Promise.race([
    cloud.waitFor(healthy),
    exited.then((code) => {
      throw new Error(`agent exited (${code}) before its modems were healthy:\n${stderr}`);
    }),
  ]);
  return { child, exited, stderr: () => stderr };
}

function job(id: string): SmsJob {
  return {
    v: 1,
    id,
    kind: 'sms',
    to: '+4520123456',
    text: `Your code is 123456 (${id})`,
    flash: false,
    modemGroup: 'g1',
    expiresAt: new Date(Date.now() + 10 * 60_000).toISOString(),
  };
}

async function publishBurst(ids: string[]): Promise<void> {
  const topic = jobsTopic(address);
  await Promise.all(ids.map((id) => cloud.client.publishAsync(topic, JSON.stringify(job(id)), { qos: 1 })));
}

/** The result events of each job (sent / failed / unknown), as the cloud heard them. */
function results(): Map<string, Set<string>> {
  const byJob = new Map<string, Set<string>>();
  for (const e of events()) {
    if (!e.jobId || !['job.sent', 'job.failed', 'job.unknown'].includes(e.type)) continue;
    const set = byJob.get(e.jobId) ?? new Set<string>();
    set.add(e.type);
    byJob.set(e.jobId, set);
  }
  return byJob;
}

/** SMS per job at the modems, by the id inside the text. */
function smsAtModems(): Map<string, number> {
  const perJob = new Map<string, number>();
  for (const sim of sims) {
    for (const sms of sim.sent) {
      const id = /\(([^)]+)\)$/.exec(sms.text)?.[1];
      if (id) perJob.set(id, (perJob.get(id) ?? 0) + 1);
    }
  }
  return perJob;
}

interface Tally {
  jobs: number;
  smsSent: number;
  duplicates: number;
  unknown: number;
  unknownThatWentOut: number;
  failed: number;
  lost: number;
}

function tally(ids: string[]): Tally {
  const byJob = results();
  const sms = smsAtModems();
  const t: Tally = {
    jobs: ids.length,
    smsSent: 0,
    duplicates: 0,
    unknown: 0,
    unknownThatWentOut: 0,
    failed: 0,
    lost: 0,
  };
  for (const id of ids) {
    const count = sms.get(id) ?? 0;
    const reported = byJob.get(id) ?? new Set();
    t.smsSent += count;
    t.duplicates += Math.max(0, count - 1);
    if (reported.has('job.failed')) t.failed++;
    if (reported.has('job.unknown')) {
      t.unknown++;
      if (count > 0) t.unknownThatWentOut++;
    } else if (count === 0) {
      // neither sent nor owned up to as "may have gone out"
      t.lost++;
    }
  }
  return t;
}

describe('edge agent process faults', () => {
  for (const modems of [1, 4]) {
    it(`kill -9 mid-burst (${modems} modem(s)), restart: nothing lost, nothing sent twice, only mid-send jobs unknown`, async () => {
      await startSims(modems, 100);
      const first = await startAgent();
      const ids = Array.from({ length: 100 }, (_, i) => `k${modems}-${String(i).padStart(3, '0')}`);
      await publishBurst(ids);
      // a fifth of the burst out, the rest journalled and queued at the modems
      await cloud.waitFor(() => events().filter((e) => e.type === 'job.sent').length >= 20);
      first.child.kill('SIGKILL');
      await first.exited;
      const sentBeforeKill = new Set(
        events()
          .filter((e) => e.type === 'job.sent')
          .map((e) => e.jobId),
      );

      const second = await startAgent();
      await cloud.waitFor(() => {
        const byJob = results();
        return ids.every((id) => byJob.has(id));
      });
      const t = tally(ids);
      console.log(
        `kill -9 mid-burst, ${modems} modem(s), 100 jobs: ${sentBeforeKill.size} reported sent before the kill; ` +
          `after the restart: SMS sent ${t.smsSent}, duplicates ${t.duplicates}, unknown ${t.unknown} ` +
          `(${t.unknownThatWentOut} of them went out), failed ${t.failed}, lost ${t.lost}`,
      );
      expect(t.lost).toBe(0);
      expect(t.failed).toBe(0);
      expect(t.duplicates).toBe(0);
      // at most the job at each modem was mid-send; every other job went out exactly once
      expect(t.unknown).toBeLessThanOrEqual(modems);
      expect(t.smsSent).toBeGreaterThanOrEqual(ids.length - t.unknown);
      for (const [id, types] of results()) if (ids.includes(id)) expect(types.size, id).toBe(1);
      second.child.kill('SIGTERM');
      expect(await second.exited).toBe(0);
    }, 180_000);
  }

  it('SIGTERM with a full queue: finishes the sends at the modem, keeps the queue, and the next start sends it', async () => {
    await startSims(1, 100);
    const first = await startAgent();
    const ids = Array.from({ length: 70 }, (_, i) => `t-${String(i).padStart(3, '0')}`);
    await publishBurst(ids);
    await cloud.waitFor(() => events().filter((e) => e.type === 'job.sent').length >= 3);
    const termAt = performance.now();
    first.child.kill('SIGTERM');
    const code = await first.exited;
    const drainMs = performance.now() - termAt;
    const sentBeforeStop = results().size;
    expect(code).toBe(0);
    expect(first.stderr()).toContain('agent stopped');
    expect(first.stderr()).not.toContain('stop deadline passed');
    // nothing was failed or handed back: what did not go out waits in the journal
    expect(events().filter((e) => e.type === 'job.failed' || e.type === 'job.unknown')).toEqual([]);

    const second = await startAgent();
    await cloud.waitFor(() => {
      const byJob = results();
      return ids.every((id) => byJob.has(id));
    });
    const t = tally(ids);
    console.log(
      `SIGTERM with 70 jobs queued on 1 modem (100 ms per SMS): stopped in ${drainMs.toFixed(0)} ms ` +
        `with ${sentBeforeStop} sent, the rest kept; after the next start: SMS sent ${t.smsSent}, ` +
        `duplicates ${t.duplicates}, unknown ${t.unknown}, failed ${t.failed}, lost ${t.lost}`,
    );
    expect(t).toMatchObject({ smsSent: 70, duplicates: 0, unknown: 0, failed: 0, lost: 0 });
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  }, 180_000);
});
