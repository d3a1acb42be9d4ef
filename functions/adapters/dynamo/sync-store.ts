import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { mapPool } from '../../core/map-pool.ts';
import type {
  BatchHistory,
  SyncBatchRecord,
  SyncedUser,
  SyncRun,
  SyncStore,
  WriteOutcome,
} from '../../core/ports/sync.ts';
import type { ManagedUser } from '../../core/ports/users.ts';
import { conditionalUpdate, isConditionalCheckFailed } from './errors.ts';
import {
  createLockItem,
  syncBatchItem,
  syncBatchPrefix,
  syncRunItem,
  tenantItem,
  USER_PREFIX,
  userItem,
} from './keys.ts';
import { queryPages } from './query.ts';

/** Runs and their batches are kept a week for support questions, then DynamoDB TTL removes them. */
const RUN_RETENTION_SECONDS = 7 * 24 * 3600;
/** Parallel single-item writes per batch: enough to keep the table busy, few enough not to flood it. */
const WRITE_CONCURRENCY = 32;
/** Parallel 25-item BatchWriteItem requests per batch. */
const BATCH_WRITE_CONCURRENCY = 8;
const BATCH_GET_SIZE = 100;

/** What the sync owns on a user item; `groupPolicyId` (the effective policy) it writes only as the mapping's. */
const SYNC_FIELDS = [
  'username',
  'syncId',
  'domain',
  'displayName',
  'mobile',
  'mobileType',
  'secondaryMobile',
  'secondaryMobileType',
  'email',
  'mappedGroupPolicyId',
  'groupDn',
  'syncHash',
  'syncedAt',
] as const;

/** A stored list or string set as strings; anything else (absent, or a count an older version kept) as none. */
const strings = (value: unknown): string[] =>
  Array.isArray(value) || value instanceof Set ? [...value].map(String) : [];

