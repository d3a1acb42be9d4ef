/**
 * Fixed-window abuse limits as one item per tenant and window: every counter of a challenge (user, number,
 * client IP, tenant) goes up in a single conditional UpdateItem, or none does. The item expires by TTL.
 */
import { type DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { LimitCounter, RateLimiter } from '../../core/ports/abuse.ts';
import { isConditionalCheckFailed } from './errors.ts';
import { limitItem } from './keys.ts';

export class DynamoRateLimiter implements RateLimiter {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  async hit(tenantId: string, window: number, expiresAtSeconds: number, counters: LimitCounter[]) {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = { ':one': 1, ':ttl': expiresAtSeconds };
    const adds: string[] = [];
    const conditions: string[] = [];
    counters.forEach((counter, i) => {
      names[`#c${i}`] = counter.name;
      values[`:m${i}`] = counter.max;
      adds.push(`#c${i} :one`);
      conditions.push(`(attribute_not_exists(#c${i}) OR #c${i} < :m${i})`);
    });
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: marshall(limitItem(tenantId, window)),
          UpdateExpression: `SET #ttl = :ttl ADD ${adds.join(', ')}`,
          ConditionExpression: conditions.join(' AND '),
          ExpressionAttributeNames: { ...names, '#ttl': 'ttl' },
          ExpressionAttributeValues: marshall(values),
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }
}
