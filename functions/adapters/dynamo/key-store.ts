/**
 * API key records: one item per key hash (what a request looks up), listed per tenant through gsi1 under
 * `KEYS#<tenant>`, newest first. The same item shape as the operator's tenant store writes for admin keys.
 */

import { type DynamoDBClient, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { KeyStore, StoredKey } from '../../core/ports/keys.ts';
import { isConditionalCheckFailed } from './errors.ts';
import { keyItem, keyListPartition } from './keys.ts';
import { queryPages } from './query.ts';

export function keyRecordItem(key: StoredKey) {
  const { hash, ...rest } = key;
  return {
    ...keyItem(hash),
    gsi1pk: keyListPartition(key.tenantId),
    gsi1sk: `${key.createdAt}#${key.prefix}`,
    ...rest,
  };
}

export class DynamoKeyStore implements KeyStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  async put(key: StoredKey): Promise<void> {
    await this.client.send(
      new PutItemCommand({
        TableName: this.table,
        Item: marshall(keyRecordItem(key), { removeUndefinedValues: true }),
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async list(tenantId: string): Promise<StoredKey[]> {
    const keys: StoredKey[] = [];
    for await (const out of queryPages(this.client, {
      TableName: this.table,
      IndexName: 'gsi1',
      KeyConditionExpression: 'gsi1pk = :pk',
      ExpressionAttributeValues: marshall({ ':pk': keyListPartition(tenantId) }),
      ScanIndexForward: false,
    })) {
      for (const raw of out.Items ?? []) {
        const item = unmarshall(raw);
        keys.push({
          hash: String(item.pk).slice('KEY#'.length),
          prefix: String(item.prefix),
          kind: item.kind,
          tenantId: String(item.tenantId ?? ''),
          createdAt: String(item.createdAt),
          ...(typeof item.revokedAt === 'string' && { revokedAt: item.revokedAt }),
        });
      }
    }
    return keys;
  }

  async revoke(hash: string, tenantId: string, at: string): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: marshall(keyItem(hash)),
          UpdateExpression: 'SET revokedAt = :at',
          ConditionExpression:
            'attribute_exists(pk) AND tenantId = :tenant AND attribute_not_exists(revokedAt)',
          ExpressionAttributeValues: marshall({ ':at': at, ':tenant': tenantId }),
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }
}
