/**
 * The edge agent folder as an operator gets it: `npm run build:edge` output in a folder of its own, outside the
 * repository, with its dependencies installed. `npm install --omit=dev` is stood in for offline by linking each
 * dependency its package.json names to the repository's installed copy.
 */
import { mkdir, readFile, symlink } from 'node:fs/promises';
import path from 'node:path';
import { buildEdgeAgent, REPO_ROOT } from '../../../cdk/build.ts';

export interface StandaloneAgent {
  /** The folder that would be copied to the box. */
  dir: string;
  /** `<dir>/index.mjs`. */
  entry: string;
  /** esbuild's metafile of the bundle (outside `dir`, as the build leaves it). */
  metafile: string;
  /** The systemd unit inside `dir`. */
  serviceUnit: string;
  dependencies: Record<string, string>;
}

export async function stageStandaloneAgent(parent: string): Promise<StandaloneAgent> {
  const dir = path.join(parent, 'edge-agent');
  const built = await buildEdgeAgent({ outDir: dir });
  const { dependencies = {} } = JSON.parse(await readFile(built.packageJson, 'utf8')) as {
    dependencies?: Record<string, string>;
  };
  await mkdir(path.join(dir, 'node_modules'), { recursive: true });
  for (const name of Object.keys(dependencies)) {
    // A linked package resolves its own dependencies from where it really lives, the repository's node_modules.
    await symlink(path.join(REPO_ROOT, 'node_modules', name), path.join(dir, 'node_modules', name), 'dir');
  }
  return { dir, entry: built.file, metafile: built.metafile, serviceUnit: built.serviceUnit, dependencies };
}
