/**
 * Production stack traces must name our files and lines: each bundle gets a linked source map beside it
 * (not inlined, so the code Lambda loads stays the same size), with mappings only.
 */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFunctions } from '../../cdk/build.ts';

const hello = { hello: { entry: fileURLToPath(new URL('./fixtures/hello/lambda.ts', import.meta.url)) } };
let outDir: string;
beforeAll(async () => {
  outDir = await mkdtemp(path.join(tmpdir(), 'smspass-maps-'));
});
afterAll(async () => {
  await rm(outDir, { recursive: true, force: true });
});

describe('source maps', () => {
  it('sit in a .map file beside the bundle, which only links to it and stays the same size', async () => {
    const [plain] = await buildFunctions({ outDir: path.join(outDir, 'plain'), functions: hello });
    const [mapped] = await buildFunctions({
      outDir: path.join(outDir, 'mapped'),
      functions: hello,
      sourcemap: true,
    });
    const source = await readFile(mapped!.file, 'utf8');
    expect(source).toMatch(/\/\/# sourceMappingURL=index\.mjs\.map\s*$/);
    expect(source).not.toContain('sourceMappingURL=data:');
    expect(mapped!.bytes - plain!.bytes).toBeLessThan(64);

    const map = JSON.parse(await readFile(`${mapped!.file}.map`, 'utf8')) as {
      sources: string[];
      sourcesContent?: unknown;
    };
    expect(map.sources.some((s) => s.endsWith('hello/lambda.ts'))).toBe(true);
    // Mappings only: the sources would make the map many times the bundle.
    expect(map.sourcesContent).toBeUndefined();
    expect((await stat(`${mapped!.file}.map`)).size).toBeGreaterThan(0);
  });
});
