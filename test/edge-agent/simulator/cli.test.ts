import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { encodeSubmit } from '../../../edge-agent/modem/sms/pdu.ts';
import { parseFault } from '../../../edge-agent/simulator/faults.ts';
import { RawClient } from './raw-client.ts';

function runCli(args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'edge-agent/simulator/cli.ts', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, out: () => stdout, err: () => stderr };
}

describe('npm run sim', () => {
  it('listens where it says, speaks AT with the injected fault, and stops on SIGTERM', async () => {
    const run = runCli([
      '--port',
      '0',
      '--name',
      'cli-sim',
      '--send-ms',
      '0',
      '--fault',
      '{"kind":"cms_error","code":42}',
    ]);
    const url = await new Promise<string>((resolve) => {
      run.child.stdout.on('data', () => {
        const m = /listening on (tcp:\/\/127\.0\.0\.1:\d+)/.exec(run.out());
        if (m) resolve(m[1]!);
      });
    });
    expect(run.out()).toContain('cli-sim');
    const client = await RawClient.connect(Number(new URL(url).port));
    expect(await client.type('ATE0;+CMEE=1\r', /OK\r\n/)).toContain('OK');
    const [part] = encodeSubmit({ to: '+4512345678', text: 'a' });
    await client.type(`AT+CMGS=${part!.tpduLength}\r`, /> $/);
    expect(await client.type(`${part!.pdu}\x1a`, /ERROR[^\r]*\r\n/)).toContain('+CMS ERROR: 42');
    client.close();
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
  });

  it('refuses bad options with a message and exit code 2', async () => {
    const run = runCli(['--port', 'eighty']);
    expect(await run.exited).toBe(2);
    expect(run.err()).toMatch(/--port must be a non-negative integer/);
    const fault = runCli(['--fault', '{"kind":"meltdown"}']);
    expect(await fault.exited).toBe(2);
    expect(fault.err()).toMatch(/not a known fault/);
  });
});

describe('fault parsing', () => {
  it('accepts every fault kind and rejects malformed ones', () => {
    expect(parseFault({ kind: 'cms_error', code: 500 })).toEqual({ kind: 'cms_error', code: 500 });
    expect(parseFault({ kind: 'slow', delayMs: 10 })).toEqual({ kind: 'slow', delayMs: 10 });
    expect(parseFault({ kind: 'garbled', everything: true })).toEqual({ kind: 'garbled', everything: true });
    expect(parseFault({ kind: 'sim_pin', pin: '1111' })).toEqual({ kind: 'sim_pin', pin: '1111' });
    for (const kind of ['no_network', 'hang', 'disconnect']) expect(parseFault({ kind })).toEqual({ kind });
    expect(parseFault(null)).toBeNull();
    expect(parseFault({ kind: 'cms_error' })).toBeUndefined();
    expect(parseFault({ kind: 'slow', delayMs: -1 })).toBeUndefined();
    expect(parseFault('hang')).toBeUndefined();
  });
});
