import {
  type AttributeValue,
  BatchWriteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { TenantDeletion, TenantFields, TenantRecord, TenantStore } from '../../core/ports/tenants.ts';
import { toTenant } from './directory-store.ts';
import { isConditionalCheckFailed } from './errors.ts';
import {
  auditPartition,
  challengeAuditPartitions,
  keyItem,
  keyListPartition,
  messageLogPartitions,
  TENANT_LIST,
  tenantItem,
} from './keys.ts';
import { queryPages } from './query.ts';

const toRecord = (item: Record<string, unknown>): TenantRecord => ({
  ...toTenant(item),
  createdAt: String(item.createdAt ?? ''),
  ...(typeof item.updatedAt === 'string' && { updatedAt: item.updatedAt }),
  ...(item.deletion !== null &&
    typeof item.deletion === 'object' && { deletion: item.deletion as TenantDeletion }),
});

/**
 * Every month (`YYYY-MM`) from the tenant's creation to the month after `now` (clocks differ a little); a
 * tenant without a creation date gets the audit retention and more.
 */
export function monthsSince(createdAt: string | undefined, now: Date): string[] {
  const from = createdAt && !Number.isNaN(Date.parse(createdAt)) ? new Date(createdAt) : undefined;
  const start = from
    ? from.getUTCFullYear() * 12 + from.getUTCMonth() - 1
    : now.getUTCFullYear() * 12 + now.getUTCMonth() - 36;
  const end = now.getUTCFullYear() * 12 + now.getUTCMonth() + 1;
  const months: string[] = [];
  for (let m = start; m <= end; m++)
    months.push(`${Math.floor(m / 12)}-${String((m % 12) + 1).padStart(2, '0')}`);
  return months;
}

export class DynamoTenantStore implements TenantStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  async create(tenant: TenantRecord) {
    const { id, ...rest } = tenant;
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.table,
          Item: marshall(
            { ...tenantItem(id), ...TENANT_LIST, gsi1sk: id, tenantId: id, ...rest },
            { removeUndefinedValues: true },
          ),
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }

  async get(tenantId: string) {
    const out = await this.client.send(
      new GetItemCommand({
        TableName: this.table,
        Key: marshall(tenantItem(tenantId)),
        ConsistentRead: true,
      }),
    );
    return out.Item ? toRecord(unmarshall(out.Item)) : undefined;
  }

  async list() {
    const tenants: TenantRecord[] = [];
    for await (const out of queryPages(this.client, {
      TableName: this.table,
      IndexName: 'gsi1',
      KeyConditionExpression: 'gsi1pk = :pk',
      ExpressionAttributeValues: marshall({ ':pk': TENANT_LIST.gsi1pk }),
    })) {
      for (const raw of out.Items ?? []) tenants.push(toRecord(unmarshall(raw)));
    }
    return tenants;
  }

  async update(tenantId: string, fields: TenantFields) {
    const entries = Object.entries(fields).filter(([, v]) => v !== undefined);
    if (entries.length === 0) return this.get(tenantId);
    try {
      const out = await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: marshall(tenantItem(tenantId)),
          UpdateExpression: `SET ${entries.map((_, i) => `#f${i} = :f${i}`).join(', ')}`,
          ConditionExpression: 'attribute_exists(pk) AND #status <> :deleted',
          ExpressionAttributeNames: {
            '#status': 'status',
            ...Object.fromEntries(entries.map(([k], i) => [`#f${i}`, k])),
          },
          ExpressionAttributeValues: marshall(
            { ':deleted': 'deleted', ...Object.fromEntries(entries.map(([, v], i) => [`:f${i}`, v])) },
            { removeUndefinedValues: true },
          ),
          ReturnValues: 'ALL_NEW',
        }),
      );
      return out.Attributes ? toRecord(unmarshall(out.Attributes)) : undefined;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return undefined;
      throw error;
    }
  }

  async purge(tenantId: string) {
    const tombstone = tenantItem(tenantId);
    const stored = await this.get(tenantId);
    let purged = 0;
    const seen = new Set<string>();
    const drop = async (keys: Array<Record<string, AttributeValue>>) => {
      const fresh = keys.filter((k) => {
        const id = `${k.pk?.S}\u0000${k.sk?.S}`;
        if (k.pk?.S === tombstone.pk && k.sk?.S === tombstone.sk) return false;
        if (seen.has(id)) return false;
        seen.add(id);
        return true;
      });
      await this.deleteKeys(fresh);
      purged += fresh.length;
    };
    const sweep = async (input: { IndexName?: string; key: string; value: string }) => {
      for await (const out of queryPages(this.client, {
        TableName: this.table,
        ...(input.IndexName && { IndexName: input.IndexName }),
        KeyConditionExpression: '#k = :v',
        ExpressionAttributeNames: { '#k': input.key },
        ExpressionAttributeValues: marshall({ ':v': input.value }),
        ProjectionExpression: 'pk, sk',
      }))
        await drop(out.Items ?? []);
    };

    // The tenant's partition: users, settings, tokens, agents, sync runs, usage.
    await sweep({ key: 'pk', value: tombstone.pk });
    // API keys live in their own partitions (looked up by hash); gsi1 lists them by tenant.
    await sweep({ IndexName: 'gsi1', key: 'gsi1pk', value: keyListPartition(tenantId) });
    // Audit entries, accepted challenges and the message log are partitioned by month; no month of the
    // tenant's can be older than the tenant.
    for (const month of monthsSince(stored?.createdAt, new Date())) {
      await sweep({ key: 'pk', value: auditPartition(tenantId, month).pk });
      for (const value of challengeAuditPartitions(tenantId, month))
        await sweep({ IndexName: 'gsi3', key: 'gsi3pk', value });
      for (const value of messageLogPartitions(tenantId, month))
        await sweep({ IndexName: 'gsi2', key: 'gsi2pk', value });
    }
    return purged;
  }

  private async deleteKeys(keys: Array<Record<string, AttributeValue>>) {
    for (let i = 0; i < keys.length; i += 25) {
      let requests: WriteRequest[] = keys
        .slice(i, i + 25)
        .map((k) => ({ DeleteRequest: { Key: { pk: k.pk!, sk: k.sk! } } }));
      for (let round = 0; requests.length > 0; round++) {
        if (round >= 8) throw new Error('DynamoDB left deletes unprocessed after retries');
        if (round > 0) await new Promise((r) => setTimeout(r, 2 ** round * 10));
        const res = await this.client.send(
          new BatchWriteItemCommand({ RequestItems: { [this.table]: requests } }),
        );
        requests = res.UnprocessedItems?.[this.table] ?? [];
      }
    }
  }

  async setDeletion(tenantId: string, deletion: TenantDeletion) {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: marshall(tenantItem(tenantId)),
          UpdateExpression: 'SET deletion = :d',
          ConditionExpression: '#status = :deleted',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: marshall(
            { ':d': deletion, ':deleted': 'deleted' },
            { removeUndefinedValues: true },
          ),
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }

  async putKey(record: { hash: string; prefix: string; kind: 'admin'; tenantId: string; createdAt: string }) {
    const { hash, ...rest } = record;
    await this.client.send(
      new PutItemCommand({
        TableName: this.table,
        Item: marshall({
          ...keyItem(hash),
          gsi1pk: keyListPartition(record.tenantId),
          gsi1sk: `${record.createdAt}#${record.prefix}`,
          ...rest,
        }),
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }
}
