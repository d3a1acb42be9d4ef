/**
 * Challenge benchmark. Prints, asserts nothing:
 *  1. the raw dynalite put+get rate, the local limit, measured first in the same run;
 *  2. challenge + verify throughput in-process through `app.request()` (DynamoDB adapter on dynalite, fauxqs);
 *  3. the same over HTTP on the local stack;
 *  4. the AWS calls of one whole login, counted by SDK middleware (DynamoDB calls with their capacity units,
 *     SQS requests, MQTT publishes, Lambda invocations), and what a million logins cost at list prices.
 *
 * Alone: `npx tsx test/bench/challenges.ts [--logins N] [--concurrency C]`
 */

import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import {
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { SQSEvent } from 'aws-lambda';
import { tenantItem, userItem } from '../../functions/adapters/dynamo/keys.ts';
import { createLogger } from '../../functions/adapters/log.ts';
import { eventsTopic } from '../../functions/contracts/index.ts';
import { DispatchMessage } from '../../functions/contracts/queue.ts';
import { openDispatchPayload } from '../../functions/core/dispatch.ts';
import type { DeploymentKeys } from '../../functions/core/secrets.ts';
import { DeploymentKeys as Keys } from '../../functions/core/secrets.ts';
import { buildAuthApp, buildDispatchHandler, buildEventsHandler, stores } from '../../functions/deps.ts';
import { localDynamo, localSqs } from '../../functions/local/aws-local.ts';
import { ensureTable, startDynalite } from '../../functions/local/dynamo.ts';
import { type DemoSeed, seedTenant } from '../../functions/local/seed.ts';
import { createQueueWithDlq, startFauxqs } from '../../functions/local/sqs.ts';
import { startLocalStack } from '../../functions/local/stack.ts';
import { PRICES } from './prices.ts';
import { table } from './stats.ts';

export interface ChallengeBenchOptions {
  logins?: number;
  concurrency?: number;
  /** Logins whose AWS calls are counted one by one. */
  countedLogins?: number;
}

const TABLE = 'bench-challenges';
/** Generous limits: the benchmark measures the path, not the abuse limits (which it still pays for). */
const BENCH_SECURITY = {
  limits: { perTenant: 1_000_000, perUser: 1_000_000, perDestination: 1_000_000, perClientIp: 1_000_000 },
};

// ---------------------------------------------------------------------------------------------------------
// Counting AWS calls with SDK middleware

export interface CallCounter {
  calls: Map<string, number>;
  /** Capacity units by call, e.g. `dynamodb UpdateItem` → WRU summed. */
  units: Map<string, number>;
  readUnits: number;
  writeUnits: number;
  reset(): void;
}

function newCounter(): CallCounter {
  const counter: CallCounter = {
    calls: new Map(),
    units: new Map(),
    readUnits: 0,
    writeUnits: 0,
    reset() {
      counter.calls.clear();
      counter.units.clear();
      counter.readUnits = 0;
      counter.writeUnits = 0;
    },
  };
  return counter;
}

const CAPACITY_OPS = new Set([
  'GetItemCommand',
  'PutItemCommand',
  'UpdateItemCommand',
  'DeleteItemCommand',
  'BatchGetItemCommand',
  'BatchWriteItemCommand',
  'QueryCommand',
]);

type Capacity = { ReadCapacityUnits?: number; WriteCapacityUnits?: number; CapacityUnits?: number };

/** Counts every command a client sends, and for DynamoDB asks for and adds up the consumed capacity. */
function countCalls(client: DynamoDBClient | SQSClient, service: string, counter: CallCounter): void {
  (client as DynamoDBClient).middlewareStack.add(
    (next, context) => async (args) => {
      const op = context.commandName ?? 'unknown';
      const input = args.input as Record<string, unknown>;
      if (service === 'dynamodb' && CAPACITY_OPS.has(op)) input.ReturnConsumedCapacity = 'TOTAL';
      const key = `${service} ${op.replace(/Command$/, '')}`;
      counter.calls.set(key, (counter.calls.get(key) ?? 0) + 1);
      const result = await next(args);
      const consumed = (result.output as { ConsumedCapacity?: Capacity | Capacity[] }).ConsumedCapacity;
      for (const c of Array.isArray(consumed) ? consumed : consumed ? [consumed] : []) {
        const isWrite = /Put|Update|Delete|BatchWrite/.test(op);
        const units = c.CapacityUnits ?? (isWrite ? c.WriteCapacityUnits : c.ReadCapacityUnits) ?? 0;
        if (isWrite) counter.writeUnits += units;
        else counter.readUnits += units;
        counter.units.set(key, (counter.units.get(key) ?? 0) + units);
      }
      return result;
    },
    { step: 'initialize', name: 'benchCountCalls' },
  );
}

/** Captures each dispatch message the auth function queues, to read the code the SMS would carry. */
function captureDispatch(sqs: SQSClient, onMessage: (message: DispatchMessage) => void): void {
  sqs.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'SendMessageCommand') {
        const body = (args.input as { MessageBody?: string }).MessageBody ?? '';
        const parsed = DispatchMessage.safeParse(JSON.parse(body));
        if (parsed.success) onMessage(parsed.data);
      }
      return next(args);
    },
    { step: 'initialize', name: 'benchCaptureDispatch' },
  );
}

