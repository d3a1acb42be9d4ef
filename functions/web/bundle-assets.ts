/**
 * Bundles the browser's scripts and styles with esbuild, minified, into memory. cdk/build.ts calls it and
 * embeds the result in the web function's bundle; the local stack calls it on the first page it serves.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { type AssetManifest, type AssetName, WEB_ASSET_ENTRIES, type WebAsset } from './asset-entries.ts';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

export async function bundleWebAssets(rootDir = REPO_ROOT): Promise<AssetManifest> {
  const names = Object.keys(WEB_ASSET_ENTRIES) as AssetName[];
  const manifest = {} as AssetManifest;
  // One build per asset: the entry names differ in extension only, which one build would not keep apart.
  await Promise.all(
    names.map(async (name) => {
      const result = await build({
        entryPoints: [path.resolve(rootDir, WEB_ASSET_ENTRIES[name])],
        bundle: true,
        minify: true,
        write: false,
        format: 'iife',
        target: ['chrome100', 'firefox100', 'safari15'],
        outdir: '/assets',
        entryNames: '[name].[hash]',
        legalComments: 'none',
        logLevel: 'warning',
      });
      const out = result.outputFiles.find((f) => f.path.endsWith(path.extname(name)));
      if (!out) throw new Error(`esbuild produced no ${name}`);
      const asset: WebAsset = {
        file: `${name.slice(0, name.lastIndexOf('.'))}.${path.basename(out.path).split('.').at(-2)}${path.extname(name)}`,
        contentType: TYPES[path.extname(name)] ?? 'application/octet-stream',
        body: out.text,
      };
      manifest[name] = asset;
    }),
  );
  return manifest;
}
