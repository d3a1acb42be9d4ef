/**
 * The cost model: real logins through the real auth app and the real dispatch and events handlers on
 * dynalite and fauxqs, every billable unit counted from the calls they make, priced with test/bench/prices.ts.
 *
 * - DynamoDB: read and write units from item sizes by AWS's rules, index writes by each index's projection
 *   (test/support/dynamo-meter.ts; the indexes are the table definition the local and CDK stacks share);
 * - SQS: each request, in 64 KB steps of its payload;
 * - IoT Core: the job published by the auth or dispatch function (counted in, again delivered to the agent, and
 *   the agent's PUBACK, which IoT Core meters as a 5 KB message under MQTT 3.1.1), the agent's `job.sent` and
 *   `job.delivered` (published, and each one rule trigger and one SQS action), 5 KB steps;
 * - Lambda: invocations, and GB-seconds from each handler's measured duration and the memory cdk/functions.ts
 *   gives the function (an upper bound: dynalite on this machine is slower than DynamoDB in-region);
 * - API Gateway: requests; CloudWatch Logs: the bytes the functions log at the default level, ingested and kept
 *   a month; storage: what a login leaves in the table and its indexes, for as long as its TTL keeps it.
 *
 * Flows: a one-rule SMS login (challenge → job → job.sent → verify, and `job.delivered` only when the job asked
 * for a report), and a two-rule failover login (step 0's job fails on the agent, step 1's is sent; step 0's
 * timer fires later and finds nothing to do). Printed beside a baseline
 * measured in the same run (raw dynalite put+get rate) and the CPU model.
 */
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import {
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  ScanCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { SQSEvent } from 'aws-lambda';
import { FUNCTIONS } from '../../cdk/functions.ts';
import { KeyFileCredentialCipher } from '../../functions/adapters/credentials/key-file-cipher.ts';
import { DynamoConfigStore } from '../../functions/adapters/dynamo/config-store.ts';
import { tenantItem, userItem } from '../../functions/adapters/dynamo/keys.ts';
import { DynamoTokenStore } from '../../functions/adapters/dynamo/token-store.ts';
import { FetchHttpTransport } from '../../functions/adapters/http/fetch-transport.ts';
import { createLogger } from '../../functions/adapters/log.ts';
import { eventsTopic, type SmsJob, wantsReport } from '../../functions/contracts/index.ts';
import type { MailTransport } from '../../functions/core/channels/email.ts';
import { tokenCipherContext, totp } from '../../functions/core/channels/totp.ts';
import { DeploymentKeys } from '../../functions/core/secrets.ts';
import { buildAuthApp, buildDispatchHandler, buildEventsHandler, stores } from '../../functions/deps.ts';
import { localDynamo, localSqs } from '../../functions/local/aws-local.ts';
import { ensureTable, startDynalite } from '../../functions/local/dynamo.ts';
import { seedTenant } from '../../functions/local/seed.ts';
import { createQueueWithDlq, startFauxqs } from '../../functions/local/sqs.ts';
import { indexShapes, itemSize, meterDynamo } from '../support/dynamo-meter.ts';
import { PRICES } from './prices.ts';
import { table } from './stats.ts';

const TABLE = 'bench-cost';
const KB = 1024;
const steps = (bytes: number, size: number) => Math.max(1, Math.ceil(bytes / size));

interface Tally {
  dynamo: ReturnType<typeof meterDynamo>;
  sqsRequests: number;
  iotMessages: number;
  iotRules: number;
  lambda: Map<string, { invocations: number; gbSeconds: number }>;
  apiRequests: number;
  logBytes: number;
  emails: number;
  apiBytes: number;
}

/** Counts SQS requests in 64 KB steps of the payloads they carry. */
function meterSqs(sqs: SQSClient, tally: Tally) {
  sqs.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { MessageBody?: string; Entries?: Array<{ MessageBody?: string }> };
      const result = await next(args);
      if (context.commandName === 'SendMessageCommand')
        tally.sqsRequests += steps(Buffer.byteLength(input.MessageBody ?? ''), 64 * KB);
      else if (context.commandName === 'ReceiveMessageCommand') {
        const bytes = ((result.output as { Messages?: Array<{ Body?: string }> }).Messages ?? []).reduce(
          (a, m) => a + Buffer.byteLength(m.Body ?? ''),
          0,
        );
        tally.sqsRequests += steps(bytes, 64 * KB);
      } else tally.sqsRequests += 1;
      return result;
    },
    { step: 'initialize', name: 'costMeterSqs' },
  );
}