const codeIn = (keys: DeploymentKeys, m: DispatchMessage) => {
  const { text } = openDispatchPayload(keys, m);
  return /code is ([A-Za-z0-9]+)/.exec(text)?.[1] ?? '';
};

// ---------------------------------------------------------------------------------------------------------
// Helpers

async function runConcurrently(total: number, concurrency: number, one: (i: number) => Promise<void>) {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) await one(next++);
    }),
  );
  return (performance.now() - started) / 1000;
}

async function seedBenchTenant(dynamo: DynamoDBClient, table: string, tenantId: string, users: number) {
  const seed = await seedTenant(dynamo, table, { tenantId, users: [] });
  await dynamo.send(
    new UpdateItemCommand({
      TableName: table,
      Key: marshall(tenantItem(tenantId)),
      UpdateExpression: 'SET #s = :s',
      ExpressionAttributeNames: { '#s': 'security' },
      ExpressionAttributeValues: marshall({ ':s': BENCH_SECURITY }),
    }),
  );
  for (let i = 0; i < users; i++) {
    const mobile = `+4520${String(100000 + i).slice(-6)}`;
    await dynamo.send(
      new PutItemCommand({
        TableName: table,
        Item: marshall({
          ...userItem(tenantId, `user${i}`),
          tenantId,
          username: `user${i}`,
          mobile,
          secondaryMobile: null,
          email: null,
          mobileType: 'mobile',
        }),
      }),
    );
  }
  return seed;
}

const perSecond = (n: number, seconds: number) => Math.round(n / seconds);

// ---------------------------------------------------------------------------------------------------------
// The benchmark

