/**
 * Dependencies point one way: cdk and the composition root (functions/local/, the Lambda entries) know
 * everything; adapters and the HTTP layer know core; core knows only itself and the contracts; the contracts
 * know nothing of the project. The edge agent shares only the contracts with the cloud. This test reads every
 * import and export-from of the TypeScript sources and names each one that points the wrong way.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SOURCE_DIRS = ['functions', 'edge-agent', 'cdk', 'web'];

/** Packages that are infrastructure: the domain reaches them only through ports that adapters implement. */
const INFRASTRUCTURE_PACKAGES = [
  'hono',
  '@hono/*',
  '@aws-sdk/*',
  'aws-cdk-lib',
  'constructs',
  'mqtt',
  'serialport',
  '@serialport/*',
  'nodemailer',
  'dynalite',
  'fauxqs',
  'aedes',
];

/** The hono apps, the queue handlers and what they share; their lambda.ts entries are composition, not app. */
const APP_FOLDERS = [
  ...['admin', 'auth', 'sync', 'operator', 'dispatch', 'events', 'queue', 'http', 'web'].map(
    (d) => `functions/${d}`,
  ),
  // The pages of the web function.
  'web',
];

/**
 * What the shared contracts may build on besides themselves. node:crypto because every consumer runs on Node
 * and a secret sealed for an agent must be opened by the very code that sealed it (sealed.ts).
 */
const CONTRACT_PACKAGES = ['zod', 'libphonenumber-js', 'node:crypto'];

type Target = { kind: 'project'; path: string } | { kind: 'package'; name: string };

interface ImportEdge {
  /** Repository-relative, `/`-separated. */
  from: string;
  /** As written in the source. */
  specifier: string;
  target: Target;
}

interface Rule {
  /** The rule in plain words, printed when it is broken. */
  says: string;
  appliesTo(from: string): boolean;
  forbids(target: Target): boolean;
}

const under = (path: string, folder: string) => path.startsWith(`${folder}/`);
const packageMatches = (name: string, patterns: readonly string[]) =>
  patterns.some((p) => (p.endsWith('/*') ? name.startsWith(p.slice(0, -1)) : name === p));

const RULES: readonly Rule[] = [
  {
    says:
      'functions/core/ is the domain: it imports only functions/core/ and functions/contracts/ from the project ' +
      '(never adapters, http, local, the Lambda apps or cdk), and none of the infrastructure packages ' +
      `(${INFRASTRUCTURE_PACKAGES.join(', ')}). Put a port in functions/core/ports/ and implement it in an adapter.`,
    appliesTo: (from) => under(from, 'functions/core'),
    forbids: (t) =>
      t.kind === 'project'
        ? !under(t.path, 'functions/core') && !under(t.path, 'functions/contracts')
        : packageMatches(t.name, INFRASTRUCTURE_PACKAGES),
  },
  {
    says:
      'the edge agent shares only the contracts with the cloud: under functions/ it may import ' +
      'functions/contracts/ and nothing else.',
    appliesTo: (from) => under(from, 'edge-agent'),
    forbids: (t) =>
      t.kind === 'project' && under(t.path, 'functions') && !under(t.path, 'functions/contracts'),
  },
  {
    says:
      'functions/contracts/ depends on nothing in the project outside itself, and on no package but ' +
      `${CONTRACT_PACKAGES.join(' and ')}: cloud functions, the edge agent and cdk all import it.`,
    appliesTo: (from) => under(from, 'functions/contracts'),
    forbids: (t) =>
      t.kind === 'project'
        ? !under(t.path, 'functions/contracts')
        : !packageMatches(t.name, CONTRACT_PACKAGES),
  },
  {
    says:
      'functions/adapters/ implement the ports of core: from the project they import only functions/adapters/, ' +
      'functions/core/ and functions/contracts/, never the apps, http, local or the dependency builders.',
    appliesTo: (from) => under(from, 'functions/adapters'),
    forbids: (t) =>
      t.kind === 'project' &&
      !['functions/adapters', 'functions/core', 'functions/contracts'].some((d) => under(t.path, d)),
  },
  {
    says:
      'the apps, queue handlers and HTTP layer take their adapters from the composition root (functions/local/, ' +
      'functions/deps.ts, the lambda.ts entries): they import no functions/adapters/ or functions/local/ module.',
    appliesTo: (from) => APP_FOLDERS.some((d) => under(from, d)) && !from.endsWith('/lambda.ts'),
    forbids: (t) =>
      t.kind === 'project' && (under(t.path, 'functions/adapters') || under(t.path, 'functions/local')),
  },
  {
    says:
      'runtime code (functions/, edge-agent/) never imports cdk/: what both need (routes, environment ' +
      'variable names) lives in functions/contracts/.',
    appliesTo: (from) => under(from, 'functions') || under(from, 'edge-agent'),
    forbids: (t) => t.kind === 'project' && under(t.path, 'cdk'),
  },
  {
    says: 'runtime and deployment code (functions/, edge-agent/, cdk/) never imports test/.',
    appliesTo: (from) => SOURCE_DIRS.some((dir) => under(from, dir)),
    forbids: (t) => t.kind === 'project' && under(t.path, 'test'),
  },
];

