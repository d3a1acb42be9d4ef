/**
 * AD sync throughput on the local stack: 50,000 users through the sync API over HTTP (1,000-user batches, a
 * few in flight, then `complete`), beside the raw dynalite BatchWriteItem rate for the same number of
 * user-shaped items measured in the same run, and the peak memory of this process while it syncs. A second
 * full run of the same, unchanged users shows the read-only path. Prints figures, asserts nothing.
 *
 * Alone: `npx tsx test/bench/sync.ts [--users N] [--concurrency N]`
 */

import { pathToFileURL } from 'node:url';
import { BatchWriteItemCommand, type WriteRequest } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { createLogger } from '../../functions/adapters/log.ts';
import { SYNC_BATCH_MAX_USERS } from '../../functions/contracts/sync.ts';
import { localDynamo } from '../../functions/local/aws-local.ts';
import { startLocalStack, TABLE_NAME } from '../../functions/local/stack.ts';
import { table } from './stats.ts';

export interface SyncBenchOptions {
  users?: number;
  /** Batches in flight at once, as a connector with a few workers would send them. */
  concurrency?: number;
  print?: boolean;
}

export interface SyncBenchResult {
  users: number;
  syncUsersPerSecond: number;
  unchangedUsersPerSecond: number;
  rawUsersPerSecond: number;
  ratio: number;
  peakRssMiB: number;
  peakHeapMiB: number;
}

const MiB = 1024 * 1024;

function adUser(i: number) {
  return {
    id: `b5f0c0de-0000-4000-8000-${String(i).padStart(12, '0')}`,
    username: `user${String(i).padStart(6, '0')}`,
    domain: 'corp.example.test',
    displayName: `Bench User ${i}`,
    mobile: `+4540${100_000 + (i % 900_000)}`,
    secondaryMobile: null,
    email: `user${i}@corp.example.test`,
    groups: ['CN=VPN Users,OU=Groups,DC=corp,DC=example,DC=test'],
  };
}

async function pool(n: number, concurrency: number, fn: (i: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) await fn(next++);
    }),
  );
}

/** Samples RSS and heap while `work` runs. RSS covers the whole process (dynalite's worker thread too). */
async function withPeakMemory<T>(work: () => Promise<T>) {
  let rss = process.memoryUsage().rss;
  let heap = process.memoryUsage().heapUsed;
  const timer = setInterval(() => {
    const m = process.memoryUsage();
    rss = Math.max(rss, m.rss);
    heap = Math.max(heap, m.heapUsed);
  }, 20);
  try {
    const result = await work();
    return { result, rss, heap };
  } finally {
    clearInterval(timer);
  }
}