export async function benchChallenges(options: ChallengeBenchOptions = {}) {
  const logins = options.logins ?? 1000;
  const concurrency = options.concurrency ?? 16;
  const countedLogins = options.countedLogins ?? 50;
  const rows: Array<Array<string | number>> = [];
  const quiet = createLogger({}, { level: 'error' });

  const db = await startDynalite();
  const sq = await startFauxqs();
  const dynamo = localDynamo(db.endpoint);
  const sqs = localSqs(sq.endpoint);
  try {
    await ensureTable(dynamo, TABLE);

    // 1. The local limit: raw dynalite put + get of a challenge-sized item.
    const raw = randomBytes(600).toString('base64');
    const rawSeconds = await runConcurrently(logins, concurrency, async (i) => {
      const key = marshall({ pk: `RAW#${i}`, sk: 'RAW' });
      await dynamo.send(new PutItemCommand({ TableName: TABLE, Item: { ...key, body: { S: raw } } }));
      await dynamo.send(new GetItemCommand({ TableName: TABLE, Key: key, ConsistentRead: true }));
    });
    rows.push(['raw dynalite put+get pairs', perSecond(logins, rawSeconds), 'the local limit']);

    // 2. In-process: the real auth app, DynamoDB adapter on dynalite, fauxqs for the dispatch queue.
    const queue = await createQueueWithDlq(sqs, `bench-dispatch-${randomBytes(3).toString('hex')}`);
    const keys = new Keys(randomBytes(32));
    const codes = new Map<string, string>();
    captureDispatch(sqs, (m) => codes.set(m.challengeId, codeIn(keys, m)));
    const seed = await seedBenchTenant(dynamo, TABLE, 'bench', 200);
    const app = buildAuthApp({ dynamo, table: TABLE, keys, log: quiet, sqs, dispatchQueueUrl: queue.url });
    const headers = { authorization: `Bearer ${seed.keys.auth}`, 'content-type': 'application/json' };
    let accepted = 0;
    const inSeconds = await runConcurrently(logins, concurrency, async (i) => {
      const created = await app.request('/v1/challenges', {
        method: 'POST',
        headers,
        body: JSON.stringify({ username: `user${i % 200}`, client: { ip: '203.0.113.7', name: 'bench' } }),
      });
      const { challengeId } = (await created.json()) as { challengeId: string };
      const verify = await app.request(`/v1/challenges/${challengeId}/verify`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ passcode: codes.get(challengeId) }),
      });
      if (((await verify.json()) as { result: string }).result === 'accept') accepted++;
    });
    rows.push([
      'in-process challenge+verify (app.request)',
      perSecond(logins, inSeconds),
      `${accepted}/${logins} accepted`,
    ]);

    // 4. One whole login, every hop composed as in AWS, each AWS call counted.
    // A tenant of its own: the limit counters of the throughput run above would otherwise weigh on its writes.
    const countedSeed = await seedBenchTenant(dynamo, TABLE, 'bench-count', 200);
    const counted = await countWholeLogins(dynamo, sqs, keys, countedSeed, countedLogins);

    // 3. Over HTTP on the local stack (without the edge agent: the API path alone).
    const http = await httpThroughput(logins, concurrency);
    rows.push(['HTTP challenge+verify (local stack)', http.perSecond, `${http.accepted}/${logins} accepted`]);

    console.log(
      `\nChallenge API throughput (${logins} logins, concurrency ${concurrency}, node ${process.version})`,
    );
    table(['what', 'per second', 'note'], rows);
    printCalls(counted, countedLogins);
    return { rows, counted };
  } finally {
    dynamo.destroy();
    sqs.destroy();
    await sq.close();
    await db.close();
  }
}

async function httpThroughput(logins: number, concurrency: number) {
  const codes = new Map<string, string>();
  const waiters = new Map<string, (code: string) => void>();
  let stackKeys: DeploymentKeys | undefined;
  const stack = await startLocalStack({
    edge: false,
    log: createLogger({}, { level: 'error' }),
    tap: {
      dispatchBatch: (event: SQSEvent) => {
        for (const r of event.Records) {
          const m = DispatchMessage.parse(JSON.parse(r.body));
          const code = codeIn(stackKeys!, m);
          codes.set(m.challengeId, code);
          waiters.get(m.challengeId)?.(code);
        }
      },
    },
  });
  stackKeys = stack.keys;
  try {
    const dynamo = localDynamo(stack.dynamoEndpoint);
    const seed = await seedBenchTenant(dynamo, 'smspass', 'bench-http', 200);
    dynamo.destroy();
    const headers = { authorization: `Bearer ${seed.keys.auth}`, 'content-type': 'application/json' };
    let accepted = 0;
    const seconds = await runConcurrently(logins, concurrency, async (i) => {
      const created = await fetch(`${stack.json.apiUrl}/v1/challenges`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ username: `user${i % 200}`, client: { ip: '203.0.113.7', name: 'bench' } }),
      });
      const { challengeId } = (await created.json()) as { challengeId: string };
      const code =
        codes.get(challengeId) ?? (await new Promise<string>((resolve) => waiters.set(challengeId, resolve)));
      waiters.delete(challengeId);
      const verify = await fetch(`${stack.json.apiUrl}/v1/challenges/${challengeId}/verify`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ passcode: code }),
      });
      if (((await verify.json()) as { result: string }).result === 'accept') accepted++;
    });
    return { perSecond: perSecond(logins, seconds), accepted };
  } finally {
    await stack.stop();
  }
}

