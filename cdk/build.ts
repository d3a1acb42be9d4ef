/**
 * esbuild bundles: one ESM file per Lambda function (`<outDir>/<name>/index.mjs`, the asset the stack
 * deploys) and a self-contained edge agent folder.
 *
 * CLI: `tsx cdk/build.ts [--edge-only | --functions-only] [--no-minify] [--sourcemap] [--no-archives] [--out dist]`
 * (the edge agent is also packed as one archive per kind of box: cdk/edge-archive.ts)
 */
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type BuildOptions, build, type Plugin } from 'esbuild';
import { bundleWebAssets } from '../functions/web/bundle-assets.ts';
import { buildEdgeArchives } from './edge-archive.ts';
import { EDGE_AGENT, FUNCTIONS } from './functions.ts';

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * Bundled CommonJS code (the AWS SDK, mqtt's dependencies) calls `require` for Node builtins; an ESM bundle
 * has no `require` unless one is made for it.
 */
export const CREATE_REQUIRE_BANNER =
  "import { createRequire } from 'module'; const require = createRequire(import.meta.url);";

export class BuildError extends Error {
  override name = 'BuildError';
}

export class MissingEntryError extends BuildError {
  override name = 'MissingEntryError';
  constructor(readonly entries: string[]) {
    super(`bundle entries do not exist: ${entries.join(', ')}`);
  }
}

export interface BuiltBundle {
  name: string;
  /** Absolute path of the bundle file. */
  file: string;
  bytes: number;
  /** Absolute path of the esbuild metafile (kept outside the asset folder so it is not deployed). */
  metafile: string;
}

export interface BuildFunctionsOptions {
  /** Where `<name>/index.mjs` go, e.g. `dist/functions`. Relative paths resolve against the repo root. */
  outDir: string;
  minify?: boolean;
  /**
   * Linked source maps (`index.mjs.map`) next to each bundle, without the sources; the functions then need
   * `NODE_OPTIONS=--enable-source-maps` (the stack sets it).
   */
  sourcemap?: boolean;
  /** Defaults to every function in cdk/functions.ts. Entries resolve against `rootDir`. */
  functions?: Readonly<Record<string, { entry: string }>>;
  rootDir?: string;
  /**
   * Replace the SDK's default credential chain with the environment-only provider in
   * cdk/lambda-credentials.ts (default true): the bundles only ever run on Lambda.
   */
  lambdaCredentials?: boolean;
}

/** Resolves `@aws-sdk/credential-provider-node` to cdk/lambda-credentials.ts. */
const lambdaCredentialsPlugin: Plugin = {
  name: 'lambda-env-credentials',
  setup(pluginBuild) {
    const shim = fileURLToPath(new URL('./lambda-credentials.ts', import.meta.url));
    pluginBuild.onResolve({ filter: /^@aws-sdk\/credential-provider-node$/ }, () => ({ path: shim }));
  },
};

/**
 * mqtt.js loads its WebSocket (`ws`) and SOCKS (`socks`) transports on every connect, whatever the URL. The agent
 * speaks only mqtt:// and mqtts:// (its config refuses anything else), so on the box both are left out: a few
 * MiB of resident memory less. Using either (a `MQTTJS_SOCKS_PROXY` variable) fails with this message.
 */
const edgeUnusedTransportsPlugin: Plugin = {
  name: 'edge-unused-transports',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^(ws|socks)$/ }, (args) => ({ path: args.path, namespace: 'unused' }));
    pluginBuild.onLoad({ filter: /.*/, namespace: 'unused' }, (args) => ({
      contents: `module.exports = function unused() { throw new Error(${JSON.stringify(
        `the edge agent does not include ${args.path}: MQTT over WebSocket and SOCKS proxies are not supported`,
      )}); };`,
      loader: 'js',
    }));
  },
};

/**
 * Modules a function reaches through shared services but never runs: the token service's PSKC import (an XML
 * parser) and QR rendering are the admin API's; the challenge path only checks codes. Left out of these
 * functions' bundles (about 100 KiB of the auth bundle, and its import time); a call fails loudly.
 */
const LEFT_OUT: Readonly<Record<string, RegExp>> = {
  auth: /^(@xmldom\/xmldom|uqr)$/,
  dispatch: /^(@xmldom\/xmldom|uqr)$/,
  events: /^(@xmldom\/xmldom|uqr)$/,
};

