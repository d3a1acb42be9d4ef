/** The message log over gsi2: a tenant's challenges by month, newest first (see keys.ts `messageLogPartition`). */
import {
  BatchGetItemCommand,
  type DynamoDBClient,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { InvalidMessageLogCursorError } from '../../core/message-log.ts';
import type { Challenge } from '../../core/model.ts';
import type { MessageLogStore } from '../../core/ports/message-log.ts';
import { DynamoChallengeStore } from './challenge-store.ts';
import { isConditionalCheckFailed } from './errors.ts';
import { challengeItem, LOG_SHARDS, messageLogPartitions, tenantItem } from './keys.ts';
import { mergePage, validPositions } from './merged-pages.ts';

interface Cursor {
  m: string;
  /** Where each shard of the month stands (null: from its newest). */
  p?: Array<string | null>;
}

const monthOf = (iso: string) => iso.slice(0, 7);
function previousMonth(month: string): string {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return m === 1 ? `${y - 1}-12` : `${y}-${String(m - 1).padStart(2, '0')}`;
}

/** DynamoDB's hard limit on keys in one BatchGetItem. */
export const BATCH_GET_MAX_KEYS = 100;
const MAX_STALLED_ROUNDS = 8;
const backoffMs = (stalled: number) => Math.min(1000, 20 * 2 ** stalled) * (0.5 + Math.random() / 2);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** DynamoDB kept refusing part of a page's reads (throttling): the page is not served short. */
export class MessageLogUnavailableError extends Error {
  constructor(readonly unprocessed: number) {
    super(`DynamoDB left ${unprocessed} message log reads unprocessed after retries`);
    this.name = 'MessageLogUnavailableError';
  }
}

function decode(raw: string): Cursor {
  try {
    const c = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as Cursor;
    // A real month only: '0000-00' would make previousMonth() stand still and the listing never end.
    if (typeof c.m !== 'string' || !/^\d{4}-(0[1-9]|1[0-2])$/.test(c.m)) throw new Error();
    if (c.p !== undefined && !validPositions(c.p, LOG_SHARDS, /^[^#]{1,40}#[A-Za-z0-9_-]{16,64}$/))
      throw new Error();
    return c;
  } catch {
    throw new InvalidMessageLogCursorError();
  }
}
const encode = (c: Cursor) => Buffer.from(JSON.stringify(c)).toString('base64url');

export class DynamoMessageLogStore implements MessageLogStore {
  private readonly challenges: DynamoChallengeStore;

  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
    private readonly now: () => number = Date.now,
  ) {
    this.challenges = new DynamoChallengeStore(client, table);
  }

  async list(
    tenantId: string,
    options: { since: string; limit: number; cursor?: string; usernamePrefix?: string },
  ): Promise<{ challenges: Challenge[]; cursor?: string }> {
    const start = options.cursor
      ? decode(options.cursor)
      : { m: monthOf(new Date(this.now()).toISOString()) };
    const oldest = monthOf(options.since);
    if (start.m > monthOf(new Date(this.now()).toISOString()) || start.m < oldest) {
      throw new InvalidMessageLogCursorError();
    }
    const found: Challenge[] = [];
    let month = start.m;
    let positions: Array<string | undefined> = (start.p ?? []).map((p) => p ?? undefined);
    while (month >= oldest && found.length < options.limit) {
      const streams = messageLogPartitions(tenantId, month).map((gsi2pk) => ({
        fetch: (after: string | undefined, limit: number) =>
          this.shardPage(tenantId, gsi2pk, after, limit, options.since),
      }));
      const page = await mergePage(streams, positions, options.limit - found.length);
      // Filtered after the merge, so that the positions move past what a filter dropped.
      for (const challenge of page.rows) {
        if (challenge.tenantId !== tenantId) continue;
        if (options.usernamePrefix && !challenge.username.startsWith(options.usernamePrefix)) continue;
        found.push(challenge);
      }
      positions = page.positions;
      if (page.left) {
        if (found.length >= options.limit)
          return { challenges: found, cursor: encode({ m: month, p: positions.map((p) => p ?? null) }) };
        continue;
      }
      month = previousMonth(month);
      positions = [];
    }
    return month >= oldest ? { challenges: found, cursor: encode({ m: month }) } : { challenges: found };
  }

  /** One shard's page: keys from gsi2, then the challenges themselves in one batch read, in the index's order. */
  private async shardPage(
    tenantId: string,
    gsi2pk: string,
    after: string | undefined,
    limit: number,
    since: string,
  ) {
    const afterId = after?.slice(after.lastIndexOf('#') + 1);
    const out = await this.client.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: 'gsi2',
        KeyConditionExpression: 'gsi2pk = :pk AND gsi2sk >= :since',
        ExpressionAttributeValues: marshall({ ':pk': gsi2pk, ':since': since }),
        ScanIndexForward: false,
        Limit: limit,
        ...(after &&
          afterId && {
            ExclusiveStartKey: marshall({ gsi2pk, gsi2sk: after, ...challengeItem(tenantId, afterId) }),
          }),
      }),
    );
    const keys = (out.Items ?? []).map((k) => unmarshall(k));
    const items = await this.read(keys);
    const byId = new Map(items.map((c) => [c.id, c]));
    return {
      rows: keys.map((k) => {
        const id = String(k.gsi2sk).slice(String(k.gsi2sk).lastIndexOf('#') + 1);
        return { key: String(k.gsi2sk), value: byId.get(id) };
      }),
      more: out.LastEvaluatedKey !== undefined,
    };
  }

  private async read(keys: Array<Record<string, unknown>>): Promise<Challenge[]> {
    const wanted = keys.map((k) => ({ pk: String(k.pk), sk: String(k.sk) }));
    const got = new Map<string, Challenge>();
    const chunks: Array<typeof wanted> = [];
    for (let i = 0; i < wanted.length; i += BATCH_GET_MAX_KEYS)
      chunks.push(wanted.slice(i, i + BATCH_GET_MAX_KEYS));
    await Promise.all(chunks.map((chunk) => this.readChunk(chunk, got)));
    return wanted.flatMap((k) => {
      const c = got.get(`${k.pk}\u0000${k.sk}`);
      return c ? [c] : [];
    });
  }

  /**
   * One BatchGetItem of at most 100 keys, with its unprocessed keys asked again until none are left. A reply
   * over 16 MB returns part and leaves the rest unprocessed, so a round that makes progress is not a failure;
   * throttling returns nothing, and only a run of such rounds gives up (a page missing rows would be a lie).
   */
  private async readChunk(
    keys: Array<{ pk: string; sk: string }>,
    got: Map<string, Challenge>,
  ): Promise<void> {
    let pending = keys.map((k) => marshall(k));
    for (let stalled = 0, round = 0; pending.length > 0; round++) {
      if (round > 0) await sleep(backoffMs(stalled));
      const out = await this.client.send(
        new BatchGetItemCommand({ RequestItems: { [this.table]: { Keys: pending } } }),
      );
      const items = out.Responses?.[this.table] ?? [];
      for (const raw of items) {
        const item = unmarshall(raw);
        got.set(`${item.pk}\u0000${item.sk}`, this.challenges.fromStored(raw));
      }
      pending = out.UnprocessedKeys?.[this.table]?.Keys ?? [];
      stalled = items.length > 0 ? 0 : stalled + 1;
      if (pending.length > 0 && stalled >= MAX_STALLED_ROUNDS)
        throw new MessageLogUnavailableError(pending.length);
    }
  }

  async getRetention(tenantId: string): Promise<number | undefined> {
    const out = await this.client.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk AND sk = :sk',
        ExpressionAttributeValues: marshall({
          ':pk': tenantItem(tenantId).pk,
          ':sk': tenantItem(tenantId).sk,
        }),
        ProjectionExpression: 'messageLogRetentionDays',
      }),
    );
    const item = out.Items?.[0] ? unmarshall(out.Items[0]) : undefined;
    return typeof item?.messageLogRetentionDays === 'number' ? item.messageLogRetentionDays : undefined;
  }

  async setRetention(tenantId: string, days: number): Promise<void> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: marshall(tenantItem(tenantId)),
          UpdateExpression: 'SET messageLogRetentionDays = :d',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: marshall({ ':d': days }),
        }),
      );
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
    }
  }
}