interface WholeLoginCounts {
  calls: Map<string, number>;
  units: Map<string, number>;
  readUnits: number;
  writeUnits: number;
  mqttPublishes: number;
  lambda: Map<string, number>;
  apiRequests: number;
  logBytes: number;
  iotRuleMessages: number;
}

/**
 * Each login: POST /v1/challenges (auth Lambda) → SQS → dispatch Lambda → MQTT publish to the agent → the
 * agent's job.sent on its events topic → IoT rule → SQS → events Lambda → POST …/verify (auth Lambda).
 * SQS is polled as the Lambda event source mapping does, a batch per message here (the worst case; under
 * load batches of up to 10 divide the receive, delete and invocation counts).
 */
async function countWholeLogins(
  dynamo: DynamoDBClient,
  sqs: SQSClient,
  keys: DeploymentKeys,
  seed: DemoSeed,
  logins: number,
): Promise<WholeLoginCounts> {
  const { dynamo: countedDynamo, sqs: countedSqs } = {
    dynamo: localDynamo(await endpointOf(dynamo)),
    sqs: localSqs(await endpointOf(sqs)),
  };
  const counter = newCounter();
  countCalls(countedDynamo, 'dynamodb', counter);
  countCalls(countedSqs, 'sqs', counter);
  const codes = new Map<string, string>();
  captureDispatch(countedSqs, (m) => codes.set(m.challengeId, codeIn(keys, m)));
  let logBytes = 0;
  const log = createLogger(
    {},
    {
      level: 'info',
      write: (line) => {
        logBytes += line.length + 1;
      },
    },
  );

  const dispatchQueue = await createQueueWithDlq(sqs, `bench-count-d-${randomBytes(3).toString('hex')}`);
  const eventsQueue = await createQueueWithDlq(sqs, `bench-count-e-${randomBytes(3).toString('hex')}`);
  const ctx = { dynamo: countedDynamo, table: TABLE, keys, log };
  const queueCtx = { sqs: countedSqs, dispatchQueueUrl: dispatchQueue.url, agentCacheMs: 60_000 };
  const app = buildAuthApp({ ...ctx, ...queueCtx });
  let mqttPublishes = 0;
  const { handler: dispatch } = buildDispatchHandler({
    ...ctx,
    ...queueCtx,
    publisher: {
      publishJob: async () => {
        mqttPublishes++;
      },
    },
    agentCacheMs: 60_000,
  });
  const { handler: events } = buildEventsHandler({ ...ctx, ...queueCtx });
  await stores({ dynamo, table: TABLE }).directory.setAgentState(
    seed.tenantId,
    seed.agent.agentId,
    'online',
    new Date().toISOString(),
  );
  const lambda = new Map<string, number>();
  const invoke = (fn: string) => lambda.set(fn, (lambda.get(fn) ?? 0) + 1);
  let iotRuleMessages = 0;

  const pollOnce = async (queueUrl: string, handler: (e: SQSEvent) => Promise<unknown>, fn: string) => {
    const out = await countedSqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    const messages = out.Messages ?? [];
    if (messages.length === 0) return;
    invoke(fn);
    await handler({
      Records: messages.map((m) => ({
        messageId: m.MessageId ?? '',
        receiptHandle: m.ReceiptHandle ?? '',
        body: m.Body ?? '',
        attributes: {} as SQSEvent['Records'][number]['attributes'],
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: '',
        awsRegion: 'us-east-1',
      })),
    });
    await countedSqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? '' })),
      }),
    );
  };

  // Warm the dispatcher's agent cache once, as a warm Lambda would have it, before counting.
  const headers = { authorization: `Bearer ${seed.keys.auth}`, 'content-type': 'application/json' };
  const oneLogin = async (i: number) => {
    invoke('auth');
    const created = await app.request('/v1/challenges', {
      method: 'POST',
      headers,
      body: JSON.stringify({ username: `user${i % 200}`, client: { ip: '203.0.113.7', name: 'bench' } }),
    });
    const { challengeId } = (await created.json()) as { challengeId: string };
    await pollOnce(dispatchQueue.url, dispatch, 'dispatch');
    // The agent reports the SMS sent; the IoT rule puts it on the events queue.
    const payload = Buffer.from(
      JSON.stringify({
        v: 1,
        type: 'job.sent',
        at: new Date().toISOString(),
        jobId: `${challengeId}.0`,
        modem: 'modem-1',
        messageRefs: [1],
      }),
    ).toString('base64');
    iotRuleMessages++;
    await countedSqs.send(
      new SendMessageCommand({
        QueueUrl: eventsQueue.url,
        MessageBody: JSON.stringify({
          topic: eventsTopic({ stage: 'local', tenantId: seed.tenantId, agentId: seed.agent.agentId }),
          payload,
          receivedAt: Date.now(),
        }),
      }),
    );
    await pollOnce(eventsQueue.url, events, 'events');
    invoke('auth');
    const verify = await app.request(`/v1/challenges/${challengeId}/verify`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ passcode: codes.get(challengeId) }),
    });
    if (((await verify.json()) as { result: string }).result !== 'accept')
      throw new Error('login not accepted');
  };
  await oneLogin(0);
  counter.reset();
  lambda.clear();
  mqttPublishes = 0;
  iotRuleMessages = 0;
  logBytes = 0;
  for (let i = 1; i <= logins; i++) await oneLogin(i);
  countedDynamo.destroy();
  countedSqs.destroy();
  return {
    calls: counter.calls,
    units: counter.units,
    readUnits: counter.readUnits,
    writeUnits: counter.writeUnits,
    mqttPublishes,
    lambda,
    apiRequests: 2 * logins,
    logBytes,
    iotRuleMessages,
  };
}

