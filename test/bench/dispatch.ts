/**
 * Dispatch on the local stack, every hop real (HTTP, dynalite, fauxqs, aedes, the edge agent, AT over TCP):
 * - failover latency: from a step's failure leaving modem group A (`+CMS ERROR` on the wire) to the next
 *   step's first `AT+CMGS` byte at group B's modem, p50 and p99;
 * - dispatch throughput: SMS per second through 4 simulated modems that each take 200 ms per send, beside
 *   the modems' own ceiling of 4 / 0.2 s = 20 per second.
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { BatchWriteItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { userItem } from '../../functions/adapters/dynamo/keys.ts';
import { createLogger } from '../../functions/adapters/log.ts';
import { localDynamo } from '../../functions/local/aws-local.ts';
import { type LocalStack, startLocalStack, TABLE_NAME } from '../../functions/local/stack.ts';
import { ms, summarize, table } from './stats.ts';

export interface DispatchBenchOptions {
  failovers?: number;
  messages?: number;
  concurrency?: number;
}

const SEND_MS = 200;
const MODEMS = 4;

export async function benchDispatch(options: DispatchBenchOptions = {}) {
  const failovers = options.failovers ?? 30;
  const messages = options.messages ?? 200;
  const concurrency = options.concurrency ?? 32;
  const stack = await startLocalStack({
    log: createLogger({}, { level: 'error' }),
    modemGroups: ['carrier-a', 'carrier-b', ...Array.from({ length: MODEMS }, () => 'default')],
    modemSendMs: SEND_MS,
  });
  try {
    const api = (path: string, key: string, body?: unknown) =>
      fetch(`${stack.json.apiUrl}${path}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
    const create = async (path: string, body: unknown) => {
      const res = await api(path, stack.json.adminKey, body);
      if (res.status !== 201) throw new Error(`${path}: ${res.status} ${await res.text()}`);
      return (await res.json()) as { id: string };
    };
    for (const name of ['carrier-a', 'carrier-b']) await create('/v1/modem-groups', { name });
    const lb = await create('/v1/load-balancing-policies', {
      name: 'A then B',
      rules: [
        { channel: 'sms_modem', target: 'primary', route: 'carrier-a', timeoutSeconds: 60 },
        { channel: 'sms_modem', target: 'primary', route: 'carrier-b', timeoutSeconds: 60 },
      ],
    });
    const group = await create('/v1/group-policies', {
      name: 'failover',
      loadBalancingPolicyId: lb.id,
      channels: ['sms_modem'],
      selfService: { enabled: false, fields: [] },
      secondaryPhone: false,
    });
    // One user and number each: the per-user and per-number rate limits stay out of the way.
    await seedUsers(stack, 'fo', failovers, group.id);
    await seedUsers(stack, 'tp', messages, null);

    // 1. Failover latency, one login at a time.
    const modemA = stack.edge!.simulators.find((s) => s.name === 'modem-1')!;
    const modemB = stack.edge!.simulators.find((s) => s.name === 'modem-2')!;
    modemA.setFault({ kind: 'cms_error', code: 21 });
    const latencies: number[] = [];
    for (let i = 0; i < failovers; i++) {
      const fromA = modemA.transcript.length;
      const fromB = modemB.transcript.length;
      const to = numberOf('fo', i);
      const res = await api('/v1/challenges', stack.json.authKey, { username: `fo${i}` });
      if (res.status !== 201) throw new Error(`challenge: ${res.status}`);
      await until(() => outbox(stack).some((l) => l.to === to));
      const failure = modemA.transcript
        .slice(fromA)
        .findLast((t) => t.dir === 'out' && t.data.includes('+CMS ERROR'));
      const next = modemB.transcript.slice(fromB).find((t) => t.dir === 'in' && t.data.includes('AT+CMGS'));
      if (failure && next) latencies.push(next.at - failure.at);
    }
    modemA.setFault(null);

    // 2. Throughput through the 4 modems of the default group.
    const before = outbox(stack).length;
    const started = performance.now();
    let nextIndex = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (nextIndex < messages) {
          const i = nextIndex++;
          const res = await api('/v1/challenges', stack.json.authKey, { username: `tp${i}` });
          if (res.status !== 201) throw new Error(`challenge: ${res.status}`);
        }
      }),
    );
    await until(() => outbox(stack).length - before >= messages, 120_000);
    const seconds = (performance.now() - started) / 1000;
    const perSecond = messages / seconds;
    const ceiling = MODEMS / (SEND_MS / 1000);

    const f = summarize(latencies);
    console.log(`\nDispatch on the local stack (node ${process.version})`);
    table(
      ['what', 'p50 ms', 'p99 ms', 'n'],
      [['failover: +CMS ERROR at group A → AT+CMGS at group B', ms(f.p50), ms(f.p99), f.n]],
    );
    console.log('');
    table(
      ['what', 'per second', 'note'],
      [
        [
          `dispatch throughput, ${MODEMS} modems at ${SEND_MS} ms per send`,
          perSecond.toFixed(1),
          `${messages} SMS`,
        ],
        ['the modems’ own ceiling', ceiling.toFixed(1), `${MODEMS} / ${SEND_MS / 1000} s`],
        ['efficiency', (perSecond / ceiling).toFixed(2), 'of the ceiling'],
      ],
    );
    return { failover: f, perSecond, ceiling };
  } finally {
    await stack.stop();
  }
}

const numberOf = (prefix: string, i: number) =>
  `+45${prefix === 'fo' ? '21' : '22'}${String(i).padStart(6, '0')}`;

async function seedUsers(stack: LocalStack, prefix: string, n: number, groupPolicyId: string | null) {
  const dynamo = localDynamo(stack.dynamoEndpoint);
  const tenantId = stack.json.tenantId;
  for (let start = 0; start < n; start += 25) {
    const items = [];
    for (let i = start; i < Math.min(n, start + 25); i++) {
      const username = `${prefix}${i}`;
      items.push({
        PutRequest: {
          Item: marshall({
            ...userItem(tenantId, username),
            tenantId,
            username,
            mobile: numberOf(prefix, i),
            mobileType: 'mobile',
            secondaryMobile: null,
            email: null,
            groupPolicyId,
          }),
        },
      });
    }
    await dynamo.send(new BatchWriteItemCommand({ RequestItems: { [TABLE_NAME]: items } }));
  }
  dynamo.destroy();
}

function outbox(stack: LocalStack): Array<{ to: string }> {
  try {
    return readFileSync(stack.json.simulator.outbox, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
  } catch {
    return [];
  }
}

async function until(probe: () => boolean, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error('benchmark step timed out');
    await new Promise((r) => setTimeout(r, 2));
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await benchDispatch();
  process.exit(0);
}