async function timed<T>(tally: Tally, fn: keyof typeof FUNCTIONS, run: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await run();
  } finally {
    const ms = Math.ceil(performance.now() - started);
    const entry = tally.lambda.get(fn) ?? { invocations: 0, gbSeconds: 0 };
    entry.invocations++;
    entry.gbSeconds += (ms / 1000) * (FUNCTIONS[fn].memoryMiB / 1024);
    tally.lambda.set(fn, entry);
  }
}

export async function benchCost(options: { logins?: number } = {}) {
  const logins = options.logins ?? 100;
  const db = await startDynalite();
  const sq = await startFauxqs();
  const raw = localDynamo(db.endpoint);
  const rawSqs = localSqs(sq.endpoint);
  const dynamo = localDynamo(db.endpoint);
  const sqs = localSqs(sq.endpoint);
  try {
    await ensureTable(raw, TABLE);
    // Baseline: raw dynalite put + get of a challenge-sized item, one at a time.
    const blob = randomBytes(600).toString('base64');
    const baseStart = performance.now();
    for (let i = 0; i < 300; i++) {
      const key = marshall({ pk: `RAW#${i}`, sk: 'RAW' });
      await raw.send(new PutItemCommand({ TableName: TABLE, Item: { ...key, blob: { S: blob } } }));
      await raw.send(new GetItemCommand({ TableName: TABLE, Key: key, ConsistentRead: true }));
    }
    const baseline = 300 / ((performance.now() - baseStart) / 1000);

    const tenantId = 'cost';
    const seed = await seedTenant(raw, TABLE, { tenantId, users: [] });
    await raw.send(
      new UpdateItemCommand({
        TableName: TABLE,
        Key: marshall(tenantItem(tenantId)),
        UpdateExpression: 'SET #s = :s',
        ExpressionAttributeNames: { '#s': 'security' },
        ExpressionAttributeValues: marshall({
          ':s': { limits: { perTenant: 1e6, perUser: 1e6, perDestination: 1e6, perClientIp: 1e6 } },
        }),
      }),
    );
    // A two-rule chain (carrier A's modems, then carrier B's) for the failover login's users.
    const config = new DynamoConfigStore(raw, TABLE);
    const now = new Date().toISOString();
    const rule = { channel: 'sms_modem', target: 'primary', route: 'default', timeoutSeconds: 5 } as const;
    await config.put(
      tenantId,
      'loadBalancing',
      'two-carriers',
      { id: 'two-carriers', name: 'A then B', rules: [rule, rule], createdAt: now, updatedAt: now },
      'create',
    );
    await config.put(
      tenantId,
      'group',
      'failover',
      {
        id: 'failover',
        name: 'failover',
        loadBalancingPolicyId: 'two-carriers',
        channels: ['sms_modem'],
        selfService: { enabled: false, fields: [] },
        secondaryPhone: true,
        createdAt: now,
        updatedAt: now,
      },
      'create',
    );
    // One rule each: the authenticator app (nothing is sent), and e-mail through the deployment's SES.
    await config.put(
      tenantId,
      'provider',
      'mail',
      {
        name: 'mail',
        kind: 'email',
        description: 'the deployment SES',
        params: { transport: 'ses', from: 'login@corp.example.test' },
        createdAt: now,
        updatedAt: now,
      },
      'create',
    );
    for (const [id, channel, target, route] of [
      ['app', 'totp', 'primary', null],
      ['mail', 'email', 'email', 'mail'],
    ] as const) {
      await config.put(
        tenantId,
        'loadBalancing',
        id,
        {
          id,
          name: id,
          rules: [{ channel, target, route, timeoutSeconds: 30 }],
          createdAt: now,
          updatedAt: now,
        },
        'create',
      );
      await config.put(
        tenantId,
        'group',
        id,
        {
          id,
          name: id,
          loadBalancingPolicyId: id,
          channels: [channel],
          selfService: { enabled: false, fields: [] },
          secondaryPhone: false,
          createdAt: now,
          updatedAt: now,
        },
        'create',
      );
    }
    const cipher = new KeyFileCredentialCipher(randomBytes(32));
    // Each TOTP user's app secret (a code's time step counts once per user, so one user per login).
    const secrets = new Map<string, Buffer>();
    const tokens = new DynamoTokenStore(raw, TABLE);
    const groupOf = { user: undefined, fo: 'failover', tt: 'app', em: 'mail' } as const;
    for (const prefix of ['user', 'fo', 'tt', 'em'] as const)
      for (let i = 0; i < logins + 1; i++) {
        const username = `${prefix}${i}`;
        await raw.send(
          new PutItemCommand({
            TableName: TABLE,
            Item: marshall({
              ...userItem(tenantId, username),
              tenantId,
              username,
              mobile: `+4520${String(100000 + i).slice(-6)}`,
              secondaryMobile: null,
              email: prefix === 'em' ? `${username}@corp.example.test` : null,
              mobileType: 'mobile',
              ...(groupOf[prefix] && { groupPolicyId: groupOf[prefix] }),
            }),
          }),
        );
        if (prefix !== 'tt') continue;
        const secret = randomBytes(20);
        secrets.set(username, secret);
        const tokenId = `app.${username}`;
        await tokens.create({
          tenantId,
          tokenId,
          kind: 'totp',
          source: 'app',
          state: 'active',
          username,
          algorithm: 'sha1',
          digits: 6,
          period: 30,
          counter: 0,
          lastStep: -1,
          sealedSecret: await cipher.encrypt(
            secret.toString('base64'),
            tokenCipherContext(tenantId, tokenId),
          ),
          createdAt: now,
        });
      }
    const directory = stores({ dynamo: raw, table: TABLE }).directory;
    await directory.setAgentState(tenantId, seed.agent.agentId, 'online', new Date().toISOString());
    // the agent of this code base: it takes version 2 jobs, which ask for a delivery report only when needed
    await directory.setAgentJobVersions(tenantId, seed.agent.agentId, [1, 2]);

    const tally: Tally = {
      dynamo: meterDynamo(dynamo, { table: TABLE, raw, exact: true }),
      sqsRequests: 0,
      iotMessages: 0,
      iotRules: 0,
      lambda: new Map(),
      apiRequests: 0,
      logBytes: 0,
      emails: 0,
      apiBytes: 0,
    };
    meterSqs(sqs, tally);
    // The functions log at their default level (info), as deployed.
    const log = createLogger({}, { write: (line) => (tally.logBytes += Buffer.byteLength(line) + 1) });
    const keys = new DeploymentKeys(randomBytes(32));
    const dispatchQueue = await createQueueWithDlq(rawSqs, `cost-d-${randomBytes(3).toString('hex')}`);
    const eventsQueue = await createQueueWithDlq(rawSqs, `cost-e-${randomBytes(3).toString('hex')}`);
    const ctx = {
      dynamo,
      table: TABLE,
      keys,
      log,
      sqs,
      cipher,
      dispatchQueueUrl: dispatchQueue.url,
      agentCacheMs: 60_000,
    };
    const jobs = new Map<string, SmsJob>();
    const codes = new Map<string, string>();
    const codeIn = (text: string) => /code is ([A-Za-z0-9]+)/.exec(text)?.[1] ?? '';
    const publisher = {
      publishJob: async (_tenant: string, _agent: string, job: SmsJob) => {
        // Published by a function, then delivered to the agent's QoS 1 subscription, whose PUBACK (MQTT 3.1.1)
        // IoT Core meters as one more message.
        tally.iotMessages += 2 * steps(Buffer.byteLength(JSON.stringify(job)), 5 * KB) + 1;
        jobs.set(job.id, job);
        codes.set(job.id.split('.')[0]!, codeIn(job.text));
      },
    };
    // Amazon SES as the deployment's mail transport: one e-mail per send.
    const ses: MailTransport = {
      send: async (message) => {
        tally.emails++;
        codes.set(message.to, codeIn(message.text));
        return { messageId: randomBytes(8).toString('hex') };
      },
    };
    // As in AWS: the auth function publishes a one-rule SMS login's job itself.
    const app = buildAuthApp({ ...ctx, publisher });
    const { handler: dispatch } = buildDispatchHandler({
      ...ctx,
      publisher,
      channels: { http: new FetchHttpTransport(), ses },
    });
    const { handler: events } = buildEventsHandler(ctx);

    const poll = async (
      queueUrl: string,
      handler: (e: SQSEvent) => Promise<unknown>,
      fn: 'dispatch' | 'events',
    ) => {
      const out = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
      );
      const messages = out.Messages ?? [];
      if (messages.length === 0) return 0;
      await timed(tally, fn, () =>
        handler({
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
        }),
      );
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? '' })),
        }),
      );
      return messages.length;
    };
    /** The agent's event on its topic: one message in, one rule triggered with its SQS action. */
    const agentEvent = async (event: Record<string, unknown>) => {
      const payload = Buffer.from(JSON.stringify({ v: 1, at: new Date().toISOString(), ...event }));
      tally.iotMessages += steps(payload.length, 5 * KB);
      tally.iotRules += 1;
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: eventsQueue.url,
          MessageBody: JSON.stringify({
            topic: eventsTopic({ stage: 'local', tenantId, agentId: seed.agent.agentId }),
            payload: payload.toString('base64'),
            receivedAt: Date.now(),
          }),
        }),
      );
      await poll(eventsQueue.url, events, 'events');
    };
    const headers = { authorization: `Bearer ${seed.keys.auth}`, 'content-type': 'application/json' };
    const api = async (path: string, body: unknown) => {
      tally.apiRequests++;
      const sent = JSON.stringify(body);
      const res = await timed(tally, 'auth', () =>
        Promise.resolve(app.request(path, { method: 'POST', headers, body: sent })),
      );
      const text = await res.text();
      // what a load balancer would carry: both bodies and about 400 bytes of headers each way
      tally.apiBytes += Buffer.byteLength(sent) + Buffer.byteLength(text) + 800;
      return JSON.parse(text) as Record<string, string>;
    };

    type Flow = 'sms' | 'failover' | 'totp' | 'email';
    const prefixOf = { sms: 'user', failover: 'fo', totp: 'tt', email: 'em' } as const;
    /**
     * One login. `failover` has its first carrier refuse the SMS (`job.failed`), so the second sends it; `totp`
     * reaches the user's authenticator app (dispatch marks the step, nothing is sent); `email` goes by SES.
     */
    const login = async (i: number, flow: Flow) => {
      const username = `${prefixOf[flow]}${i}`;
      const created = await api('/v1/challenges', {
        username,
        client: { ip: `203.0.113.${i % 250}`, name: 'vpn-gw-1' },
      });
      const id = created.challengeId!;
      let jobId = `${id}.0`;
      // Only a step the create did not publish itself is on the dispatch queue.
      if (!jobs.has(jobId)) await poll(dispatchQueue.url, dispatch, 'dispatch');
      let code = codes.get(id);
      if (flow === 'totp') code = totp(secrets.get(username)!, Date.now());
      if (flow === 'email') code = codes.get(`${username}@corp.example.test`);
      if (flow === 'failover') {
        if (!jobs.has(jobId)) throw new Error('no job published');
        await agentEvent({ type: 'job.failed', jobId, reason: 'temporary', modem: 'modem-1' });
        await poll(dispatchQueue.url, dispatch, 'dispatch');
        jobId = `${id}.1`;
        code = codes.get(id);
      }
      if (flow === 'sms' || flow === 'failover') {
        const job = jobs.get(jobId);
        if (!job) throw new Error('no job published');
        await agentEvent({ type: 'job.sent', jobId, modem: 'modem-1', messageRefs: [17] });
        // the network reports delivery only when the job asked for it
        if (wantsReport(job))
          await agentEvent({
            type: 'job.delivered',
            jobId,
            modem: 'modem-1',
            messageRef: 17,
            status: 0,
          });
      }
      const verdict = await api(`/v1/challenges/${id}/verify`, { passcode: code });
      if (verdict.result !== 'accept') throw new Error(`login not accepted: ${JSON.stringify(verdict)}`);
      return id;
    };

    const flows = [
      ['One-rule SMS login', 'sms', logins],
      ['Two-rule failover login (carrier A refuses, carrier B sends)', 'failover', Math.min(logins, 40)],
      ['TOTP login (one rule: the authenticator app)', 'totp', Math.min(logins, 40)],
      ['E-mail login (one rule: e-mail through Amazon SES)', 'email', Math.min(logins, 40)],
    ] as const;
    const totals: string[][] = [];
    for (const [title, flow, count] of flows) {
      // One login warms the caches a warm Lambda would have; then the counted ones.
      await login(count, flow);
      tally.dynamo.reset();
      Object.assign(tally, {
        sqsRequests: 0,
        iotMessages: 0,
        iotRules: 0,
        apiRequests: 0,
        logBytes: 0,
        emails: 0,
        apiBytes: 0,
      });
      tally.lambda.clear();
      const ids: string[] = [];
      for (let i = 0; i < count; i++) ids.push(await login(i, flow));
      if (flow === 'failover') {
        // step 0's failover timers (5 s): each fires once, finds its step ended, and is gone
        await new Promise((r) => setTimeout(r, 6000));
        while ((await poll(dispatchQueue.url, dispatch, 'dispatch')) > 0);
      }
      const storage = await storedPerLogin(raw, ids, tenantId);
      totals.push([title, ...report(title, tally, count, storage, baseline)]);
    }
    console.log('\n## The four logins, USD per 1M');
    table(['login', 'infrastructure (no Lambda duration)', 'Lambda duration', 'total'], totals);
  } finally {
    for (const c of [raw, dynamo]) c.destroy();
    for (const c of [rawSqs, sqs]) c.destroy();
    await sq.close();
    await db.close();
  }
}

