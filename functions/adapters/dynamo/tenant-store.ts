import {
  BatchWriteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { TenantFields, TenantRecord, TenantStore } from '../../core/ports/tenants.ts';
import { toTenant } from './directory-store.ts';
import { isConditionalCheckFailed } from './errors.ts';
import { keyItem, keyListPartition, TENANT_LIST, tenantItem } from './keys.ts';
import { queryPages } from './query.ts';

const toRecord = (item: Record<string, unknown>): TenantRecord => ({
  ...toTenant(item),
  createdAt: String(item.createdAt ?? ''),
  ...(typeof item.updatedAt === 'string' && { updatedAt: item.updatedAt }),
});

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
    let purged = 0;
    for await (const out of queryPages(this.client, {
      TableName: this.table,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: marshall({ ':pk': tenantItem(tenantId).pk }),
      ProjectionExpression: 'pk, sk',
    })) {
      const keys = (out.Items ?? []).filter((i) => i.sk?.S !== tenantItem(tenantId).sk);
      for (let i = 0; i < keys.length; i += 25) {
        let requests: WriteRequest[] = keys.slice(i, i + 25).map((Key) => ({ DeleteRequest: { Key } }));
        for (let round = 0; requests.length > 0; round++) {
          if (round >= 8) throw new Error('DynamoDB left deletes unprocessed after retries');
          if (round > 0) await new Promise((r) => setTimeout(r, 2 ** round * 10));
          const res = await this.client.send(
            new BatchWriteItemCommand({ RequestItems: { [this.table]: requests } }),
          );
          requests = res.UnprocessedItems?.[this.table] ?? [];
        }
      }
      purged += keys.length;
    }
    return purged;
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
