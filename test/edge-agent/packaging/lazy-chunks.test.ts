/**
 * What the agent loads at start: `index.mjs` and the chunks it imports statically. The YAML parser, the AD
 * connector with its LDAP client, and enrolment are chunks of their own, read only when their code runs, so an
 * agent without an `ad` section never holds them in memory (the edge bench prints the RSS this saves).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildEdgeAgent } from '../../../cdk/build.ts';

interface Meta {
  outputs: Record<
    string,
    { inputs: Record<string, unknown>; imports: Array<{ path: string; kind: string; external?: boolean }> }
  >;
}

let dir: string;
let meta: Meta;
let entry: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'edge-chunks-'));
  const built = await buildEdgeAgent({ outDir: path.join(dir, 'edge-agent') });
  meta = JSON.parse(await readFile(built.metafile, 'utf8')) as Meta;
  entry = Object.keys(meta.outputs).find((o) => o.endsWith('/edge-agent/index.mjs')) ?? '';
}, 120_000);
afterAll(async () => rm(dir, { recursive: true, force: true }));

/** The outputs node reads before the agent's first line runs: the entry and its static imports, transitively. */
function loadedAtStart(): Set<string> {
  const seen = new Set<string>();
  const visit = (output: string) => {
    if (seen.has(output)) return;
    seen.add(output);
    for (const i of meta.outputs[output]?.imports ?? [])
      if (!i.external && i.kind === 'import-statement') visit(i.path);
  };
  visit(entry);
  return seen;
}

const packagesIn = (outputs: Iterable<string>) => {
  const names = new Set<string>();
  for (const o of outputs)
    for (const input of Object.keys(meta.outputs[o]?.inputs ?? {})) {
      const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
      if (m?.[1]) names.add(m[1]);
    }
  return names;
};

it('leaves the YAML parser and the LDAP client out of what the agent loads at start', () => {
  expect(entry).not.toBe('');
  const atStart = packagesIn(loadedAtStart());
  expect(atStart.has('mqtt')).toBe(true);
  expect(atStart.has('yaml')).toBe(false);
  expect(atStart.has('ldapts')).toBe(false);
  // …but ships them, in chunks next to index.mjs
  const all = packagesIn(Object.keys(meta.outputs));
  expect(all.has('yaml') && all.has('ldapts')).toBe(true);
  const chunks = Object.keys(meta.outputs).filter((o) => o.includes('/edge-agent/chunks/'));
  expect(chunks.length).toBeGreaterThan(0);
  expect(chunks.every((c) => c.endsWith('.mjs'))).toBe(true);
});
