/**
 * The message log at its largest page (the schema's maximum limit) over a tenant with more messages than that:
 * one page is more keys than one BatchGetItem may carry, and a page of large items comes back from DynamoDB in
 * parts (UnprocessedKeys). Both are served whole. The local stand-in must refuse what AWS refuses, or a local
 * pass would prove nothing: that is checked here too.
 */
import { BatchGetItemCommand, BatchWriteItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { challengeItem } from '../../functions/adapters/dynamo/keys.ts';
import { MessageLogQuery } from '../../functions/contracts/message-log.ts';
import { newId } from '../../functions/core/ids.ts';
import type { Challenge } from '../../functions/core/model.ts';
import { TABLE } from '../support/cloud.ts';
import { type DirectoryFixture, startDirectory } from '../support/directory.ts';

const MAX_LIMIT = (() => {
  const limit = MessageLogQuery.shape.limit.unwrap();
  return limit.maxValue ?? 0;
})();

let t: DirectoryFixture;
beforeAll(async () => {
  t = await startDirectory();
});
afterAll(async () => t?.close());

/** Stores `n` sent one-step challenges for a known user, newest last, through the real challenge store. */
async function storeChallenges(tenantId: string, n: number): Promise<string[]> {
  const base = Date.now() - n * 1000;
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const createdAt = new Date(base + i * 1000).toISOString();
    const challenge: Challenge = {
      tenantId,
      id: newId(),
      username: `user${i}`,
      userKnown: true,
      codeHash: 'x'.repeat(43),
      status: 'pending',
      createdAt,
      expiresAt: new Date(base + i * 1000 + 300_000).toISOString(),
      attempts: 0,
      maxAttempts: 3,
      destination: '+45 •• •• •• 56',
      client: {},
      deliveries: [{ step: 0, channel: 'sms', route: 'default', status: 'sent', at: createdAt }],
    };
    await t.stores.challenges.create(challenge);
    ids.push(challenge.id);
  }
  return ids.reverse();
}

async function page(query: string) {
  const res = await t.call(t.admin, 'GET', `/v1/message-log?${query}`, t.seed.keys.admin);
  return res as { status: number; body: { messages: Array<{ challengeId: string }>; cursor?: string } };
}

describe('the message log at its largest page', () => {
  let newestFirst: string[] = [];
  beforeAll(async () => {
    newestFirst = await storeChallenges(t.seed.tenantId, MAX_LIMIT + 50);
  }, 120_000);

  it('the schema allows more than one BatchGetItem carries', () => {
    expect(MAX_LIMIT).toBeGreaterThan(100);
  });

  for (const limit of [101, 150, MAX_LIMIT]) {
    it(`serves limit=${limit} whole, newest first`, async () => {
      const res = await page(`limit=${limit}`);
      expect(res.status).toBe(200);
      expect(res.body.messages.map((m) => m.challengeId)).toEqual(newestFirst.slice(0, limit));
      expect(res.body.cursor).toBeDefined();
    });
  }

  it('follows the cursor from a full page to the rest, each message once', async () => {
    const first = await page(`limit=${MAX_LIMIT}`);
    const rest = await page(`limit=${MAX_LIMIT}&cursor=${first.body.cursor}`);
    expect(rest.status).toBe(200);
    const all = [...first.body.messages, ...rest.body.messages].map((m) => m.challengeId);
    expect(all.slice(0, newestFirst.length)).toEqual(newestFirst);
  });
});

describe('a page of large items', () => {
  it('comes back whole when DynamoDB answers the batch read in parts', async () => {
    const tenantId = t.other.tenantId;
    const ids = await storeChallenges(tenantId, 100);
    // 100 KB each: a batch reply is capped (16 MB on AWS, about 1.4 MB on dynalite), so each read returns a
    // dozen or so and leaves the rest as UnprocessedKeys, more rounds than a fixed retry count allows.
    const pad = 'p'.repeat(100 * 1024);
    for (const id of ids)
      await t.dynamo.send(
        new UpdateItemCommand({
          TableName: TABLE,
          Key: marshall(challengeItem(tenantId, id)),
          UpdateExpression: 'SET #pad = :p',
          ExpressionAttributeNames: { '#pad': 'pad' },
          ExpressionAttributeValues: marshall({ ':p': pad }),
        }),
      );
    const direct = await t.dynamo.send(
      new BatchGetItemCommand({
        RequestItems: { [TABLE]: { Keys: ids.map((id) => marshall(challengeItem(tenantId, id))) } },
      }),
    );
    expect(direct.UnprocessedKeys?.[TABLE]?.Keys?.length ?? 0).toBeGreaterThan(50);

    const res = await t.call(t.admin, 'GET', '/v1/message-log?limit=100', t.other.keys.admin);
    expect(res.status).toBe(200);
    expect(res.body.messages.map((m: { challengeId: string }) => m.challengeId)).toEqual(ids);
  }, 120_000);
});

describe('the local DynamoDB stand-in', () => {
  const keys = (n: number) =>
    Array.from({ length: n }, (_, i) => marshall(challengeItem('limits', `id${i}`)));

  it('refuses a BatchGetItem of more than 100 keys, as AWS does', async () => {
    await expect(
      t.dynamo.send(new BatchGetItemCommand({ RequestItems: { [TABLE]: { Keys: keys(101) } } })),
    ).rejects.toMatchObject({ name: 'ValidationException' });
    await expect(
      t.dynamo.send(new BatchGetItemCommand({ RequestItems: { [TABLE]: { Keys: keys(100) } } })),
    ).resolves.toBeDefined();
  });

  it('refuses a BatchWriteItem of more than 25 items, as AWS does', async () => {
    const puts = (n: number) => keys(n).map((Item) => ({ PutRequest: { Item } }));
    await expect(
      t.dynamo.send(new BatchWriteItemCommand({ RequestItems: { [TABLE]: puts(26) } })),
    ).rejects.toMatchObject({ name: 'ValidationException' });
    await expect(
      t.dynamo.send(new BatchWriteItemCommand({ RequestItems: { [TABLE]: puts(25) } })),
    ).resolves.toBeDefined();
  });
});
