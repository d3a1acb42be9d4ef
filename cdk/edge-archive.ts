/**
 * The edge agent as one self-contained archive per kind of box. On-prem boxes often cannot reach the npm
 * registry, so each archive carries the built agent with its runtime dependencies already in `node_modules`,
 * including `serialport`'s prebuilt native binding for that CPU only: nothing is compiled or downloaded on the
 * box, which needs Node 20 or newer and nothing else.
 */
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface EdgeTarget {
  /** The archive's suffix, e.g. `linux-arm64`. */
  name: string;
  /** Node's `process.arch` on such a box. */
  arch: 'x64' | 'arm64' | 'arm';
  /** The folder of `@serialport/bindings-cpp/prebuilds` that holds its binaries. */
  prebuilds: string;
  /** Which binaries of that folder it keeps (a 32-bit ARM folder holds armv6 and armv7 builds). */
  keep: RegExp;
  /** What boxes it fits, for the README and the build's output. */
  boxes: string;
}

export const EDGE_TARGETS: readonly EdgeTarget[] = [
  {
    name: 'linux-x64',
    arch: 'x64',
    prebuilds: 'linux-x64',
    keep: /\.node$/,
    boxes: 'PCs, NUCs and thin clients with a 64-bit Intel or AMD CPU (glibc or musl)',
  },
  {
    name: 'linux-arm64',
    arch: 'arm64',
    prebuilds: 'linux-arm64',
    keep: /\.node$/,
    boxes: 'Raspberry Pi 3, 4 and 5 with a 64-bit OS, and other 64-bit ARM boards',
  },
  {
    name: 'linux-armv7',
    arch: 'arm',
    prebuilds: 'linux-arm',
    keep: /armv7/,
    boxes: 'Raspberry Pi 2, 3 and 4 with a 32-bit OS (armhf), and other ARMv7 boards',
  },
];

/** `name` resolved as Node would from inside `fromDir`: its own node_modules first, then each parent's. */
async function packageDir(name: string, fromDir: string, root: string): Promise<string> {
  for (let dir = fromDir; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (
      await stat(candidate).then(
        (s) => s.isDirectory(),
        () => false,
      )
    )
      return candidate;
    if (dir === root || dir === path.dirname(dir)) break;
  }
  throw new Error(`${name} is not installed (looked from ${fromDir}); run npm install first`);
}

/** The installed folders of `names` and everything they depend on at runtime. */
export async function dependencyClosure(
  names: readonly string[],
  root: string,
): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  const visit = async (name: string, fromDir: string) => {
    const dir = await packageDir(name, fromDir, root);
    if (found.has(name)) return;
    found.set(name, dir);
    const manifest = JSON.parse(await readFile(path.join(dir, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
    };
    for (const dep of Object.keys(manifest.dependencies ?? {})) await visit(dep, dir);
  };
  for (const name of names) await visit(name, root);
  return found;
}

/**
 * Makes `smspass-edge-agent-<version>-<target>.tar.gz` for each target from the built agent folder: the folder
 * itself (index.mjs, package.json, the systemd unit) plus `node_modules` with the native dependencies' closure,
 * keeping only the target's prebuilt binaries.
 */
export async function buildEdgeArchives(options: {
  agentDir: string;
  outDir: string;
  version: string;
  nativeDependencies: readonly string[];
  root: string;
  targets?: readonly EdgeTarget[];
}): Promise<Array<{ target: EdgeTarget; file: string; bytes: number }>> {
  const closure = await dependencyClosure(options.nativeDependencies, options.root);
  const made: Array<{ target: EdgeTarget; file: string; bytes: number }> = [];
  await mkdir(options.outDir, { recursive: true });
  for (const target of options.targets ?? EDGE_TARGETS) {
    const staging = await mkdtemp(path.join(tmpdir(), `smspass-edge-${target.name}-`));
    try {
      const top = path.join(staging, 'smspass-edge-agent');
      await cp(options.agentDir, top, { recursive: true });
      for (const [name, dir] of closure) {
        const into = path.join(top, 'node_modules', name);
        await cp(dir, into, {
          recursive: true,
          dereference: true,
          // A package's own nested node_modules are copied as packages of the closure, not twice.
          filter: (source) => !path.relative(dir, source).split(path.sep).includes('node_modules'),
        });
        const prebuilds = path.join(into, 'prebuilds');
        if (!(await stat(prebuilds).catch(() => undefined))) continue;
        for (const platform of await readdir(prebuilds)) {
          const folder = path.join(prebuilds, platform);
          if (platform !== target.prebuilds) {
            await rm(folder, { recursive: true, force: true });
            continue;
          }
          for (const file of await readdir(folder))
            if (!target.keep.test(file)) await rm(path.join(folder, file), { force: true });
        }
      }
      const file = path.join(options.outDir, `smspass-edge-agent-${options.version}-${target.name}.tar.gz`);
      await run('tar', ['-czf', file, '--owner=0', '--group=0', '-C', staging, 'smspass-edge-agent']);
      made.push({ target, file, bytes: (await stat(file)).size });
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }
  return made;
}
