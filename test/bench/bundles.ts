/**
 * Bundle benchmark: for each Lambda function, the size of its esbuild bundle and how long a fresh `node`
 * takes to import it, beside a bare `node -e ''` measured in the same run (DESIGN.md: the auth bundle should
 * stay ≤ 300 KiB and ≤ 40 ms over bare node). Prints figures, asserts nothing.
 *
 * Alone: `npx tsx test/bench/bundles.ts [--runs N]`
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildFunctions, REPO_ROOT } from '../../cdk/build.ts';
import { ENV, FUNCTION_NAMES, FUNCTIONS } from '../../cdk/functions.ts';

export interface Row {
  fn: string;
  sizeKiB: number;
  importMedianMs: number;
  importP90Ms: number;
  bareMedianMs: number;
  bareP90Ms: number;
  /** Median import time minus median bare-node time. */
  deltaMs: number;
  /** AWS calls the module makes while it loads (e.g. fetching the deployment secret), per import. */
  initCallsPerImport: number;
  /** Set when the function could not be built or imported; the figures are then NaN. */
  error?: string;
}

export interface BenchBundlesOptions {
  runs?: number;
  print?: boolean;
}

/**
 * Stands in for AWS during the import: entries may fetch the deployment secret at load time (as they would on a
 * real cold start), so the measured time includes that call, against loopback. Other calls are refused loudly.
 */