function leaveOutPlugin(fn: string, filter: RegExp): Plugin {
  return {
    name: 'leave-out',
    setup(pluginBuild) {
      pluginBuild.onResolve({ filter }, (args) => ({ path: args.path, namespace: 'left-out' }));
      pluginBuild.onLoad({ filter: /.*/, namespace: 'left-out' }, (args) => ({
        // every named import resolves to a function that throws, so nothing fails until it is used
        contents: `const unused = () => { throw new Error(${JSON.stringify(
          `the ${fn} function does not include ${args.path}`,
        )}); }; module.exports = new Proxy({}, { get: (_t, k) => (k === '__esModule' ? false : unused) });`,
        loader: 'js',
      }));
    },
  };
}

function commonOptions(minify: boolean, sourcemap: boolean): BuildOptions {
  return {
    bundle: true,
    platform: 'node',
    format: 'esm',
    mainFields: ['module', 'main'],
    minify,
    treeShaking: true,
    sourcemap: sourcemap ? 'linked' : false,
    // Mappings only: the sources themselves would make each .map many times the bundle, and a stack trace
    // needs only file names and lines.
    sourcesContent: false,
    banner: { js: CREATE_REQUIRE_BANNER },
    define: { 'process.env.NODE_ENV': '"production"' },
    metafile: true,
    logLevel: 'warning',
  };
}

function assertEntriesExist(entries: string[]): void {
  const missing = entries.filter((entry) => !existsSync(entry));
  if (missing.length > 0) throw new MissingEntryError(missing);
}

async function bundleOne(
  name: string,
  entry: string,
  outFile: string,
  metaFile: string,
  options: BuildOptions,
): Promise<BuiltBundle> {
  await rm(path.dirname(outFile), { recursive: true, force: true });
  let result: Awaited<ReturnType<typeof build>>;
  try {
    result = await build({ ...options, entryPoints: [entry], outfile: outFile });
  } catch (cause) {
    throw new BuildError(`bundling ${name} from ${entry} failed`, { cause });
  }
  await writeFile(metaFile, JSON.stringify(result.metafile));
  return { name, file: outFile, bytes: (await stat(outFile)).size, metafile: metaFile };
}

/**
 * `index.mjs` plus `chunks/*.mjs` for what is imported dynamically (the AD connector and its LDAP client, the
 * YAML parser, enrolment): a chunk is read only when its code runs, so an agent without an `ad` section never
 * holds that code in memory.
 */
async function bundleSplit(
  name: string,
  entry: string,
  outDir: string,
  metaFile: string,
  options: BuildOptions,
): Promise<BuiltBundle> {
  await rm(outDir, { recursive: true, force: true });
  let result: Awaited<ReturnType<typeof build>>;
  try {
    result = await build({
      ...options,
      entryPoints: { index: entry },
      outdir: outDir,
      splitting: true,
      chunkNames: 'chunks/[name]-[hash]',
      outExtension: { '.js': '.mjs' },
    });
  } catch (cause) {
    throw new BuildError(`bundling ${name} from ${entry} failed`, { cause });
  }
  await writeFile(metaFile, JSON.stringify(result.metafile));
  const outFile = path.join(outDir, 'index.mjs');
  return { name, file: outFile, bytes: (await stat(outFile)).size, metafile: metaFile };
}

export async function buildFunctions(options: BuildFunctionsOptions): Promise<BuiltBundle[]> {
  const rootDir = options.rootDir ?? REPO_ROOT;
  const outDir = path.resolve(rootDir, options.outDir);
  const specs = Object.entries(options.functions ?? FUNCTIONS).map(([name, spec]) => ({
    name,
    entry: path.resolve(rootDir, spec.entry),
  }));
  assertEntriesExist(specs.map((s) => s.entry));
  const esbuildOptions: BuildOptions = {
    ...commonOptions(options.minify ?? true, options.sourcemap ?? false),
    target: 'node22',
    plugins: options.lambdaCredentials === false ? [] : [lambdaCredentialsPlugin],
  };
  await mkdir(outDir, { recursive: true });
  // The web function carries its pages' scripts and styles inside its bundle, built here once
  // (functions/web/assets.ts reads them); the code that bundles them on a local stack stays out.
  const webAssets = specs.some((s) => s.name === 'web') ? await bundleWebAssets(rootDir) : undefined;
  return Promise.all(
    specs.map(({ name, entry }) => {
      const leaveOut = LEFT_OUT[name];
      return bundleOne(
        name,
        entry,
        path.join(outDir, name, 'index.mjs'),
        path.join(outDir, `${name}.meta.json`),
        {
          ...esbuildOptions,
          ...(leaveOut && { plugins: [...(esbuildOptions.plugins ?? []), leaveOutPlugin(name, leaveOut)] }),
          ...(name === 'web' &&
            webAssets && {
              define: {
                ...esbuildOptions.define,
                __WEB_ASSETS__: JSON.stringify(JSON.stringify(webAssets)),
              },
              external: ['esbuild'],
            }),
        },
      );
    }),
  );
}