async function endpointOf(client: DynamoDBClient | SQSClient): Promise<string> {
  const endpoint = await (
    client.config.endpoint as () => Promise<{ protocol: string; hostname: string; port?: number }>
  )();
  return `${endpoint.protocol}//${endpoint.hostname}${endpoint.port ? `:${endpoint.port}` : ''}`;
}

/** The one price table (test/bench/prices.ts), under the names this bench uses. */
const PRICES_US_EAST_1 = { ...PRICES, logsPerGb: PRICES.logsIngestedPerGb };

/** Assumed billed time per invocation: each AWS round trip ~8 ms in-region, plus 2 ms of our own work. */
const MS_PER_AWS_CALL = 8;

function printCalls(c: WholeLoginCounts, logins: number) {
  const per = (n: number) => n / logins;
  const dynamoCalls = [...c.calls].filter(([k]) => k.startsWith('dynamodb'));
  const sqsCalls = [...c.calls].filter(([k]) => k.startsWith('sqs'));
  const reads = dynamoCalls.filter(([k]) => /Get|Query|Scan/.test(k)).reduce((a, [, n]) => a + n, 0);
  const writes = dynamoCalls
    .filter(([k]) => /Put|Update|Delete|Write/.test(k))
    .reduce((a, [, n]) => a + n, 0);
  const sqsRequests = sqsCalls.reduce((a, [, n]) => a + n, 0);
  console.log(
    `\nAWS calls per whole login (mean of ${logins}; SQS polled one message per batch, the worst case)`,
  );
  table(
    ['call', 'per login', 'capacity units'],
    [
      ...dynamoCalls.map(([k, n]) => [k, per(n).toFixed(2), per(c.units.get(k) ?? 0).toFixed(2)]),
      ['dynamodb read units (RRU)', per(c.readUnits).toFixed(2)],
      ['dynamodb write units (WRU)', per(c.writeUnits).toFixed(2)],
      ...sqsCalls.map(([k, n]) => [k, per(n).toFixed(2)]),
      ['mqtt publishes (jobs, cloud → agent)', per(c.mqttPublishes).toFixed(2)],
      ['mqtt publishes (job.sent, agent → cloud)', per(c.iotRuleMessages).toFixed(2)],
      ...[...c.lambda].map(([fn, n]) => [`lambda invocations: ${fn}`, per(n).toFixed(2)]),
      ['api gateway requests', per(c.apiRequests).toFixed(2)],
      ['log bytes (info level)', per(c.logBytes).toFixed(0)],
    ],
  );
  console.log(
    `measured per login: ${per(reads).toFixed(2)} read calls (${per(c.readUnits).toFixed(2)} RRU) + ` +
      `${per(writes).toFixed(2)} write calls (${per(c.writeUnits).toFixed(2)} WRU, table only); ` +
      'DESIGN.md budget: 2 reads + 4 writes in capacity units, index writes included (npm run bench cost counts those)',
  );

  const p = PRICES_US_EAST_1;
  const auth = c.lambda.get('auth') ?? 0;
  const other = [...c.lambda].filter(([fn]) => fn !== 'auth').reduce((a, [, n]) => a + n, 0);
  const callsPerInvocation = (reads + writes + sqsRequests) / Math.max(1, auth + other);
  const gbSeconds = ((auth * 512 + other * 256) / 1024) * ((callsPerInvocation * MS_PER_AWS_CALL + 2) / 1000);
  const cost: Array<[string, number]> = [
    ['API Gateway HTTP API', per(c.apiRequests) * p.apiGatewayHttpPerMillion],
    ['Lambda requests', per(auth + other) * p.lambdaRequestPerMillion],
    ['Lambda duration (arm64, est.)', per(gbSeconds) * 1e6 * p.lambdaArmGbSecond],
    ['DynamoDB writes', per(c.writeUnits) * p.dynamoWriteUnitPerMillion],
    ['DynamoDB reads', per(c.readUnits) * p.dynamoReadUnitPerMillion],
    ['SQS requests', per(sqsRequests) * p.sqsRequestPerMillion],
    ['IoT Core messages', per(c.mqttPublishes + c.iotRuleMessages) * p.iotMessagePerMillion],
    [
      'IoT rule + action',
      per(c.iotRuleMessages) * (p.iotRuleTriggeredPerMillion + p.iotRuleActionPerMillion),
    ],
    ['CloudWatch Logs', (per(c.logBytes) * 1e6 * p.logsPerGb) / 1024 ** 3],
  ];
  const total = cost.reduce((a, [, v]) => a + v, 0);
  console.log('\nCost per million logins, us-east-1 list prices (see PRICES_US_EAST_1); target ≤ $6');
  table(['item', 'USD'], [...cost.map(([k, v]) => [k, v.toFixed(2)]), ['total', total.toFixed(2)]]);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const arg = (name: string) => {
    const at = process.argv.indexOf(name);
    const n = at >= 0 ? Number(process.argv[at + 1]) : Number.NaN;
    return Number.isInteger(n) && n > 0 ? n : undefined;
  };
  const logins = arg('--logins');
  const concurrency = arg('--concurrency');
  await benchChallenges({ ...(logins && { logins }), ...(concurrency && { concurrency }) });
  process.exit(0);
}
