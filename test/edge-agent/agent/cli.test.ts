import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type CliIo, main } from '../../../edge-agent/cli.ts';
import { type RunningSimulator, startSimulator } from '../../../edge-agent/simulator/server.ts';
import { eventsTopic, jobsTopic } from '../../../functions/contracts/index.ts';
import { AGENT, agentPassword, observe, startTestBroker, TENANT } from './helpers.ts';

let dir: string;
let sim: RunningSimulator;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'agent-cli-'));
  sim = await startSimulator({ sendDelayMs: 1 });
});
afterEach(async () => {
  await sim.close();
  await rm(dir, { recursive: true, force: true });
});

function io(stopSignal?: Promise<string>) {
  const out: string[] = [];
  const err: string[] = [];
  const cli: CliIo = { stdout: (t) => out.push(t), stderr: (t) => err.push(t) };
  if (stopSignal) cli.stopSignal = stopSignal;
  return { cli, out: () => out.join(''), err: () => err.join('') };
}

async function configFile(
  overrides: Record<string, unknown> = {},
  brokerUrl = 'mqtt://127.0.0.1:1',
): Promise<string> {
  const file = path.join(dir, 'agent.json');
  await writeFile(
    file,
    JSON.stringify({
      tenantId: TENANT,
      agentId: AGENT,
      mqtt: { url: brokerUrl, username: `${TENANT}.${AGENT}`, password: agentPassword(TENANT, AGENT) },
      stateDir: 'state',
      modems: [{ id: 'sim0', group: 'g1', url: sim.url }],
      log: { level: 'error' },
      ...overrides,
    }),
  );
  return file;
}

describe('edge-agent CLI', () => {
  it('exits 2 and names each bad field of a bad config', async () => {
    const file = await configFile({ modems: [{ id: 'm1', group: 'g1', url: 'ttyUSB0' }], agentId: 'a b' });
    const t = io();
    expect(await main(['check', '--config', file], t.cli)).toBe(2);
    expect(t.err()).toContain('modems[0].url: must be tcp://host:port or a serial device path');
    expect(t.err()).toMatch(/agentId: /);
  });

  it('exits 2 on bad usage', async () => {
    const t = io();
    expect(await main(['launch', '--config', 'x.json'], t.cli)).toBe(2);
    expect(await main(['check'], t.cli)).toBe(2);
    expect(await main(['check', '--config', 'x.json', '--bogus'], t.cli)).toBe(2);
    expect(t.err()).toContain('usage:');
  });

  it('check probes each modem and prints its status', async () => {
    const t = io();
    expect(await main(['check', '--config', await configFile()], t.cli)).toBe(0);
    expect(t.out()).toMatch(/sim0 \(group g1\): healthy/);
  });

  it('send puts one SMS through the named modem and never echoes the text', async () => {
    const t = io();
    const code = await main(
      [
        'send',
        '--config',
        await configFile(),
        '--modem',
        'sim0',
        '--to',
        '+4520123456',
        '--text',
        'Code 424242',
      ],
      t.cli,
    );
    expect(code).toBe(0);
    expect(sim.sent.map((s) => ({ to: s.to, text: s.text }))).toEqual([
      { to: '+4520123456', text: 'Code 424242' },
    ]);
    expect(t.out()).toContain('+45••••••56');
    expect(t.out() + t.err()).not.toContain('424242');

    const unknown = io();
    expect(
      await main(
        ['send', '--config', await configFile(), '--modem', 'nope', '--to', '+4520123456', '--text', 'x'],
        unknown.cli,
      ),
    ).toBe(2);
    expect(unknown.err()).toContain('--modem: no modem with id "nope"');
  });

  it('run drives the real modem pool from MQTT jobs until asked to stop', async () => {
    const broker = await startTestBroker();
    const cloud = await observe(broker.url, [
      eventsTopic({ stage: 'local', tenantId: TENANT, agentId: AGENT }),
    ]);
    let stop!: (signal: string) => void;
    const t = io(new Promise((r) => (stop = r)));
    const running = main(['run', '--config', await configFile({}, broker.url)], t.cli);
    await cloud.waitFor((seen) => seen.some((m) => m.payload.includes('"agent.online"')));
    await cloud.client.publishAsync(
      jobsTopic({ stage: 'local', tenantId: TENANT, agentId: AGENT }),
      JSON.stringify({
        v: 1,
        id: 'cli-job',
        kind: 'sms',
        to: '+4520123456',
        text: 'Your code is 135790',
        flash: false,
        modemGroup: 'g1',
        expiresAt: new Date(Date.now() + 60_000).toISOString(),
      }),
      { qos: 1 },
    );
    await cloud.waitFor((seen) => seen.some((m) => m.payload.includes('"job.sent"')));
    expect(sim.sent.map((s) => s.text)).toEqual(['Your code is 135790']);
    stop('SIGTERM');
    expect(await running).toBe(0);
    await cloud.close();
    await broker.close();
  });
});
