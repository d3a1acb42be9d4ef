/**
 * The bundled browser files, by logical name. In a Lambda bundle they were embedded at build time (cdk/build.ts
 * defines `__WEB_ASSETS__`); anywhere else they are bundled once, on first use, by the same code.
 */
import type { AssetManifest, AssetName, WebAsset } from './asset-entries.ts';

declare const __WEB_ASSETS__: string | undefined;

let loaded: AssetManifest | undefined;
let loading: Promise<AssetManifest> | undefined;

export function loadAssets(): Promise<AssetManifest> {
  if (loaded) return Promise.resolve(loaded);
  loading ??= (async () => {
    const embedded = typeof __WEB_ASSETS__ === 'string' ? __WEB_ASSETS__ : undefined;
    const manifest = embedded
      ? (JSON.parse(embedded) as AssetManifest)
      : await (await import('./bundle-assets.ts')).bundleWebAssets();
    loaded = manifest;
    return manifest;
  })();
  return loading;
}

/** The URL of a logical asset; pages are rendered only after `loadAssets` resolved. */
export function assetUrl(name: AssetName): string {
  if (!loaded) throw new Error('assetUrl called before loadAssets');
  return `/assets/${loaded[name].file}`;
}

export function assetByFile(file: string): WebAsset | undefined {
  return loaded && Object.values(loaded).find((a) => a.file === file);
}