export async function benchSync(options: SyncBenchOptions = {}): Promise<SyncBenchResult> {
  const users = options.users ?? 50_000;
  const concurrency = options.concurrency ?? 4;
  const batches = Math.ceil(users / SYNC_BATCH_MAX_USERS);
  const stack = await startLocalStack({
    edge: false,
    standInsInWorker: process.env.BENCH_WORKER !== '0',
    log: createLogger({}, { level: 'error' }),
  });
  const dynamo = localDynamo(stack.dynamoEndpoint);
  try {
    const api = stack.json.apiUrl;
    const json = (key: string) => ({ authorization: `Bearer ${key}`, 'content-type': 'application/json' });
    const raised = await fetch(`${api}/v1/operator/tenants/${stack.json.tenantId}`, {
      method: 'PATCH',
      headers: json(stack.json.operatorKey),
      body: JSON.stringify({ userLimit: users + 1000 }),
    });
    if (!raised.ok)
      throw new Error(`could not raise the user limit: ${raised.status} ${await raised.text()}`);

    // Baseline: the same number of user-shaped items, straight into dynalite, 25 per BatchWriteItem. Measured
    // before and after the sync (the machine is shared and noisy); the faster of the two is the baseline.
    const rawRate = async (pass: number) => {
      const start = performance.now();
      await pool(Math.ceil(users / 25), concurrency * 2, async (b) => {
        let requests: WriteRequest[] = Array.from({ length: Math.min(25, users - b * 25) }, (_, k) => {
          const u = adUser(b * 25 + k);
          return {
            PutRequest: {
              Item: marshall({
                pk: `TENANT#raw-${pass}`,
                sk: `USER#${u.username}`,
                tenantId: `raw-${pass}`,
                ...u,
              }),
            },
          };
        });
        while (requests.length > 0) {
          const out = await dynamo.send(
            new BatchWriteItemCommand({ RequestItems: { [TABLE_NAME]: requests } }),
          );
          requests = out.UnprocessedItems?.[TABLE_NAME] ?? [];
        }
      });
      return users / ((performance.now() - start) / 1000);
    };
    const rawBefore = await rawRate(1);

    const syncRun = async () => {
      const start = performance.now();
      const run = await fetch(`${api}/v1/sync/runs`, { method: 'POST', headers: json(stack.json.syncKey) });
      const { runId } = (await run.json()) as { runId: string };
      let accepted = 0;
      let rejected = 0;
      await pool(batches, concurrency, async (b) => {
        const batch = Array.from(
          { length: Math.min(SYNC_BATCH_MAX_USERS, users - b * SYNC_BATCH_MAX_USERS) },
          (_, k) => adUser(b * SYNC_BATCH_MAX_USERS + k),
        );
        const res = await fetch(`${api}/v1/sync/runs/${runId}/users`, {
          method: 'PUT',
          headers: json(stack.json.syncKey),
          body: JSON.stringify({ users: batch }),
        });
        if (!res.ok) throw new Error(`batch ${b}: ${res.status} ${await res.text()}`);
        const reply = (await res.json()) as { accepted: number; rejected: unknown[] };
        accepted += reply.accepted;
        rejected += reply.rejected.length;
      });
      const done = await fetch(`${api}/v1/sync/runs/${runId}/complete`, {
        method: 'POST',
        headers: json(stack.json.syncKey),
      });
      const result = (await done.json()) as Record<string, number>;
      return { seconds: (performance.now() - start) / 1000, accepted, rejected, result };
    };

    const first = await withPeakMemory(syncRun);
    const second = await syncRun();
    const rawAfter = await rawRate(2);
    const rawUsersPerSecond = Math.max(rawBefore, rawAfter);
    const r: SyncBenchResult = {
      users,
      syncUsersPerSecond: first.result.accepted / first.result.seconds,
      unchangedUsersPerSecond: second.accepted / second.seconds,
      rawUsersPerSecond,
      ratio: first.result.accepted / first.result.seconds / rawUsersPerSecond,
      peakRssMiB: first.rss / MiB,
      peakHeapMiB: first.heap / MiB,
    };
    if (options.print !== false) {
      console.log(
        `${users} users in ${batches} batches of ≤ ${SYNC_BATCH_MAX_USERS}, ${concurrency} batches in flight; ` +
          `dynalite ${process.env.BENCH_WORKER !== '0' ? 'in a worker thread' : 'on the main thread'}`,
      );
      table(
        ['what', 'figure'],
        [
          ['sync API, new users: users/s (runs, batches, complete)', r.syncUsersPerSecond.toFixed(0)],
          ['  accepted / rejected', `${first.result.accepted} / ${first.result.rejected}`],
          ['  complete()', JSON.stringify(first.result.result)],
          ['sync API, same users again (unchanged): users/s', r.unchangedUsersPerSecond.toFixed(0)],
          [
            'baseline: raw dynalite BatchWriteItem, items/s (before / after the sync)',
            `${rawBefore.toFixed(0)} / ${rawAfter.toFixed(0)}`,
          ],
          ['sync rate / the faster raw write rate', r.ratio.toFixed(2)],
          ['peak RSS of this process during the sync (API + dynalite worker), MiB', r.peakRssMiB.toFixed(0)],
          ['peak JS heap of the main thread (the API) during the sync, MiB', r.peakHeapMiB.toFixed(0)],
        ],
      );
    }
    return r;
  } finally {
    dynamo.destroy();
    await stack.stop();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? Number(process.argv[i + 1]) : undefined;
  };
  const users = arg('users');
  const concurrency = arg('concurrency');
  await benchSync({ ...(users && { users }), ...(concurrency && { concurrency }) });
  process.exit(0);
}
