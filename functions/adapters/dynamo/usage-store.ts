import { type DynamoDBClient, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { UsageStore } from '../../core/ports/usage.ts';
import { messageLogPartitions, usageItem } from './keys.ts';
import { queryPages } from './query.ts';

/**
 * Monthly usage per tenant. Challenges are counted where they already are (the message log's index lists every
 * known user's challenge under its tenant and month), so a login writes nothing for them; messages are counted
 * up with ADD, once per queue batch (see UsageMeter).
 */
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
    return { challenges: await this.countChallenges(tenantId, month), messages: Number(item.messages ?? 0) };
  }

  private async countChallenges(tenantId: string, month: string): Promise<number> {
    let count = 0;
    for (const pk of messageLogPartitions(tenantId, month))
      for await (const out of queryPages(this.client, {
        TableName: this.table,
        IndexName: 'gsi2',
        KeyConditionExpression: 'gsi2pk = :pk',
        ExpressionAttributeValues: marshall({ ':pk': pk }),
        Select: 'COUNT',
      })) {
        count += out.Count ?? 0;
      }
    return count;
  }

  async add(tenantId: string, month: string, counts: { messages: number }) {
    await this.client.send(
      new UpdateItemCommand({
        TableName: this.table,
        Key: marshall(usageItem(tenantId, month)),
        UpdateExpression: 'SET tenantId = :t ADD messages :m',
        ExpressionAttributeValues: marshall({
          ':t': tenantId,
          ':m': counts.messages,
        }),
      }),
    );
  }
}