async function startAwsStandIn(): Promise<{ server: Server; url: string; calls: () => string[] }> {
  const calls: string[] = [];
  const server = createServer((req, res) => {
    const target = String(req.headers['x-amz-target'] ?? `${req.method} ${req.url}`);
    calls.push(target);
    req.resume();
    req.on('end', () => {
      res.setHeader('content-type', 'application/x-amz-json-1.1');
      if (target === 'secretsmanager.GetSecretValue') {
        res.end(
          JSON.stringify({
            ARN: FAKE_LAMBDA_ENV[ENV.secretArn],
            Name: 'bench',
            SecretString: 'b'.repeat(64),
          }),
        );
      } else {
        res.statusCode = 400;
        res.end(
          JSON.stringify({
            __type: 'UnknownOperationException',
            message: `the bench stand-in has no ${target}`,
          }),
        );
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, calls: () => calls };
}

/** The wiring a function reads at load time; the AWS endpoint is the stand-in above. */
const FAKE_LAMBDA_ENV: Record<string, string> = {
  [ENV.tableName]: 'bench-table',
  [ENV.dispatchQueueUrl]: 'http://127.0.0.1:9/000000000000/bench-dispatch',
  [ENV.iotEndpoint]: '127.0.0.1',
  [ENV.secretArn]: 'arn:aws:secretsmanager:eu-west-1:000000000000:secret:bench',
  [ENV.credentialKeyArn]: 'arn:aws:kms:eu-west-1:000000000000:key/bench',
  [ENV.jobsQueueUrl]: 'http://127.0.0.1:9/000000000000/bench-jobs',
  AWS_REGION: 'eu-west-1',
  AWS_ACCESS_KEY_ID: 'bench',
  AWS_SECRET_ACCESS_KEY: 'bench',
};

interface Run {
  ms: number;
  error?: string;
}

function timeNode(args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    child.on('close', (code) => {
      const ms = performance.now() - started;
      resolve(code === 0 ? { ms } : { ms, error: firstErrorLine(stderr) ?? `exit ${code}` });
    });
  });
}

/** The thrown error's message, without warnings, stack frames or the minified source line Node echoes. */
function firstErrorLine(stderr: string): string | undefined {
  const line = stderr.split('\n').find((l) => /^\w*Error\b|^\w+: /.test(l) && !/Warning/.test(l));
  return line?.slice(0, 240);
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const at = (sorted.length - 1) * q;
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (at - lo);
}

const summarize = (samples: number[]) => {
  const sorted = [...samples].sort((a, b) => a - b);
  return { median: quantile(sorted, 0.5), p90: quantile(sorted, 0.9) };
};

const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

export async function benchBundles(options: BenchBundlesOptions = {}): Promise<Row[]> {
  const runs = options.runs ?? 10;
  const outDir = await mkdtemp(path.join(tmpdir(), 'smspass-bench-bundles-'));
  const standIn = await startAwsStandIn();
  const env = { PATH: process.env.PATH ?? '', ...FAKE_LAMBDA_ENV, AWS_ENDPOINT_URL: standIn.url };
  const rows: Row[] = [];
  try {
    for (const fn of FUNCTION_NAMES) {
      const failed = (error: string): Row => ({
        fn,
        sizeKiB: Number.NaN,
        importMedianMs: Number.NaN,
        importP90Ms: Number.NaN,
        bareMedianMs: Number.NaN,
        bareP90Ms: Number.NaN,
        deltaMs: Number.NaN,
        initCallsPerImport: Number.NaN,
        error,
      });
      if (!existsSync(path.join(REPO_ROOT, FUNCTIONS[fn].entry))) {
        rows.push(failed(`no entry at ${FUNCTIONS[fn].entry}`));
        continue;
      }
      let bundle: { file: string; bytes: number };
      try {
        const [built] = await buildFunctions({ outDir, minify: true, functions: { [fn]: FUNCTIONS[fn] } });
        bundle = built!;
      } catch (error) {
        const cause =
          error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
        rows.push(failed(`${error instanceof Error ? error.message : String(error)}${cause}`));
        continue;
      }

      const importArgs = [
        '--input-type=module',
        '-e',
        `await import(${JSON.stringify(pathToFileURL(bundle.file).href)})`,
      ];
      const bareArgs = ['-e', ''];
      // One unmeasured round of each so the first sample does not also pay for a cold disk cache.
      await timeNode(bareArgs, env);
      const warm = await timeNode(importArgs, env);
      if (warm.error) {
        rows.push({ ...failed(`import failed: ${warm.error}`), sizeKiB: round(bundle.bytes / 1024) });
        continue;
      }
      const callsBefore = standIn.calls().length;
      const bare: number[] = [];
      const imported: number[] = [];
      // Interleaved, so that machine noise lands on both series alike.
      for (let i = 0; i < runs; i++) {
        bare.push((await timeNode(bareArgs, env)).ms);
        imported.push((await timeNode(importArgs, env)).ms);
      }
      const b = summarize(bare);
      const m = summarize(imported);
      rows.push({
        fn,
        sizeKiB: round(bundle.bytes / 1024),
        importMedianMs: round(m.median),
        importP90Ms: round(m.p90),
        bareMedianMs: round(b.median),
        bareP90Ms: round(b.p90),
        deltaMs: round(m.median - b.median),
        initCallsPerImport: round((standIn.calls().length - callsBefore) / runs),
      });
    }
  } finally {
    await new Promise((resolve) => standIn.server.close(resolve));
    await rm(outDir, { recursive: true, force: true });
  }
  if (options.print ?? true) printRows(rows, runs);
  return rows;
}

export function printRows(rows: Row[], runs: number): void {
  console.log(`\nLambda bundles (esbuild, minified ESM; ${runs} cold imports each, node ${process.version})`);
  console.log(
    'target: auth ≤ 300 KiB and ≤ 40 ms over bare node; peer: naive hono + DynamoDB 541 KiB, +65–90 ms',
  );
  const header = [
    'function',
    'size KiB',
    'import p50',
    'import p90',
    'bare p50',
    'bare p90',
    'Δ p50 ms',
    'init calls',
  ];
  const lines = rows.map((r) =>
    r.error && Number.isNaN(r.importMedianMs)
      ? [r.fn, Number.isNaN(r.sizeKiB) ? '-' : String(r.sizeKiB), `(${r.error})`]
      : [
          r.fn,
          r.sizeKiB,
          r.importMedianMs,
          r.importP90Ms,
          r.bareMedianMs,
          r.bareP90Ms,
          r.deltaMs,
          r.initCallsPerImport,
        ].map(String),
  );
  const widths = header.map((h) => h.length + 2);
  const format = (cells: string[]) =>
    cells
      .map((c, i) =>
        i === 0 ? c.padEnd(12) : i < widths.length && c.length <= 12 ? c.padStart(widths[i]!) : ` ${c}`,
      )
      .join('');
  console.log(format(header));
  for (const line of lines) console.log(format(line));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const runsAt = process.argv.indexOf('--runs');
  const runs = runsAt >= 0 ? Number(process.argv[runsAt + 1]) : undefined;
  await benchBundles(runs && Number.isInteger(runs) && runs > 0 ? { runs } : {});
}