/** GB-months a login leaves behind: each item it wrote (and its index entries) for as long as its TTL keeps it. */
async function storedPerLogin(raw: DynamoDBClient, ids: string[], tenantId: string) {
  const mine = new Set(ids);
  const indexes = indexShapes();
  let gbMonths = 0;
  let bytes = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const out = await raw.send(
      new ScanCommand({ TableName: TABLE, ...(start && { ExclusiveStartKey: marshall(start) }) }),
    );
    for (const item of out.Items ?? []) {
      const plain = unmarshall(item) as { pk: string; ttl?: number; target?: string; createdAt?: string };
      const belongs =
        ids.some((id) => plain.pk.endsWith(`#${id}`)) ||
        (plain.pk.startsWith(`AUDIT#${tenantId}#`) &&
          mine.has(String(plain.target).replace('challenge:', '')));
      if (!belongs || !plain.ttl) continue;
      const days = (plain.ttl * 1000 - Date.now()) / 86_400_000;
      let size = itemSize(item) + 100;
      for (const index of indexes)
        if (index.keys.every((k) => item[k] !== undefined)) size += itemSize(index.projected(item)) + 100;
      bytes += size;
      gbMonths += (size / KB ** 3) * (days / 30.4);
    }
    start = out.LastEvaluatedKey ? unmarshall(out.LastEvaluatedKey) : undefined;
  } while (start);
  return { bytes: bytes / ids.length, gbMonths: gbMonths / ids.length };
}

