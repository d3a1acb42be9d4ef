/** Browser sessions: one item each, read by key, with a TTL at the session's absolute end. */
import {
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { WebSessionRecord, WebSessionStore } from '../../core/ports/web-sessions.ts';
import { conditionalUpdate } from './errors.ts';
import { webSessionItem } from './keys.ts';

export class DynamoWebSessionStore implements WebSessionStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  async put(record: WebSessionRecord): Promise<void> {
    await this.client.send(
      new PutItemCommand({
        TableName: this.table,
        Item: marshall({
          ...webSessionItem(record.kind, record.tenantId, record.idHash),
          principal: record.principal,
          csrf: record.csrf,
          createdAt: record.createdAt,
          lastSeenAt: record.lastSeenAt,
          expiresAt: record.expiresAt,
          ttl: Math.ceil(record.expiresAt / 1000),
        }),
        // A 256-bit id never repeats; the condition only keeps a bug from overwriting someone's session.
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async get(kind: string, tenantId: string, idHash: string): Promise<WebSessionRecord | undefined> {
    const out = await this.client.send(
      new GetItemCommand({
        TableName: this.table,
        Key: marshall(webSessionItem(kind, tenantId, idHash)),
        ConsistentRead: true,
      }),
    );
    if (!out.Item) return undefined;
    const item = unmarshall(out.Item);
    return {
      kind,
      tenantId,
      idHash,
      principal: item.principal as Record<string, unknown>,
      csrf: String(item.csrf),
      createdAt: Number(item.createdAt),
      lastSeenAt: Number(item.lastSeenAt),
      expiresAt: Number(item.expiresAt),
    };
  }

  async touch(kind: string, tenantId: string, idHash: string, lastSeenAt: number): Promise<void> {
    await conditionalUpdate(this.client, {
      TableName: this.table,
      Key: marshall(webSessionItem(kind, tenantId, idHash)),
      UpdateExpression: 'SET lastSeenAt = :at',
      // Never brings back a session that sign-out deleted in the meantime.
      ConditionExpression: 'attribute_exists(pk) AND lastSeenAt < :at',
      ExpressionAttributeValues: marshall({ ':at': lastSeenAt }),
    });
  }

  async delete(kind: string, tenantId: string, idHash: string): Promise<void> {
    await this.client.send(
      new DeleteItemCommand({ TableName: this.table, Key: marshall(webSessionItem(kind, tenantId, idHash)) }),
    );
  }
}
