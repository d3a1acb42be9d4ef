import { type DynamoDBClient, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { UsageStore } from '../../core/directory-ports.ts';
import { usageItem } from './keys.ts';

/** Monthly usage counters per tenant, one item per month (`YYYY-MM`), counted up with ADD. */
export class DynamoUsageStore implements UsageStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  async get(tenantId: string, month: string) {
    const out = await this.client.send(
      new GetItemCommand({ TableName: this.table, Key: marshall(usageItem(tenantId, month)) }),
    );
    const item = out.Item ? unmarshall(out.Item) : {};
    return { challenges: Number(item.challenges ?? 0), messages: Number(item.messages ?? 0) };
  }

  async add(tenantId: string, month: string, counts: { challenges?: number; messages?: number }) {
    await this.client.send(
      new UpdateItemCommand({
        TableName: this.table,
        Key: marshall(usageItem(tenantId, month)),
        UpdateExpression: 'SET tenantId = :t ADD challenges :c, messages :m',
        ExpressionAttributeValues: marshall({
          ':t': tenantId,
          ':c': counts.challenges ?? 0,
          ':m': counts.messages ?? 0,
        }),
      }),
    );
  }
}
