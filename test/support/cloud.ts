/**
 * A real cloud side for tests: in-memory dynalite and fauxqs on loopback, the table and queues the stack
 * uses, a seeded demo tenant, and the real auth app built by the same code the Lambda entry uses.
 */
import { randomBytes } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { createLogger } from '../../functions/adapters/log.ts';
import type { Clock } from '../../functions/core/clock.ts';
import type { Logger } from '../../functions/core/ports/log.ts';
import { DeploymentKeys } from '../../functions/core/secrets.ts';
import { buildAuthApp, stores } from '../../functions/deps.ts';
import { localDynamo, localSqs } from '../../functions/local/aws-local.ts';
import { ensureTable, startDynalite } from '../../functions/local/dynamo.ts';
import { type DemoSeed, seedTenant } from '../../functions/local/seed.ts';
import { createQueueWithDlq, startFauxqs } from '../../functions/local/sqs.ts';

export const TABLE = 'smspass-test';

export interface CloudFixture {
  dynamo: DynamoDBClient;
  dynamoEndpoint: string;
  sqs: SQSClient;
  keys: DeploymentKeys;
  queueUrl: string;
  dlqUrl: string;
  seed: DemoSeed;
  other: DemoSeed;
  logLines: string[];
  log: Logger;
  app: ReturnType<typeof buildAuthApp>;
  stores: ReturnType<typeof stores>;
  /** Drains and returns the bodies of the messages on the dispatch queue. */
  drainQueue(): Promise<string[]>;
  close(): Promise<void>;
}

export async function startCloud(options: { clock?: Clock } = {}): Promise<CloudFixture> {
  const db = await startDynalite();
  const sq = await startFauxqs();
  const dynamo = localDynamo(db.endpoint);
  const sqs = localSqs(sq.endpoint);
  await ensureTable(dynamo, TABLE);
  const { url: queueUrl, dlqUrl } = await createQueueWithDlq(
    sqs,
    `dispatch-${randomBytes(4).toString('hex')}`,
    {
      visibilityTimeoutSeconds: 1,
      maxReceiveCount: 2,
    },
  );
  const seed = await seedTenant(dynamo, TABLE, { tenantId: 'acme' });
  const other = await seedTenant(dynamo, TABLE, { tenantId: 'globex' });
  const keys = new DeploymentKeys(randomBytes(32));
  const logLines: string[] = [];
  const log = createLogger({}, { level: 'debug', write: (line) => logLines.push(line) });
  const app = buildAuthApp({
    dynamo,
    table: TABLE,
    keys,
    log,
    sqs,
    dispatchQueueUrl: queueUrl,
    ...(options.clock && { clock: options.clock }),
  });
  return {
    dynamo,
    dynamoEndpoint: db.endpoint,
    sqs,
    keys,
    queueUrl,
    dlqUrl,
    seed,
    other,
    logLines,
    log,
    app,
    stores: stores({ dynamo, table: TABLE }),
    async drainQueue() {
      const bodies: string[] = [];
      for (;;) {
        const out = await sqs.send(
          new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
        );
        if (!out.Messages?.length) return bodies;
        bodies.push(...out.Messages.map((m) => m.Body ?? ''));
      }
    },
    async close() {
      dynamo.destroy();
      sqs.destroy();
      await sq.close();
      await db.close();
    },
  };
}

export function jsonRequest(body: unknown, key?: string, init: RequestInit = {}): RequestInit {
  return {
    method: 'POST',
    ...init,
    headers: {
      'content-type': 'application/json',
      ...(key && { authorization: `Bearer ${key}` }),
      ...(init.headers as Record<string, string> | undefined),
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  };
}
