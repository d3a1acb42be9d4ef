/**
 * The configured `mode` (pdu | text | auto) reaches the AT driver: through the driver itself, and from a config
 * file through the CLI's modem pool, each against the simulator.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type CliIo, main } from '../../../../edge-agent/cli.ts';
import { PduModeRefusedError } from '../../../../edge-agent/modem/at/errors.ts';
import { type RunningSimulator, startSimulator } from '../../../../edge-agent/simulator/server.ts';
import { type Harness, startHarness, typedCommands } from './driver-harness.ts';

let h: Harness | undefined;
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  await h?.close();
  h = undefined;
  for (const c of cleanups.splice(0).reverse()) await c();
});

const modeCommands = (sim: RunningSimulator) => typedCommands(sim).filter((c) => c.startsWith('AT+CMGF'));

describe('AtDriver mode', () => {
  it('text: uses text mode on a modem that would take PDU mode, and never asks for PDU mode', async () => {
    h = await startHarness({}, { mode: 'text' });
    expect((await h.driver.init()).mode).toBe('text');
    await h.driver.sendSms({ to: '+4512345678', text: 'Your code is 123456' });
    expect(h.sim.sent).toMatchObject([{ text: 'Your code is 123456', mode: 'text' }]);
    expect(modeCommands(h.sim)).toEqual(['AT+CMGF=1']);
  });

  it('pdu: a modem that refuses PDU mode is a broken modem, not a text-mode one', async () => {
    h = await startHarness({ textModeOnly: true }, { mode: 'pdu' });
    const error = await h.driver.init().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PduModeRefusedError);
    expect(error).toMatchObject({ kind: 'modem', code: 'pdu_mode_refused' });
    await expect(h.driver.sendSms({ to: '+4512345678', text: 'hi' })).rejects.toBeInstanceOf(
      PduModeRefusedError,
    );
    expect(h.sim.sent).toEqual([]);
    expect(modeCommands(h.sim)).not.toContain('AT+CMGF=1');
  });

  it('pdu: a modem that takes PDU mode sends in PDU mode', async () => {
    h = await startHarness({}, { mode: 'pdu' });
    await h.driver.sendSms({ to: '+4512345678', text: 'hi' });
    expect(h.sim.sent).toMatchObject([{ text: 'hi', mode: 'pdu' }]);
  });

  it('auto (the default): PDU mode, and text mode when the modem refuses PDU mode', async () => {
    h = await startHarness({ textModeOnly: true }, { mode: 'auto' });
    expect((await h.driver.init()).mode).toBe('text');
    expect(modeCommands(h.sim)).toEqual(['AT+CMGF=0', 'AT+CMGF=1']);
  });
});

describe('mode from the config file', () => {
  async function sendThroughCli(sim: RunningSimulator, mode: string) {
    const dir = await mkdtemp(path.join(tmpdir(), 'agent-mode-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'agent.json');
    await writeFile(
      file,
      JSON.stringify({
        tenantId: 'acme',
        agentId: 'edge-1',
        mqtt: { url: 'mqtt://127.0.0.1:1', username: 'acme.edge-1', password: 'unused' },
        stateDir: 'state',
        modems: [{ id: 'm1', group: 'g1', url: sim.url, mode }],
        log: { level: 'error' },
      }),
    );
    const out: string[] = [];
    const io: CliIo = { stdout: (t) => out.push(t), stderr: (t) => out.push(t) };
    const code = await main(
      ['send', '--config', file, '--modem', 'm1', '--to', '+4520123456', '--text', 'x'],
      io,
    );
    return { code, output: out.join('') };
  }

  async function simulator(textModeOnly = false) {
    const sim = await startSimulator({ sendDelayMs: 0, textModeOnly });
    cleanups.push(() => sim.close());
    return sim;
  }

  it('mode: text reaches the driver', async () => {
    const sim = await simulator();
    expect((await sendThroughCli(sim, 'text')).code).toBe(0);
    expect(sim.sent.map((s) => s.mode)).toEqual(['text']);
  });

  it('mode: pdu refuses to fall back on a text-only modem, and the send fails', async () => {
    const sim = await simulator(true);
    const { code, output } = await sendThroughCli(sim, 'pdu');
    expect(code).toBe(1);
    expect(output).toContain('not sent');
    expect(sim.sent).toEqual([]);
    expect(modeCommands(sim)).not.toContain('AT+CMGF=1');
  });

  it('mode: auto falls back on the same modem', async () => {
    const sim = await simulator(true);
    expect((await sendThroughCli(sim, 'auto')).code).toBe(0);
    expect(sim.sent.map((s) => s.mode)).toEqual(['text']);
  });
});