export class DynamoSyncStore implements SyncStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
    /** Told about writes that failed for a reason other than a condition; the users are reported back. */
    private readonly onWriteError: (error: unknown) => void = () => {},
  ) {}

  async createRun(tenantId: string, run: SyncRun) {
    await this.client.send(
      new PutItemCommand({
        TableName: this.table,
        Item: marshall(
          { ...syncRunItem(tenantId, run.runId), tenantId, ...run, ttl: this.ttl(run.expiresAt) },
          { removeUndefinedValues: true },
        ),
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async getRun(tenantId: string, runId: string): Promise<SyncRun | undefined> {
    const out = await this.client.send(
      new GetItemCommand({
        TableName: this.table,
        Key: marshall(syncRunItem(tenantId, runId)),
        ConsistentRead: true,
      }),
    );
    if (!out.Item) return undefined;
    const { runId: id, status, mode, createdAt, expiresAt, result, completedAt } = unmarshall(out.Item);
    return {
      runId: id,
      status,
      ...(mode && { mode }),
      createdAt,
      expiresAt,
      ...(result && { result }),
      ...(completedAt && { completedAt }),
    };
  }

  async completeRun(tenantId: string, runId: string, result: NonNullable<SyncRun['result']>, at: string) {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: marshall(syncRunItem(tenantId, runId)),
          UpdateExpression: 'SET #status = :done, #result = :result, completedAt = :at',
          ConditionExpression: 'attribute_exists(pk) AND #status IN (:open, :completing)',
          ExpressionAttributeNames: { '#status': 'status', '#result': 'result' },
          ExpressionAttributeValues: marshall({
            ':done': 'completed',
            ':open': 'open',
            ':completing': 'completing',
            ':result': result,
            ':at': at,
          }),
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }

  markCompleting(tenantId: string, runId: string): Promise<boolean> {
    return conditionalUpdate(this.client, {
      TableName: this.table,
      Key: marshall(syncRunItem(tenantId, runId)),
      UpdateExpression: 'SET #status = :completing',
      ConditionExpression: 'attribute_exists(pk) AND #status = :open',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: marshall({ ':open': 'open', ':completing': 'completing' }),
    });
  }

  reopenRun(tenantId: string, runId: string): Promise<boolean> {
    return conditionalUpdate(this.client, {
      TableName: this.table,
      Key: marshall(syncRunItem(tenantId, runId)),
      UpdateExpression: 'SET #status = :open',
      ConditionExpression: 'attribute_exists(pk) AND #status = :completing',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: marshall({ ':open': 'open', ':completing': 'completing' }),
    });
  }

  async getUsers(tenantId: string, usernames: string[]) {
    const found = new Map<
      string,
      Pick<ManagedUser, 'username' | 'syncId' | 'syncHash' | 'assignedGroupPolicyId'>
    >();
    const unique = [...new Set(usernames.map((u) => u.toLowerCase()))];
    const chunks: string[][] = [];
    for (let i = 0; i < unique.length; i += BATCH_GET_SIZE) chunks.push(unique.slice(i, i + BATCH_GET_SIZE));
    await mapPool(chunks, 10, async (chunk) => {
      let keys = chunk.map((u) => marshall(userItem(tenantId, u)));
      for (let round = 0; keys.length > 0; round++) {
        if (round >= 8) throw new Error('DynamoDB left keys unprocessed after retries');
        if (round > 0) await new Promise((r) => setTimeout(r, 2 ** round * 10));
        const out = await this.client.send(
          new BatchGetItemCommand({
            RequestItems: {
              [this.table]: {
                Keys: keys,
                ConsistentRead: true,
                ProjectionExpression: '#u, #id, #h, #t, #a',
                ExpressionAttributeNames: {
                  '#u': 'username',
                  '#id': 'syncId',
                  '#h': 'syncHash',
                  '#t': 'tenantId',
                  '#a': 'assignedGroupPolicyId',
                },
              },
            },
          }),
        );
        for (const raw of out.Responses?.[this.table] ?? []) {
          const item = unmarshall(raw);
          if (item.tenantId !== tenantId) continue;
          found.set(String(item.username).toLowerCase(), {
            username: String(item.username),
            ...(typeof item.syncId === 'string' && { syncId: item.syncId }),
            ...(typeof item.syncHash === 'string' && { syncHash: item.syncHash }),
            ...(typeof item.assignedGroupPolicyId === 'string' && {
              assignedGroupPolicyId: item.assignedGroupPolicyId,
            }),
          });
        }
        keys = out.UnprocessedKeys?.[this.table]?.Keys ?? [];
      }
    });
    return found;
  }

  async noteDomains(tenantId: string, domains: Record<string, string>) {
    const entries = Object.entries(domains);
    if (entries.length === 0) return;
    const key = marshall(tenantItem(tenantId));
    const names = Object.fromEntries(entries.map(([dns], i) => [`#d${i}`, dns]));
    const setEach = () =>
      this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: key,
          UpdateExpression: `SET ${entries.map((_, i) => `#m.#d${i} = :n${i}`).join(', ')}`,
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: { '#m': 'adDomains', ...names },
          ExpressionAttributeValues: marshall(Object.fromEntries(entries.map(([, nb], i) => [`:n${i}`, nb]))),
        }),
      );
    try {
      await setEach();
    } catch (error) {
      if (isConditionalCheckFailed(error)) return;
      if ((error as { name?: string }).name !== 'ValidationException') throw error;
      // The tenant's first domains: the map does not exist yet. Entries set one by one leave others' alone.
      try {
        await this.client.send(
          new UpdateItemCommand({
            TableName: this.table,
            Key: key,
            UpdateExpression: 'SET #m = :map',
            ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(#m)',
            ExpressionAttributeNames: { '#m': 'adDomains' },
            ExpressionAttributeValues: marshall({ ':map': domains }),
          }),
        );
      } catch (again) {
        if (!isConditionalCheckFailed(again)) throw again;
        await setEach().catch((last: unknown) => {
          if (!isConditionalCheckFailed(last)) throw last;
        });
      }
    }
  }

  async createUsers(users: SyncedUser[]): Promise<WriteOutcome[]> {
    const outcomes = new Array<WriteOutcome>(users.length).fill('written');
    const chunks: number[][] = [];
    for (let i = 0; i < users.length; i += 25)
      chunks.push(Array.from({ length: Math.min(25, users.length - i) }, (_, k) => i + k));
    await mapPool(chunks, BATCH_WRITE_CONCURRENCY, async (chunk) => {
      const byKey = new Map<string, number>();
      let requests: WriteRequest[] = chunk.map((index) => {
        const { carried, ...user } = users[index]!;
        const key = userItem(user.tenantId, user.username);
        byKey.set(key.sk, index);
        const item = {
          ...key,
          ...user,
          groupPolicyId: carried?.assignedGroupPolicyId ?? user.mappedGroupPolicyId,
          createdAt: user.syncedAt,
          ...carried,
        };
        return { PutRequest: { Item: marshall(item, { removeUndefinedValues: true }) } };
      });
      try {
        for (let round = 0; requests.length > 0; round++) {
          if (round >= 8) break;
          if (round > 0) await new Promise((r) => setTimeout(r, 2 ** round * 10));
          const out = await this.client.send(
            new BatchWriteItemCommand({ RequestItems: { [this.table]: requests } }),
          );
          requests = out.UnprocessedItems?.[this.table] ?? [];
        }
      } catch (error) {
        this.onWriteError(error);
        // The whole request failed: none of its items is known to be written.
        requests = chunk.map((index) => ({
          PutRequest: { Item: marshall(userItem(users[index]!.tenantId, users[index]!.username)) },
        }));
      }
      for (const left of requests) {
        const sk = left.PutRequest?.Item?.sk?.S;
        const index = sk === undefined ? undefined : byKey.get(sk);
        if (index !== undefined) outcomes[index] = 'failed';
      }
    });
    return outcomes;
  }

  async acquireCreateLock(tenantId: string, holder: string, untilMs: number, nowMs: number) {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.table,
          Item: marshall({ ...createLockItem(tenantId), tenantId, holder, until: untilMs }),
          ConditionExpression: 'attribute_not_exists(pk) OR #until < :now',
          ExpressionAttributeNames: { '#until': 'until' },
          ExpressionAttributeValues: marshall({ ':now': nowMs }),
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }

  async renewCreateLock(tenantId: string, holder: string, untilMs: number) {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: marshall(createLockItem(tenantId)),
          UpdateExpression: 'SET #until = :until',
          ConditionExpression: 'holder = :me',
          ExpressionAttributeNames: { '#until': 'until' },
          ExpressionAttributeValues: marshall({ ':me': holder, ':until': untilMs }),
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }

  async releaseCreateLock(tenantId: string, holder: string) {
    try {
      await this.client.send(
        new DeleteItemCommand({
          TableName: this.table,
          Key: marshall(createLockItem(tenantId)),
          ConditionExpression: 'holder = :me',
          ExpressionAttributeValues: marshall({ ':me': holder }),
        }),
      );
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
    }
  }

  updateUsers(users: SyncedUser[]): Promise<WriteOutcome[]> {
    return mapPool(users, WRITE_CONCURRENCY, (user) => {
      const removes: string[] = [];
      // An admin's assignment wins: the effective policy follows the mapping only while there is none.
      const sets: string[] = ['#g = if_not_exists(#assigned, :mapped)'];
      const names: Record<string, string> = {
        '#syncId': 'syncId',
        '#g': 'groupPolicyId',
        '#assigned': 'assignedGroupPolicyId',
      };
      const values: Record<string, unknown> = { ':id': user.syncId, ':mapped': user.mappedGroupPolicyId };
      SYNC_FIELDS.forEach((field, i) => {
        const value = user[field];
        names[`#f${i}`] = field;
        if (value === undefined) removes.push(`#f${i}`);
        else {
          sets.push(`#f${i} = :f${i}`);
          values[`:f${i}`] = value;
        }
      });
      return this.write(() =>
        this.client.send(
          new UpdateItemCommand({
            TableName: this.table,
            Key: marshall(userItem(user.tenantId, user.username)),
            UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
            // Users stored before the sync knew them (no syncId) are adopted; another AD object's are not taken.
            ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(#syncId) OR #syncId = :id)',
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: marshall(values),
          }),
        ),
      );
    });
  }

  async startBatch(tenantId: string, runId: string, digest: string): Promise<BatchHistory> {
    const out = await this.client.send(
      new UpdateItemCommand({
        TableName: this.table,
        Key: marshall(syncBatchItem(tenantId, runId, digest)),
        UpdateExpression: 'SET #state = :processing, #tenant = :t, #ttl = if_not_exists(#ttl, :ttl)',
        ExpressionAttributeNames: { '#state': 'state', '#ttl': 'ttl', '#tenant': 'tenantId' },
        ExpressionAttributeValues: marshall({
          ':processing': 'processing',
          ':t': tenantId,
          ':ttl': Math.ceil(Date.now() / 1000) + RUN_RETENTION_SECONDS,
        }),
        ReturnValues: 'ALL_OLD',
      }),
    );
    const old = out.Attributes ? unmarshall(out.Attributes) : {};
    return {
      created: [...strings(old.created), ...strings(old.mayCreate)],
      updated: [...strings(old.updated), ...strings(old.mayUpdate)],
    };
  }

  async noteIntent(tenantId: string, runId: string, digest: string, intent: Partial<BatchHistory>) {
    // String sets grow by ADD: a union, so a send that dies never hides what an earlier send was writing.
    const adds: string[] = [];
    const values: Record<string, unknown> = {};
    if (intent.created?.length) {
      adds.push('mayCreate :c');
      values[':c'] = new Set(intent.created);
    }
    if (intent.updated?.length) {
      adds.push('mayUpdate :u');
      values[':u'] = new Set(intent.updated);
    }
    if (adds.length === 0) return;
    await this.client.send(
      new UpdateItemCommand({
        TableName: this.table,
        Key: marshall(syncBatchItem(tenantId, runId, digest)),
        UpdateExpression: `ADD ${adds.join(', ')}`,
        ExpressionAttributeValues: marshall(values),
      }),
    );
  }

  async finishBatch(tenantId: string, runId: string, batch: SyncBatchRecord) {
    await this.client.send(
      new UpdateItemCommand({
        TableName: this.table,
        Key: marshall(syncBatchItem(tenantId, runId, batch.digest)),
        UpdateExpression:
          'SET #state = :state, #seen = :seen, #rejected = :rejected, #created = :c, #updated = :u',
        ExpressionAttributeNames: {
          '#state': 'state',
          // Not `seen`, which held bare AD ids: a record of a run begun before an upgrade is read as such.
          '#seen': 'seenUsers',
          '#rejected': 'rejected',
          '#created': 'created',
          '#updated': 'updated',
        },
        ExpressionAttributeValues: marshall({
          ':state': batch.state,
          ':seen': batch.seen,
          ':rejected': batch.rejected,
          ':c': batch.created,
          ':u': batch.updated,
        }),
      }),
    );
  }

  async listBatches(tenantId: string, runId: string): Promise<SyncBatchRecord[]> {
    const batches: SyncBatchRecord[] = [];
    const prefix = syncBatchPrefix(runId);
    for await (const out of queryPages(this.client, {
      TableName: this.table,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: marshall({ ':pk': tenantItem(tenantId).pk, ':prefix': prefix }),
      ConsistentRead: true,
    })) {
      for (const raw of out.Items ?? []) {
        const item = unmarshall(raw);
        batches.push({
          digest: String(item.sk).slice(prefix.length),
          state: item.state,
          seen: strings(item.seenUsers),
          ...(item.seenUsers === undefined && { legacySeen: strings(item.seen) }),
          created: strings(item.created),
          updated: strings(item.updated),
          rejected: Number(item.rejected ?? 0),
        });
      }
    }
    return batches;
  }

  async *listSyncedUsers(tenantId: string) {
    for await (const out of queryPages(this.client, {
      TableName: this.table,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      FilterExpression: 'attribute_exists(#id)',
      ProjectionExpression: '#u, #id, #at',
      ExpressionAttributeNames: { '#u': 'username', '#id': 'syncId', '#at': 'syncedAt' },
      ExpressionAttributeValues: marshall({ ':pk': tenantItem(tenantId).pk, ':prefix': USER_PREFIX }),
      ConsistentRead: true,
    })) {
      yield (out.Items ?? []).map((raw) => {
        const item = unmarshall(raw);
        return {
          username: String(item.username),
          syncId: String(item.syncId),
          syncedAt: String(item.syncedAt),
        };
      });
    }
  }

  private async write(send: () => Promise<unknown>): Promise<WriteOutcome> {
    try {
      await send();
      return 'written';
    } catch (error) {
      if (isConditionalCheckFailed(error)) return 'conflict';
      this.onWriteError(error);
      return 'failed';
    }
  }

  private ttl(iso: string) {
    return Math.ceil(Date.parse(iso) / 1000) + RUN_RETENTION_SECONDS;
  }
}