function report(
  title: string,
  t: Tally,
  logins: number,
  storage: { bytes: number; gbMonths: number },
  baseline: number,
) {
  const per = (n: number) => n / logins;
  const calls = t.dynamo.calls;
  const rru = calls.reduce((a, c) => a + c.rru, 0);
  const wru = calls.reduce((a, c) => a + c.wru, 0);
  const indexWru = calls.reduce((a, c) => a + Object.values(c.indexWru).reduce((x, y) => x + y, 0), 0);
  const byKind = new Map<
    string,
    { calls: number; rru: number; wru: number; idx: number; maxBytes: number }
  >();
  for (const c of calls) {
    const k = `${c.op} ${c.kind}`;
    const e = byKind.get(k) ?? { calls: 0, rru: 0, wru: 0, idx: 0, maxBytes: 0 };
    e.calls++;
    e.rru += c.rru;
    e.wru += c.wru;
    e.idx += Object.values(c.indexWru).reduce((x, y) => x + y, 0);
    e.maxBytes = Math.max(e.maxBytes, c.itemBytes);
    byKind.set(k, e);
  }
  console.log(`\n## ${title}: DynamoDB per login (mean of ${logins})`);
  table(
    ['call and item', 'calls', 'RRU', 'WRU', 'index WRU', 'largest item B'],
    [...byKind].map(([k, e]) => [
      k,
      per(e.calls).toFixed(2),
      per(e.rru).toFixed(2),
      per(e.wru).toFixed(2),
      per(e.idx).toFixed(2),
      e.maxBytes,
    ]),
  );
  const lambda = [...t.lambda];
  const invocations = lambda.reduce((a, [, e]) => a + e.invocations, 0);
  const gbSeconds = lambda.reduce((a, [, e]) => a + e.gbSeconds, 0);
  const p = PRICES;
  const lines: Array<[string, string, number]> = [
    [
      'API Gateway HTTP API',
      `${per(t.apiRequests).toFixed(2)} requests`,
      per(t.apiRequests) * p.apiGatewayHttpPerMillion,
    ],
    [
      'Lambda requests',
      `${per(invocations).toFixed(2)} invocations`,
      per(invocations) * p.lambdaRequestPerMillion,
    ],
    [
      'Lambda duration (arm64)',
      `${((per(gbSeconds) * 1e3) | 0) / 1e3} GB-s (${lambda.map(([fn, e]) => `${fn} ${((1000 * e.gbSeconds) / e.invocations / (FUNCTIONS[fn as keyof typeof FUNCTIONS].memoryMiB / 1024)).toFixed(0)} ms`).join(', ')})`,
      per(gbSeconds) * 1e6 * p.lambdaArmGbSecond,
    ],
    ['DynamoDB writes (table)', `${per(wru).toFixed(2)} WRU`, per(wru) * p.dynamoWriteUnitPerMillion],
    [
      'DynamoDB writes (indexes)',
      `${per(indexWru).toFixed(2)} WRU`,
      per(indexWru) * p.dynamoWriteUnitPerMillion,
    ],
    ['DynamoDB reads', `${per(rru).toFixed(2)} RRU`, per(rru) * p.dynamoReadUnitPerMillion],
    [
      'DynamoDB storage',
      `${storage.bytes.toFixed(0)} B kept (${(storage.gbMonths * 1e6).toFixed(2)} GB-months per 1M)`,
      storage.gbMonths * 1e6 * p.dynamoStorageGbMonth,
    ],
    [
      'SQS requests (64 KB steps)',
      `${per(t.sqsRequests).toFixed(2)} requests`,
      per(t.sqsRequests) * p.sqsRequestPerMillion,
    ],
    [
      'IoT Core messages (5 KB steps)',
      `${per(t.iotMessages).toFixed(2)} messages`,
      per(t.iotMessages) * p.iotMessagePerMillion,
    ],
    [
      'IoT rules + actions',
      `${per(t.iotRules).toFixed(2)} rules, as many actions`,
      per(t.iotRules) * (p.iotRuleTriggeredPerMillion + p.iotRuleActionPerMillion),
    ],
    [
      'Amazon SES (e-mails)',
      `${per(t.emails).toFixed(2)} e-mails`,
      per(t.emails) * p.sesPerThousandEmails * 1e3,
    ],
    [
      'CloudWatch Logs (ingest + a month)',
      `${per(t.logBytes).toFixed(0)} B`,
      (per(t.logBytes) * 1e6 * (p.logsIngestedPerGb + p.logsStoredGbMonth)) / KB ** 3,
    ],
  ];
  const total = lines.reduce((a, [, , v]) => a + v, 0);
  console.log(`\n## ${title}: cost per 1M logins, ${p.region} list prices read ${p.readOn}`);
  table(
    ['item', 'units per login', 'USD per 1M'],
    [
      ...lines.map(([k, u, v]) => [k, u, v.toFixed(2)]),
      ['total', '', total.toFixed(2)],
      // measured handler time on dynalite follows this machine's load; the rest is counted units
      [
        'total without Lambda duration (target ≤ $6 for the one-rule SMS login)',
        '',
        (total - (lines[2]?.[2] ?? 0)).toFixed(2),
      ],
    ],
  );
  console.log(
    `largest item written: ${t.dynamo.maxItemBytes} B (target ≤ 1 KB); baseline: raw dynalite put+get ${baseline.toFixed(0)}/s`,
  );
  // The same requests through other front doors (not in the total): an ALB is an hourly fee plus capacity
  // units (here the processed bytes, 1 GB an hour each; keep-alive clients open few connections), so its
  // price per login falls with the rate; a function URL adds nothing to the Lambda request.
  const albPerMillion = (loginsPerSecond: number) => {
    const gbPerHour = (per(t.apiBytes) * loginsPerSecond * 3600) / 1e9;
    return ((p.albHour + gbPerHour * p.albLcuHour) / (loginsPerSecond * 3600)) * 1e6;
  };
  console.log(
    `front door instead of the HTTP API (${per(t.apiBytes).toFixed(0)} B a login): ALB at 1,000 logins/s $${albPerMillion(1000).toFixed(2)}, at 10/s $${albPerMillion(10).toFixed(2)}, at 1/s $${albPerMillion(1).toFixed(2)} per 1M; Lambda function URL $0.00`,
  );
  const duration = lines[2]?.[2] ?? 0;
  return [(total - duration).toFixed(2), duration.toFixed(2), total.toFixed(2)];
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await benchCost();
  process.exit(0);
}
