/**
 * The challenge path's bundles leave out what only the admin API runs (the PSKC import's XML parser, QR
 * rendering): the auth bundle loads without them, and a call into a left-out module fails loudly.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { buildFunctions } from '../../cdk/build.ts';
import { FUNCTIONS } from '../../cdk/functions.ts';

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

it('bundles auth without the XML parser and the QR renderer, and admin with them', async () => {
  const outDir = await mkdtemp(path.join(tmpdir(), 'leave-out-'));
  dirs.push(outDir);
  const built = await buildFunctions({
    outDir,
    functions: { auth: FUNCTIONS.auth, admin: FUNCTIONS.admin },
  });
  const inputs = async (name: string) => {
    const meta = JSON.parse(await readFile(built.find((b) => b.name === name)!.metafile, 'utf8')) as {
      inputs: Record<string, unknown>;
    };
    return Object.keys(meta.inputs).join('\n');
  };
  const auth = await inputs('auth');
  expect(auth).not.toMatch(/node_modules\/(@xmldom|uqr)\//);
  expect(auth).toContain('left-out:@xmldom/xmldom');
  expect(await inputs('admin')).toMatch(/node_modules\/@xmldom\/xmldom\//);
  const bundle = await readFile(built.find((b) => b.name === 'auth')!.file, 'utf8');
  expect(bundle).toContain('the auth function does not include @xmldom/xmldom');
});
