/**
 * The browser's files: each logical name and its source, relative to the repository root. esbuild bundles
 * them (functions/web/bundle-assets.ts) at build time for Lambda and on first use locally; pages link them by
 * logical name (`assetUrl`), which turns into `/assets/<name>.<contenthash>.<ext>`.
 */
export const WEB_ASSET_ENTRIES = {
  'styles.css': 'web/layout/styles.css',
  'console.js': 'web/layout/client/console.ts',
} as const;

export type AssetName = keyof typeof WEB_ASSET_ENTRIES;

export interface WebAsset {
  /** The served file name, e.g. `console.3FQ2…js`. */
  file: string;
  contentType: string;
  body: string;
}

export type AssetManifest = Record<AssetName, WebAsset>;