function classify(from: string, specifier: string): Target {
  if (specifier.startsWith('.')) {
    const absolute = resolve(ROOT, dirname(from), specifier);
    return { kind: 'project', path: relative(ROOT, absolute).split('\\').join('/') };
  }
  const parts = specifier.split('/');
  const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
  return { kind: 'package', name };
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules') out.push(...sourceFiles(path));
    } else if (/\.(ts|tsx|mts|cts)$/.test(entry.name)) out.push(path);
  }
  return out;
}

/** Every static import, export-from, `import()` and `require()` with a literal specifier. */
function importsOf(from: string, source: string): ImportEdge[] {
  const info = ts.preProcessFile(source, true, true);
  return info.importedFiles.map(({ fileName }) => ({
    from,
    specifier: fileName,
    target: classify(from, fileName),
  }));
}

/** One line per import that breaks a rule, grouped under the rule in plain words. */
function violations(edges: readonly ImportEdge[]): string[] {
  const found: string[] = [];
  for (const rule of RULES) {
    const broken = edges.filter((e) => rule.appliesTo(e.from) && rule.forbids(e.target));
    if (broken.length === 0) continue;
    found.push(`Rule broken: ${rule.says}`);
    for (const e of broken) {
      const target = e.target.kind === 'project' ? e.target.path : `package ${e.target.name}`;
      found.push(`  ${e.from} imports '${e.specifier}' (${target})`);
    }
  }
  return found;
}

const graph = SOURCE_DIRS.flatMap(sourceFiles).flatMap((file) =>
  importsOf(file, readFileSync(join(ROOT, file), 'utf8')),
);

describe('the direction of dependencies', () => {
  it('reads the whole import graph', () => {
    const edge = (from: string, to: string) =>
      graph.some((e) => e.from === from && e.target.kind === 'project' && e.target.path === to);
    expect(graph.length).toBeGreaterThan(500);
    expect(edge('functions/http/openapi-route.ts', 'functions/contracts/routes.ts')).toBe(true);
    expect(edge('functions/core/challenges.ts', 'functions/core/ports/challenges.ts')).toBe(true);
  });

  it('has no import pointing the wrong way', () => {
    const broken = violations(graph);
    expect(broken.length, `\n${broken.join('\n')}\n`).toBe(0);
  });

  it('names the rule, then each file and import that breaks it', () => {
    const edges = [
      importsOf('functions/core/x.ts', "import type { Logger } from '../adapters/log.ts';"),
      importsOf('functions/core/y.ts', "export { Hono } from 'hono';"),
      importsOf('functions/core/z.ts', "const m = await import('@aws-sdk/client-sqs');"),
      importsOf('edge-agent/a.ts', "import { newId } from '../functions/core/ids.ts';"),
      importsOf('functions/contracts/b.ts', "import type { Tenant } from '../core/model.ts';"),
      importsOf('functions/contracts/c.ts', "import { parse } from 'yaml';"),
      importsOf('functions/adapters/d.ts', "import { buildAuthApp } from '../deps.ts';"),
      importsOf('functions/admin/e.ts', "import { X } from '../adapters/dynamo/message-log-store.ts';"),
      importsOf('functions/http/f.ts', "import { HTTP_ROUTES } from '../../cdk/functions.ts';"),
      // Allowed: the edge agent's contracts, core's zod, an entry's adapter.
      importsOf('edge-agent/g.ts', "import { SmsJob } from '../functions/contracts/index.ts';"),
      importsOf('functions/core/h.ts', "import { z } from 'zod';"),
      importsOf('functions/admin/lambda.ts', "import { K } from '../adapters/credentials/kms-cipher.ts';"),
    ].flat();
    expect(violations(edges)).toEqual([
      expect.stringMatching(/^Rule broken: functions\/core\/ is the domain/),
      "  functions/core/x.ts imports '../adapters/log.ts' (functions/adapters/log.ts)",
      "  functions/core/y.ts imports 'hono' (package hono)",
      "  functions/core/z.ts imports '@aws-sdk/client-sqs' (package @aws-sdk/client-sqs)",
      expect.stringMatching(/^Rule broken: the edge agent shares only the contracts/),
      "  edge-agent/a.ts imports '../functions/core/ids.ts' (functions/core/ids.ts)",
      expect.stringMatching(/^Rule broken: functions\/contracts\/ depends on nothing/),
      "  functions/contracts/b.ts imports '../core/model.ts' (functions/core/model.ts)",
      "  functions/contracts/c.ts imports 'yaml' (package yaml)",
      expect.stringMatching(/^Rule broken: functions\/adapters\/ implement the ports/),
      "  functions/adapters/d.ts imports '../deps.ts' (functions/deps.ts)",
      expect.stringMatching(/^Rule broken: the apps, queue handlers and HTTP layer/),
      "  functions/admin/e.ts imports '../adapters/dynamo/message-log-store.ts' (functions/adapters/dynamo/message-log-store.ts)",
      expect.stringMatching(/^Rule broken: runtime code .* never imports cdk\//),
      "  functions/http/f.ts imports '../../cdk/functions.ts' (cdk/functions.ts)",
    ]);
  });
});
