/**
 * `npm run build:edge` makes a folder that runs on its own: copied out of the repository with only its declared
 * dependencies, `node index.mjs check|send` drives a simulated modem.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningSimulator, startSimulator } from '../../../edge-agent/simulator/server.ts';
import { type StandaloneAgent, stageStandaloneAgent } from './standalone-agent.ts';

const run = promisify(execFile);

/**
 * Optional packages that bundled code asks for inside try/catch and does without: debug's `supports-color`,
 * ws's native speed-ups. esbuild leaves such requires unresolved rather than failing the build.
 */
const OPTIONAL_AT_RUNTIME = new Set(['supports-color', 'bufferutil', 'utf-8-validate']);

let parent: string;
let agent: StandaloneAgent;
let sim: RunningSimulator;

beforeAll(async () => {
  parent = await mkdtemp(path.join(tmpdir(), 'edge-bundle-'));
  agent = await stageStandaloneAgent(parent);
  sim = await startSimulator({ name: 'sim-a', sendDelayMs: 0 });
}, 60_000);

afterAll(async () => {
  await sim?.close();
  if (parent) await rm(parent, { recursive: true, force: true });
});

async function writeConfig(name: string, modems: unknown[]): Promise<string> {
  const file = path.join(parent, name);
  const lines = [
    'tenantId: acme',
    'agentId: edge-1',
    'mqtt:',
    '  url: mqtt://127.0.0.1:1',
    '  username: acme.edge-1',
    '  password: unused-by-check',
    'stateDir: ./state',
    'log:',
    '  level: error',
    'modems:',
    ...modems.map((m) => `  - ${JSON.stringify(m)}`),
  ];
  await writeFile(file, `${lines.join('\n')}\n`);
  return file;
}

/** `node <folder>/index.mjs …` from a working directory outside the repository, with no NODE_PATH help. */
function agentCli(args: string[]) {
  const env = { ...process.env };
  delete env.NODE_PATH;
  delete env.NODE_OPTIONS;
  return run(process.execPath, [agent.entry, ...args], { cwd: parent, env, timeout: 20_000 }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (err: { code?: number; stdout?: string; stderr?: string }) => ({
      code: err.code ?? -1,
      stdout: err.stdout ?? '',
      stderr: err.stderr ?? '',
    }),
  );
}

describe('the edge agent folder from npm run build:edge', () => {
  it('declares every package the bundle leaves outside it, and nothing else', async () => {
    expect(Object.keys(agent.dependencies)).toEqual(['serialport']);
    const meta = JSON.parse(await readFile(agent.metafile, 'utf8')) as {
      outputs: Record<string, { imports: Array<{ path: string; external?: boolean }> }>;
    };
    const externals = Object.values(meta.outputs)
      .flatMap((o) => o.imports)
      .filter((i) => i.external)
      .map((i) => i.path);
    const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
    const undeclared = externals.filter((p) => {
      if (builtins.has(p) || OPTIONAL_AT_RUNTIME.has(p)) return false;
      const pkg = p.startsWith('@') ? p.split('/').slice(0, 2).join('/') : (p.split('/')[0] ?? p);
      return !(pkg in agent.dependencies);
    });
    expect(undeclared).toEqual([]);
    expect((await readFile(agent.entry, 'utf8')).startsWith('#!/usr/bin/env node\n')).toBe(true);
  });

  it('check probes a simulated modem over tcp:// and exits 0', async () => {
    const config = await writeConfig('check.yaml', [{ id: 'm1', group: 'g1', url: sim.url }]);
    const result = await agentCli(['check', '--config', config]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('configuration ok: tenant acme, agent edge-1, 1 modem(s)');
    expect(result.stdout).toMatch(/m1 \(group g1\): healthy, signal 21, registration home/);
  });

  it('send puts one SMS through the modem', async () => {
    const config = await writeConfig('send.yaml', [{ id: 'm1', group: 'g1', url: sim.url, mode: 'text' }]);
    const result = await agentCli([
      'send',
      '--config',
      config,
      '--modem',
      'm1',
      '--to',
      '+4520123456',
      '--text',
      'hi',
    ]);
    expect(result.code).toBe(0);
    expect(sim.sent.map((s) => ({ to: s.to, text: s.text, mode: s.mode }))).toEqual([
      { to: '+4520123456', text: 'hi', mode: 'text' },
    ]);
  });

  it('check exits 1 on a modem without network and 2 on a bad configuration', async () => {
    const lost = await startSimulator({ name: 'sim-b', sendDelayMs: 0 });
    lost.setFault({ kind: 'no_network' });
    const config = await writeConfig('down.yaml', [
      { id: 'm1', group: 'g1', url: sim.url },
      { id: 'm2', group: 'g1', url: lost.url },
    ]);
    const down = await agentCli(['check', '--config', config]).finally(() => lost.close());
    expect(down.code).toBe(1);
    expect(down.stdout).toContain('m1 (group g1): healthy');
    expect(down.stdout).toContain('m2 (group g1): NOT HEALTHY');
    const bad = await writeConfig('bad.yaml', [{ id: 'm1', group: 'g1', url: 'ttyUSB0' }]);
    const refused = await agentCli(['check', '--config', bad]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('modems[0].url: must be tcp://host:port or a serial device path');
  });
});
