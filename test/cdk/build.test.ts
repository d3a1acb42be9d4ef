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

  it('swaps the SDK default credential chain for the Lambda environment, unless told not to', async () => {
    const creds = { creds: { entry: path.join(fixtures, 'creds/lambda.ts') } };
    const [slim] = await buildFunctions({ outDir: path.join(outDir, 'slim'), functions: creds });
    const [full] = await buildFunctions({
      outDir: path.join(outDir, 'full'),
      functions: creds,
      lambdaCredentials: false,
    });
    const inputs = async (metafile: string) =>
      Object.keys((JSON.parse(await readFile(metafile, 'utf8')) as { inputs: object }).inputs).join('\n');

    expect(await inputs(slim!.metafile)).not.toContain('node_modules/@aws-sdk/credential-provider-node/');
    expect(await inputs(full!.metafile)).toContain('node_modules/@aws-sdk/credential-provider-node/');
    expect(slim!.bytes).toBeLessThan(full!.bytes / 2);

    const env = {
      AWS_ACCESS_KEY_ID: 'AKIDLAMBDA',
      AWS_SECRET_ACCESS_KEY: 'secret',
      AWS_SESSION_TOKEN: 'token',
    };
    const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
    Object.assign(process.env, env);
    try {
      const bundle = (await import(pathToFileURL(slim!.file).href)) as { handler: () => Promise<unknown> };
      await expect(bundle.handler()).resolves.toEqual({ accessKeyId: 'AKIDLAMBDA', sessionToken: 'token' });
      delete process.env.AWS_SECRET_ACCESS_KEY;
      await expect(bundle.handler()).rejects.toThrow(/AWS_SECRET_ACCESS_KEY/);
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
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
    // `index.mjs` is the package's bin, so a shebang comes first, then the banner.
    expect(source.startsWith(`#!/usr/bin/env node\n${CREATE_REQUIRE_BANNER}`)).toBe(true);
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
