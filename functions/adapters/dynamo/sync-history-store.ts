/**
 * Sync run history under the tenant: `SYNCLOG#<runId>` summaries (run ids sort by time, so a reverse query
 * lists the newest first) and `SYNCREJ#<runId>#<batch digest>` with up to REJECTIONS_PER_BATCH of a batch's
 * rejected users. Both stay RUN_HISTORY_DAYS, far beyond the run itself.
 */
import { type DynamoDBClient, GetItemCommand, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { Rejection, RunSummary, SyncHistoryStore } from '../../core/ports/sync-history.ts';
import { conditionalUpdate } from './errors.ts';
import { tenantItem } from './keys.ts';
import { queryPages } from './query.ts';

export const RUN_HISTORY_DAYS = 90;
const logItem = (tenantId: string, runId: string) => ({
  pk: tenantItem(tenantId).pk,
  sk: `SYNCLOG#${runId}`,
});
const rejectionPrefix = (runId: string) => `SYNCREJ#${runId}#`;
const ttlFrom = (iso: string) => Math.ceil(Date.parse(iso) / 1000) + RUN_HISTORY_DAYS * 86400;

function toSummary(item: Record<string, unknown>): RunSummary {
  return {
    runId: String(item.runId),
    mode: item.mode === 'delta' ? 'delta' : 'full',
    status: item.status === 'completed' || item.status === 'completing' ? item.status : 'open',
    createdAt: String(item.createdAt),
    ...(typeof item.completedAt === 'string' && { completedAt: item.completedAt }),
    ...(item.result !== undefined && { result: item.result as RunSummary['result'] }),
  };
}

export class DynamoSyncHistoryStore implements SyncHistoryStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  async started(tenantId: string, run: RunSummary): Promise<void> {
    await this.client.send(
      new PutItemCommand({
        TableName: this.table,
        Item: marshall(
          { ...logItem(tenantId, run.runId), tenantId, ...run, ttl: ttlFrom(run.createdAt) },
          { removeUndefinedValues: true },
        ),
      }),
    );
  }

  async update(
    tenantId: string,
    runId: string,
    change: { status: RunSummary['status']; result?: RunSummary['result']; completedAt?: string },
  ): Promise<void> {
    const sets = ['#status = :status'];
    const values: Record<string, unknown> = { ':status': change.status, ':done': 'completed' };
    if (change.result) {
      sets.push('#result = :result');
      values[':result'] = change.result;
    }
    if (change.completedAt) {
      sets.push('completedAt = :at');
      values[':at'] = change.completedAt;
    }
    await conditionalUpdate(this.client, {
      TableName: this.table,
      Key: marshall(logItem(tenantId, runId)),
      UpdateExpression: `SET ${sets.join(', ')}`,
      ConditionExpression: 'attribute_exists(pk) AND #status <> :done',
      ExpressionAttributeNames: { '#status': 'status', ...(change.result && { '#result': 'result' }) },
      ExpressionAttributeValues: marshall(values),
    });
  }

  async get(tenantId: string, runId: string): Promise<RunSummary | undefined> {
    const out = await this.client.send(
      new GetItemCommand({
        TableName: this.table,
        Key: marshall(logItem(tenantId, runId)),
        ConsistentRead: true,
      }),
    );
    return out.Item ? toSummary(unmarshall(out.Item)) : undefined;
  }

  async list(tenantId: string, limit: number, cursor?: string) {
    const out = await this.client.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: marshall({ ':pk': tenantItem(tenantId).pk, ':prefix': 'SYNCLOG#' }),
        ScanIndexForward: false,
        Limit: limit,
        ...(cursor && { ExclusiveStartKey: marshall(logItem(tenantId, cursor)) }),
      }),
    );
    const runs = (out.Items ?? []).map((raw) => toSummary(unmarshall(raw)));
    const last = runs.at(-1);
    return { runs, ...(out.LastEvaluatedKey && last && { cursor: last.runId }) };
  }

  async putRejections(tenantId: string, runId: string, digest: string, rejections: Rejection[], at: string) {
    await this.client.send(
      new PutItemCommand({
        TableName: this.table,
        Item: marshall({
          pk: tenantItem(tenantId).pk,
          sk: `${rejectionPrefix(runId)}${digest}`,
          tenantId,
          at,
          rejections,
          ttl: ttlFrom(at),
        }),
      }),
    );
  }

  async rejections(tenantId: string, runId: string, limit: number) {
    const batches: Array<{ at: string; rejections: Rejection[] }> = [];
    for await (const out of queryPages(this.client, {
      TableName: this.table,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: marshall({
        ':pk': tenantItem(tenantId).pk,
        ':prefix': rejectionPrefix(runId),
      }),
    }))
      for (const raw of out.Items ?? []) {
        const item = unmarshall(raw);
        batches.push({ at: String(item.at), rejections: (item.rejections ?? []) as Rejection[] });
      }
    batches.sort((a, b) => b.at.localeCompare(a.at));
    const all = batches.flatMap((b) => b.rejections);
    return { rejections: all.slice(0, limit), more: all.length > limit };
  }
}
