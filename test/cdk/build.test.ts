import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildEdgeAgent, buildFunctions, CREATE_REQUIRE_BANNER, MissingEntryError } from '../../cdk/build.ts';

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
let outDir: string;

beforeAll(async () => {
  outDir = await mkdtemp(path.join(tmpdir(), 'smspass-build-'));
});
afterAll(async () => {
  await rm(outDir, { recursive: true, force: true });
});

describe('buildFunctions', () => {
  it('writes one minified ESM bundle per function that runs CommonJS dependencies needing require', async () => {
    const [built, ...rest] = await buildFunctions({
      outDir,
      minify: true,
      functions: { hello: { entry: path.join(fixtures, 'hello/lambda.ts') } },
    });

    expect(rest).toEqual([]);
    expect(built?.file).toBe(path.join(outDir, 'hello', 'index.mjs'));
    const source = await readFile(path.join(outDir, 'hello', 'index.mjs'), 'utf8');
    expect(source.startsWith(CREATE_REQUIRE_BANNER)).toBe(true);
    expect(source).toMatch(/export\s*\{/);
    expect(built?.bytes).toBe((await stat(built!.file)).size);

    const bundle = (await import(pathToFileURL(built!.file).href)) as {
      handler: (event: { name: string }) => Promise<unknown>;
    };
    await expect(bundle.handler({ name: 'alice' })).resolves.toEqual({ greeting: 'hello alice' });
  });

  it('keeps the metafile outside the deployed folder', async () => {
    const [built] = await buildFunctions({
      outDir,
      functions: { hello: { entry: path.join(fixtures, 'hello/lambda.ts') } },
    });
    expect(path.dirname(built!.metafile)).toBe(outDir);
    const meta = JSON.parse(await readFile(built!.metafile, 'utf8')) as { inputs: Record<string, unknown> };
    expect(Object.keys(meta.inputs).some((input) => input.endsWith('legacy.cjs'))).toBe(true);
  });

  it('names every missing entry instead of bundling half the functions', async () => {
    const attempt = buildFunctions({
      outDir,
      functions: {
        hello: { entry: path.join(fixtures, 'hello/lambda.ts') },
        ghost: { entry: path.join(fixtures, 'ghost/lambda.ts') },
      },
    });
    await expect(attempt).rejects.toBeInstanceOf(MissingEntryError);
    await expect(attempt).rejects.toThrow(/ghost\/lambda\.ts/);
  });
});

describe('buildEdgeAgent', () => {
  it('makes a self-contained folder with the native serialport left out of the bundle', async () => {
    const agentDir = path.join(outDir, 'edge-agent');
    const built = await buildEdgeAgent({ outDir: agentDir, entry: path.join(fixtures, 'edge/cli.ts') });

    const source = await readFile(built.file, 'utf8');
    expect(source.startsWith(CREATE_REQUIRE_BANNER)).toBe(true);
    expect(source).toMatch(/from\s*["']serialport["']/);

    const pkg = JSON.parse(await readFile(path.join(agentDir, 'package.json'), 'utf8')) as {
      type: string;
      main: string;
      dependencies: Record<string, string>;
    };
    expect(pkg.type).toBe('module');
    expect(pkg.main).toBe('index.mjs');
    expect(Object.keys(pkg.dependencies)).toEqual(['serialport']);

    const unit = await readFile(path.join(agentDir, 'smspass-edge-agent.service'), 'utf8');
    expect(unit).toMatch(/^ExecStart=.*index\.mjs run --config /m);
  });
});
