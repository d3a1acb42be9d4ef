import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Agent, startAgent } from '../../../edge-agent/agent.ts';
import { type AgentConfig, parseConfig } from '../../../edge-agent/config.ts';
import { createLogger } from '../../../edge-agent/log.ts';
import { eventsTopic, jobsTopic, type SmsJob } from '../../../functions/contracts/index.ts';
import { FakeSender } from './fake-sender.ts';
import { AGENT, agentPassword, type Observer, observe, TENANT } from './helpers.ts';

/** What the suite needs from a broker: where it listens, and how to stop it. */
export interface BrokerUnderTest {
  url: string;
  close(): Promise<void>;
}

/**
 * The agent's behaviour over a real broker, run against every broker it must work with (aedes in-process,
 * Debian's mosquitto). Brokers must let `{tenant}.{agent}` / agentPassword() log in as the agent, and
 * the `service` user read and write everything.
 */
export function agentSuite(label: string, startBroker: () => Promise<BrokerUnderTest>): void {
  const address = { stage: 'local', tenantId: TENANT, agentId: AGENT };
  const PASSCODE_TEXT = 'Your code is 481516';

  let broker: BrokerUnderTest;
  let stateDir: string;
  let cloud: Observer;
  const logLines: string[] = [];
  const agents: Agent[] = [];

  beforeEach(async () => {
    broker = await startBroker();
    stateDir = await mkdtemp(path.join(tmpdir(), 'agent-test-'));
    cloud = await observe(broker.url, [eventsTopic(address)]);
  });

  afterEach(async () => {
    for (const a of agents.splice(0)) await a.stop();
    await cloud.close();
    await broker.close();
    await rm(stateDir, { recursive: true, force: true });
  });

  function config(): AgentConfig {
    return parseConfig({
      tenantId: TENANT,
      agentId: AGENT,
      mqtt: { url: broker.url, username: `${TENANT}.${AGENT}`, password: agentPassword(TENANT, AGENT) },
      stateDir,
      statusIntervalSeconds: 3600,
      modems: [{ id: 'm1', group: 'g1', url: 'tcp://127.0.0.1:4001' }],
    });
  }

  async function agent(sender: FakeSender): Promise<Agent> {
    const a = await startAgent({
      config: config(),
      sender,
      backoff: { initialMs: 10, maxMs: 100 },
      log: createLogger({ level: 'debug', write: (line) => logLines.push(line) }),
    });
    agents.push(a);
    await a.link.waitConnected();
    return a;
  }

  async function stop(a: Agent): Promise<void> {
    await a.stop();
    agents.splice(agents.indexOf(a), 1);
  }

  function job(id: string, overrides: Partial<Extract<SmsJob, { v: 1 }>> = {}): SmsJob {
    return {
      v: 1,
      id,
      kind: 'sms',
      to: '+4520123456',
      text: PASSCODE_TEXT,
      flash: false,
      modemGroup: 'g1',
      expiresAt: new Date(Date.now() + 300_000).toISOString(),
      ...overrides,
    };
  }

  async function publishJob(payload: SmsJob | string | Buffer): Promise<void> {
    const body = typeof payload === 'string' || Buffer.isBuffer(payload) ? payload : JSON.stringify(payload);
    await cloud.client.publishAsync(jobsTopic(address), body, { qos: 1 });
  }

  type Event = { type: string; jobId?: string; reason?: string; detail?: string; [k: string]: unknown };
  const events = (): Event[] => cloud.json(eventsTopic(address)) as Event[];
  const jobEvents = (jobId: string) => events().filter((e) => e.jobId === jobId);

  async function waitForEvent(jobId: string, type: string): Promise<Event> {
    await cloud.waitFor(() => jobEvents(jobId).some((e) => e.type === type));
    return jobEvents(jobId).find((e) => e.type === type)!;
  }

  describe(`edge agent over ${label}`, () => {
    it('sends a job exactly once and reports job.sent with the modem and message reference', async () => {
      const sender = new FakeSender();
      await agent(sender);
      await publishJob(job('job-1'));
      const sent = await waitForEvent('job-1', 'job.sent');
      expect(sent).toMatchObject({ v: 1, type: 'job.sent', jobId: 'job-1', modem: 'm1', messageRefs: [0] });
      expect(sender.sends).toEqual([
        { to: '+4520123456', text: PASSCODE_TEXT, flash: false, modemGroup: 'g1' },
      ]);
      expect(events().some((e) => e.type === 'agent.online')).toBe(true);
      expect(events().some((e) => e.type === 'modem.status' && e.modem === 'm1')).toBe(true);
    });

    it('sends a job delivered twice only once', async () => {
      const sender = new FakeSender();
      const a = await agent(sender);
      await publishJob(job('job-dup'));
      await publishJob(job('job-dup'));
      // jobs are handled in arrival order, so once the marker is sent the duplicate has been judged
      await publishJob(job('marker'));
      await waitForEvent('marker', 'job.sent');
      expect(sender.sends).toHaveLength(2);
      expect(jobEvents('job-dup').filter((e) => e.type === 'job.sent')).toHaveLength(1);
      expect(a.stats.duplicates).toBe(1);
    });

    it('does not send again after a restart with the same state folder', async () => {
      const first = new FakeSender();
      const a = await agent(first);
      await publishJob(job('job-r'));
      await waitForEvent('job-r', 'job.sent');
      await stop(a);

      const second = new FakeSender();
      const b = await agent(second);
      await publishJob(job('job-r'));
      await publishJob(job('marker'));
      await waitForEvent('marker', 'job.sent');
      expect(first.sends).toHaveLength(1);
      expect(second.sends.map((s) => s.text)).toEqual([PASSCODE_TEXT]);
      expect(b.stats.duplicates).toBe(1);
    });

    it('receives jobs queued while it was offline, exactly once, after it reconnects', async () => {
      const a = await agent(new FakeSender());
      await stop(a);
      for (const id of ['off-1', 'off-2', 'off-3']) await publishJob(job(id));

      const sender = new FakeSender();
      await agent(sender);
      for (const id of ['off-1', 'off-2', 'off-3']) await waitForEvent(id, 'job.sent');
      await publishJob(job('marker'));
      await waitForEvent('marker', 'job.sent');
      expect(sender.sends).toHaveLength(4);
      for (const id of ['off-1', 'off-2', 'off-3']) {
        expect(jobEvents(id).filter((e) => e.type === 'job.sent')).toHaveLength(1);
      }
    });

    it('reports an expired job as job.failed(expired) without sending it', async () => {
      const sender = new FakeSender();
      await agent(sender);
      await publishJob(job('old', { expiresAt: new Date(Date.now() - 1000).toISOString() }));
      const failed = await waitForEvent('old', 'job.failed');
      expect(failed).toMatchObject({ reason: 'expired' });
      expect(sender.sends).toHaveLength(0);
    });

    it('survives malformed payloads, counts them, and answers job.failed(invalid) when the id is usable', async () => {
      const sender = new FakeSender();
      const a = await agent(sender);
      await publishJob('not json {');
      await publishJob(JSON.stringify({ hello: 'world' }));
      await publishJob(Buffer.alloc(200_000, 0x7b));
      await publishJob(JSON.stringify({ ...job('bad-1'), to: 'call me' }));
      await publishJob(JSON.stringify([1, 2, 3]));
      await publishJob(job('marker'));
      await waitForEvent('marker', 'job.sent');
      expect(a.stats.malformed).toBe(4);
      expect(a.stats.invalid).toBe(1);
      const invalid = await waitForEvent('bad-1', 'job.failed');
      expect(invalid).toMatchObject({ reason: 'invalid' });
      expect(invalid.detail).toContain('to');
      expect(sender.sends).toHaveLength(1);
    });

    it('reports a send failure with its reason class', async () => {
      const sender = new FakeSender();
      sender.outcome = () => ({ ok: false, reason: 'permanent', detail: '+CMS ERROR: 21', modem: 'm1' });
      await agent(sender);
      await publishJob(job('nope'));
      expect(await waitForEvent('nope', 'job.failed')).toMatchObject({
        reason: 'permanent',
        detail: '+CMS ERROR: 21',
        modem: 'm1',
      });
    });

    it('maps a delivery report back to its job', async () => {
      const sender = new FakeSender();
      await agent(sender);
      await publishJob(job('dlr'));
      const sent = await waitForEvent('dlr', 'job.sent');
      const [ref] = sent.messageRefs as number[];
      sender.report({ modem: 'm1', messageRef: ref!, status: 0, at: new Date() });
      sender.report({ modem: 'm1', messageRef: 250, status: 0, at: new Date() });
      expect(await waitForEvent('dlr', 'job.delivered')).toMatchObject({
        modem: 'm1',
        messageRef: ref,
        status: 0,
      });
    });

    it('on stop, finishes the send in flight and flushes its result before disconnecting', async () => {
      const sender = new FakeSender();
      sender.hold();
      const a = await agent(sender);
      await publishJob(job('slow'));
      await sender.waitForSends(1);
      let stopped = false;
      const stopping = a.stop().then(() => {
        stopped = true;
      });
      for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
      expect(stopped).toBe(false);
      expect(a.inFlight).toBe(1);
      sender.release();
      await stopping;
      agents.splice(agents.indexOf(a), 1);
      await waitForEvent('slow', 'job.sent');
    });

    it('never logs the message text and masks the phone number', async () => {
      await agent(new FakeSender());
      await publishJob(job('log-1'));
      await waitForEvent('log-1', 'job.sent');
      const all = logLines.join('');
      expect(all).not.toContain('481516');
      expect(all).not.toContain('+4520123456');
    });

    it('reports a job that was mid-send when the agent process died as unknown, and does not send it again', async () => {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', path.join(import.meta.dirname, 'crash-child.ts')],
        {
          env: { ...process.env, BROKER_URL: broker.url, STATE_DIR: stateDir },
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      const exited = new Promise((r) => child.once('exit', r));
      let out = '';
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('CONNECTED')) resolve();
        });
        child.once('exit', () => reject(new Error(`child exited early: ${out}`)));
      });
      await publishJob(job('crash-1'));
      await new Promise<void>((resolve) => {
        const check = () => out.includes('SENDING') && resolve();
        child.stdout.on('data', check);
        check();
      });
      // the job is journalled as handed to the modem before AT+CMGS; kill -9 leaves it "handed"
      expect(await readFile(path.join(stateDir, 'jobs.journal'), 'utf8')).toContain('"crash-1"');
      child.kill('SIGKILL');
      await exited;

      const sender = new FakeSender();
      const a = await agent(sender);
      expect(await waitForEvent('crash-1', 'job.unknown')).toMatchObject({ modem: 'm1' });
      await publishJob(job('crash-1'));
      await publishJob(job('marker'));
      await waitForEvent('marker', 'job.sent');
      expect(sender.sends).toHaveLength(1);
      expect(a.stats.interruptedAtStart).toBe(1);
    });
  });
}
