/**
 * The edge agent archives as a sysadmin gets them: one per kind of box, each self-contained. Unpacked outside
 * the repository (so nothing can come from its node_modules), the archive for this machine's CPU runs the agent
 * and loads serialport's prebuilt native binding with no npm and no compiler; the others carry only their own
 * CPU's binaries.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildEdgeAgent, REPO_ROOT } from '../../../cdk/build.ts';
import { buildEdgeArchives, EDGE_TARGETS } from '../../../cdk/edge-archive.ts';
import { EDGE_AGENT } from '../../../cdk/functions.ts';

const run = promisify(execFile);

let parent: string;
let archives: Awaited<ReturnType<typeof buildEdgeArchives>>;

beforeAll(async () => {
  parent = await mkdtemp(path.join(tmpdir(), 'edge-archives-'));
  const agentDir = path.join(parent, 'edge-agent');
  await buildEdgeAgent({ outDir: agentDir });
  archives = await buildEdgeArchives({
    agentDir,
    outDir: path.join(parent, 'dist'),
    version: '0.0.0-test',
    nativeDependencies: EDGE_AGENT.nativeDependencies,
    root: REPO_ROOT,
  });
}, 120_000);

afterAll(async () => {
  if (parent) await rm(parent, { recursive: true, force: true });
});

const listing = async (file: string) => (await run('tar', ['-tzf', file])).stdout.split('\n');

describe('edge agent archives', () => {
  it('makes one archive for each kind of box: x64, arm64 and armv7', () => {
    expect(archives.map((a) => path.basename(a.file))).toEqual([
      'smspass-edge-agent-0.0.0-test-linux-x64.tar.gz',
      'smspass-edge-agent-0.0.0-test-linux-arm64.tar.gz',
      'smspass-edge-agent-0.0.0-test-linux-armv7.tar.gz',
    ]);
  });

  it("carries the agent, its unit and serialport's binaries for its own CPU only", async () => {
    for (const { target, file } of archives) {
      const entries = await listing(file);
      expect(entries).toContain('smspass-edge-agent/index.mjs');
      expect(entries).toContain('smspass-edge-agent/smspass-edge-agent.service');
      expect(entries).toContain('smspass-edge-agent/node_modules/serialport/package.json');
      const binaries = entries.filter((e) => e.endsWith('.node'));
      expect(binaries.length, target.name).toBeGreaterThan(0);
      for (const binary of binaries) {
        expect(binary, target.name).toContain(`/prebuilds/${target.prebuilds}/`);
        expect(binary, target.name).toMatch(target.keep);
      }
    }
    const armv7 = await listing(archives.find((a) => a.target.name === 'linux-armv7')!.file);
    expect(armv7.some((e) => e.includes('armv6'))).toBe(false);
  });

  const mine = EDGE_TARGETS.find((t) => t.arch === process.arch);
  it.skipIf(!mine || process.platform !== 'linux')(
    'runs from the archive for this CPU, unpacked away from the repository, with no npm install',
    async () => {
      const box = await mkdtemp(path.join(tmpdir(), 'edge-box-'));
      try {
        const archive = archives.find((a) => a.target === mine)!;
        await run('tar', ['-xzf', archive.file, '-C', box]);
        const dir = path.join(box, 'smspass-edge-agent');
        const usage = await run(process.execPath, ['index.mjs'], { cwd: dir }).catch(
          (e: { stdout: string; stderr: string }) => e,
        );
        expect(`${usage.stdout}${usage.stderr}`).toContain('edge-agent run');
        // The native binding is loaded (node-gyp-build picks the prebuilt file) and the port class is there.
        const loaded = await run(
          process.execPath,
          [
            '--input-type=module',
            '-e',
            "await import('@serialport/bindings-cpp'); const { SerialPort } = await import('serialport'); console.log(typeof SerialPort)",
          ],
          { cwd: dir },
        );
        expect(loaded.stdout.trim()).toBe('function');
      } finally {
        await rm(box, { recursive: true, force: true });
      }
    },
    60_000,
  );
});
