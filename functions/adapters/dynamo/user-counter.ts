import {
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { CounterState, UserCounter } from '../../core/ports/users.ts';
import { conditionalUpdate, isConditionalCheckFailed } from './errors.ts';
import { tenantItem, USER_PREFIX, userCounterItem } from './keys.ts';
import { queryPages } from './query.ts';

/** The user counter as one item per tenant: `activeUsers`, a `version` every change bumps, and the leases. */
export class DynamoUserCounter implements UserCounter {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  async read(tenantId: string): Promise<CounterState | undefined> {
    const out = await this.client.send(
      new GetItemCommand({
        TableName: this.table,
        Key: marshall(userCounterItem(tenantId)),
        ConsistentRead: true,
      }),
    );
    if (!out.Item) return undefined;
    const item = unmarshall(out.Item);
    return {
      activeUsers: Number(item.activeUsers ?? 0),
      version: Number(item.countVersion ?? 0),
      leases: (item.leases ?? {}) as Record<string, number>,
      ...(typeof item.countedAt === 'string' && { countedAt: item.countedAt }),
    };
  }

  reserve(tenantId: string, leaseId: string, n: number, limit: number, leaseUntil: number) {
    return this.conditional({
      TableName: this.table,
      Key: marshall(userCounterItem(tenantId)),
      UpdateExpression: 'SET leases.#lease = :until ADD activeUsers :n, countVersion :one',
      ConditionExpression: 'attribute_exists(pk) AND activeUsers <= :max',
      ExpressionAttributeNames: { '#lease': leaseId },
      ExpressionAttributeValues: marshall({ ':until': leaseUntil, ':n': n, ':one': 1, ':max': limit - n }),
    });
  }

  renew(tenantId: string, leaseId: string, leaseUntil: number) {
    return this.conditional({
      TableName: this.table,
      Key: marshall(userCounterItem(tenantId)),
      // The version moves too, so a recount that read the lease as expired cannot drop it after this renewal.
      UpdateExpression: 'SET leases.#lease = :until ADD countVersion :one',
      ConditionExpression: 'attribute_exists(leases.#lease)',
      ExpressionAttributeNames: { '#lease': leaseId },
      ExpressionAttributeValues: marshall({ ':until': leaseUntil, ':one': 1 }),
    });
  }

  async release(tenantId: string, leaseId: string, unused: number) {
    await this.conditional({
      TableName: this.table,
      Key: marshall(userCounterItem(tenantId)),
      UpdateExpression: 'REMOVE leases.#lease ADD activeUsers :minus, countVersion :one',
      // A recount that presumed the lease dead already counted what it wrote: then there is nothing to give back.
      ConditionExpression: 'attribute_exists(leases.#lease)',
      ExpressionAttributeNames: { '#lease': leaseId },
      ExpressionAttributeValues: marshall({ ':minus': -unused, ':one': 1 }),
    });
  }

  async decrement(tenantId: string, n: number) {
    // No counter yet means the next reservation counts from scratch; never create one holding a negative count.
    await this.conditional({
      TableName: this.table,
      Key: marshall(userCounterItem(tenantId)),
      UpdateExpression: 'ADD activeUsers :minus, countVersion :one',
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeValues: marshall({ ':minus': -n, ':one': 1 }),
    });
  }

  async countStored(tenantId: string): Promise<number> {
    let count = 0;
    for await (const out of queryPages(this.client, {
      TableName: this.table,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: marshall({ ':pk': tenantItem(tenantId).pk, ':prefix': USER_PREFIX }),
      Select: 'COUNT',
      ConsistentRead: true,
    })) {
      count += out.Count ?? 0;
    }
    return count;
  }

  async reset(tenantId: string, version: number | undefined, count: number, at: string) {
    if (version === undefined) {
      try {
        await this.client.send(
          new PutItemCommand({
            TableName: this.table,
            Item: marshall({
              ...userCounterItem(tenantId),
              tenantId,
              activeUsers: count,
              countVersion: 0,
              leases: {},
              countedAt: at,
            }),
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        );
        return true;
      } catch (error) {
        if (isConditionalCheckFailed(error)) return false;
        throw error;
      }
    }
    return this.conditional({
      TableName: this.table,
      Key: marshall(userCounterItem(tenantId)),
      UpdateExpression: 'SET activeUsers = :count, leases = :none, countedAt = :at, countVersion = :next',
      ConditionExpression: 'countVersion = :seen',
      ExpressionAttributeValues: marshall({
        ':count': count,
        ':none': {},
        ':at': at,
        ':next': version + 1,
        ':seen': version,
      }),
    });
  }

  private conditional(input: UpdateItemCommandInput): Promise<boolean> {
    return conditionalUpdate(this.client, input);
  }
}