export interface BuildEdgeAgentOptions {
  /** The agent folder, e.g. `dist/edge-agent`; it is replaced. */
  outDir: string;
  minify?: boolean;
  entry?: string;
  serviceUnit?: string;
  rootDir?: string;
}

export interface BuiltEdgeAgent extends BuiltBundle {
  packageJson: string;
  serviceUnit: string;
}

/**
 * The agent folder holds `index.mjs`, a package.json whose only dependencies are the native modules left out
 * of the bundle, and the systemd unit. Installing it on a box is `npm install --omit=dev` inside the folder.
 */
export async function buildEdgeAgent(options: BuildEdgeAgentOptions): Promise<BuiltEdgeAgent> {
  const rootDir = options.rootDir ?? REPO_ROOT;
  const outDir = path.resolve(rootDir, options.outDir);
  const entry = path.resolve(rootDir, options.entry ?? EDGE_AGENT.entry);
  const unit = path.resolve(rootDir, options.serviceUnit ?? EDGE_AGENT.serviceUnit);
  assertEntriesExist([entry, unit]);

  const native = [...EDGE_AGENT.nativeDependencies];
  const rootPackage = JSON.parse(await readFile(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
    version: string;
    dependencies?: Record<string, string>;
  };
  const dependencies = Object.fromEntries(
    native.map((dep) => {
      const version = rootPackage.dependencies?.[dep];
      if (!version) throw new BuildError(`native dependency ${dep} is not in the root package.json`);
      return [dep, version];
    }),
  );

  const bundle = await bundleSplit(
    'edge-agent',
    entry,
    outDir,
    path.join(path.dirname(outDir), `${path.basename(outDir)}.meta.json`),
    {
      ...commonOptions(options.minify ?? true, false),
      // package.json names index.mjs as its bin: without the shebang a linked `smspass-edge-agent` is run by sh
      banner: { js: `#!/usr/bin/env node\n${CREATE_REQUIRE_BANNER}` },
      // The box runs whatever Node the distribution ships, from 20 up.
      target: 'node20',
      external: native.flatMap((dep) => [dep, `@${dep}/*`]),
      plugins: [edgeUnusedTransportsPlugin],
      // readable-stream (mqtt.js, mqtt-packet, bl) is a copy of Node's own streams for browsers and old Nodes;
      // on Node 20 the built-in one serves, and the agent does not hold a second stream implementation
      alias: { 'readable-stream': 'node:stream' },
    },
  );
  await chmod(bundle.file, 0o755);

  const packageJson = path.join(outDir, 'package.json');
  await writeFile(
    packageJson,
    `${JSON.stringify(
      {
        name: 'smspass-edge-agent',
        version: rootPackage.version,
        private: true,
        type: 'module',
        main: 'index.mjs',
        bin: { 'smspass-edge-agent': 'index.mjs' },
        engines: { node: '>=20' },
        dependencies,
      },
      null,
      2,
    )}\n`,
  );
  const serviceUnit = path.join(outDir, path.basename(unit));
  await copyFile(unit, serviceUnit);
  return { ...bundle, packageJson, serviceUnit };
}

function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

async function main(argv: string[]): Promise<void> {
  const flag = (name: string) => argv.includes(name);
  const outIndex = argv.indexOf('--out');
  const out = outIndex >= 0 ? argv[outIndex + 1] : undefined;
  const dist = path.resolve(REPO_ROOT, out ?? 'dist');
  const minify = !flag('--no-minify');
  const built: BuiltBundle[] = [];
  if (!flag('--edge-only')) {
    built.push(
      ...(await buildFunctions({
        outDir: path.join(dist, 'functions'),
        minify,
        sourcemap: flag('--sourcemap'),
      })),
    );
  }
  const archives: Awaited<ReturnType<typeof buildEdgeArchives>> = [];
  if (!flag('--functions-only')) {
    const agentDir = path.join(dist, 'edge-agent');
    built.push(await buildEdgeAgent({ outDir: agentDir, minify }));
    if (!flag('--no-archives')) {
      const { version } = JSON.parse(await readFile(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
        version: string;
      };
      archives.push(
        ...(await buildEdgeArchives({
          agentDir,
          outDir: dist,
          version,
          nativeDependencies: EDGE_AGENT.nativeDependencies,
          root: REPO_ROOT,
        })),
      );
    }
  }
  for (const b of built) console.log(`${b.name.padEnd(12)} ${kib(b.bytes).padStart(12)}  ${b.file}`);
  for (const a of archives)
    console.log(`${a.target.name.padEnd(12)} ${kib(a.bytes).padStart(12)}  ${a.file}  (${a.target.boxes})`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    if (error instanceof Error && error.cause) console.error(error.cause);
    process.exitCode = 1;
  });
}
