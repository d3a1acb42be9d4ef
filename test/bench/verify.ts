/**
 * `npm run bench verify`: the verify path and what an attacker can measure of the create path, in process
 * over dynalite and fauxqs (the auth app through `app.request()`), beside a bare GetItem round trip.
 *  1. verify with the right code, and with a wrong one, one at a time: p50 / p99;
 *  2. 300 parallel guesses at one challenge: how long until all are answered, and how many got a verdict;
 *  3. challenge creation for a known user and for an unknown name, interleaved, 200 each: p50 / p99 (the gap
 *     is what a timing attack on usernames would measure).
 */
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { marshall } from '@aws-sdk/util-dynamodb';
import { tenantItem } from '../../functions/adapters/dynamo/keys.ts';
import { createLogger } from '../../functions/adapters/log.ts';
import { DispatchMessage } from '../../functions/contracts/queue.ts';
import { openDispatchPayload } from '../../functions/core/dispatch.ts';
import { DeploymentKeys } from '../../functions/core/secrets.ts';
import { buildAuthApp } from '../../functions/deps.ts';
import { localDynamo, localSqs } from '../../functions/local/aws-local.ts';
import { ensureTable, startDynalite } from '../../functions/local/dynamo.ts';
import { seedTenant } from '../../functions/local/seed.ts';
import { createQueueWithDlq, startFauxqs } from '../../functions/local/sqs.ts';
import { ms, summarize, table } from './stats.ts';

const TABLE = 'bench-verify';

export async function benchVerify() {
  const db = await startDynalite();
  const sq = await startFauxqs();
  const dynamo = localDynamo(db.endpoint);
  const sqs = localSqs(sq.endpoint);
  await ensureTable(dynamo, TABLE);
  const { url: queueUrl } = await createQueueWithDlq(sqs, `bench-${randomBytes(4).toString('hex')}`, {
    visibilityTimeoutSeconds: 30,
    maxReceiveCount: 3,
  });
  const seed = await seedTenant(dynamo, TABLE, { tenantId: 'bench' });
  // Limits out of the way: this measures the path, not the abuse defences.
  await dynamo.send(
    new UpdateItemCommand({
      TableName: TABLE,
      Key: marshall(tenantItem('bench')),
      UpdateExpression: 'SET #s = :s',
      ExpressionAttributeNames: { '#s': 'security' },
      ExpressionAttributeValues: marshall({
        ':s': {
          limits: { perUser: 100_000, perDestination: 100_000, perClientIp: 100_000, perTenant: 1_000_000 },
          lockout: { maxFailures: 100, lockSeconds: 1 },
        },
      }),
    }),
  );
  const keys = new DeploymentKeys(randomBytes(32));
  const app = buildAuthApp({
    dynamo,
    table: TABLE,
    keys,
    log: createLogger({}, { level: 'error', write: () => {} }),
    sqs,
    dispatchQueueUrl: queueUrl,
  });
  const user = 'alice';
  const auth = { authorization: `Bearer ${seed.keys.auth}`, 'content-type': 'application/json' };
  const post = (path: string, body: unknown) =>
    app.request(path, { method: 'POST', headers: auth, body: JSON.stringify(body) });

  const codes = new Map<string, string>();
  const open = async (username: string) => {
    const res = await post('/v1/challenges', { username });
    const { challengeId } = (await res.json()) as { challengeId: string };
    while (!codes.has(challengeId)) {
      const out = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
      );
      for (const m of out.Messages ?? []) {
        const message = DispatchMessage.parse(JSON.parse(m.Body ?? ''));
        codes.set(message.challengeId, /(\d{6})/.exec(openDispatchPayload(keys, message).text)![1]!);
      }
    }
    return { id: challengeId, code: codes.get(challengeId)! };
  };
  const timed = async (fn: () => unknown) => {
    const started = performance.now();
    await fn();
    return performance.now() - started;
  };

  // Baseline: a bare consistent GetItem round trip to the same dynalite.
  const bare: number[] = [];
  for (let i = 0; i < 200; i++)
    bare.push(
      await timed(() =>
        dynamo.send(
          new GetItemCommand({ TableName: TABLE, Key: marshall(tenantItem('bench')), ConsistentRead: true }),
        ),
      ),
    );

  const right: number[] = [];
  const wrong: number[] = [];
  for (let i = 0; i < 200; i++) {
    const { id, code } = await open(user);
    const guess = code === '000000' ? '111111' : '000000';
    wrong.push(await timed(() => post(`/v1/challenges/${id}/verify`, { passcode: guess })));
    right.push(await timed(() => post(`/v1/challenges/${id}/verify`, { passcode: code })));
  }

  const known: number[] = [];
  const unknown: number[] = [];
  for (let i = 0; i < 200; i++) {
    known.push(await timed(() => post('/v1/challenges', { username: user })));
    unknown.push(await timed(() => post('/v1/challenges', { username: `nobody-${i % 7}` })));
  }

  // Last: the storm locks the user for a second (lockSeconds 1), which would skew the creates above.
  const storm = await open(user);
  const guesses = Array.from({ length: 300 }, (_, i) => String(100_000 + i));
  let verdicts = 0;
  const stormMs = await timed(async () => {
    const replies = await Promise.all(
      guesses.map(async (g) => (await post(`/v1/challenges/${storm.id}/verify`, { passcode: g })).json()),
    );
    verdicts = replies.filter(
      (r) => (r as { reason?: string }).reason === 'wrong' || (r as { result?: string }).result === 'accept',
    ).length;
  });

  const row = (name: string, values: number[]) => {
    const s = summarize(values);
    return [name, String(s.n), ms(s.p50), ms(s.p99)];
  };
  console.log('\nVerify path, in process over dynalite (ms)');
  table(
    ['what', 'n', 'p50', 'p99'],
    [
      row('baseline: bare consistent GetItem', bare),
      row('verify, wrong code', wrong),
      row('verify, right code', right),
      row('create, known user', known),
      row('create, unknown name', unknown),
    ],
  );
  const gap = summarize(unknown).p50 - summarize(known).p50;
  console.log(`create p50 gap, unknown − known: ${gap.toFixed(1)} ms`);
  console.log(
    `300 parallel guesses at one challenge (maxAttempts 3): all answered in ${stormMs.toFixed(0)} ms, ${verdicts} got a verdict`,
  );

  dynamo.destroy();
  sqs.destroy();
  await sq.close();
  await db.close();
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await benchVerify();
  process.exit(0);
}
