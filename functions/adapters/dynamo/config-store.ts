import {
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { ConfigKind, ConfigKinds, ConfigStore } from '../../core/ports/tenant-config.ts';
import { isConditionalCheckFailed } from './errors.ts';
import { configItem, tenantItem } from './keys.ts';
import { queryPages } from './query.ts';

/** The sort-key prefix of each kind of tenant configuration object. */
export const CONFIG_PREFIX: Record<ConfigKind, string> = {
  modemGroup: 'MODEMGROUP',
  provider: 'PROVIDER',
  loadBalancing: 'LBPOLICY',
  group: 'GROUPPOLICY',
  integration: 'INTEGRATION',
};

function fromItem<K extends ConfigKind>(item: Record<string, unknown>): ConfigKinds[K] {
  // Providers have a `kind` of their own, so the item's kind is stored as `configKind`.
  const { pk: _pk, sk: _sk, tenantId: _t, configKind: _c, ...value } = item;
  return value as unknown as ConfigKinds[K];
}

export class DynamoConfigStore implements ConfigStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  async get<K extends ConfigKind>(tenantId: string, kind: K, id: string) {
    const out = await this.client.send(
      new GetItemCommand({
        TableName: this.table,
        Key: marshall(configItem(tenantId, CONFIG_PREFIX[kind], id)),
        ConsistentRead: true,
      }),
    );
    if (!out.Item) return undefined;
    const item = unmarshall(out.Item);
    return item.tenantId === tenantId ? fromItem<K>(item) : undefined;
  }

  async list<K extends ConfigKind>(tenantId: string, kind: K) {
    const values: Array<ConfigKinds[K]> = [];
    for await (const out of queryPages(this.client, {
      TableName: this.table,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: marshall({
        ':pk': tenantItem(tenantId).pk,
        ':prefix': `${CONFIG_PREFIX[kind]}#`,
      }),
      ConsistentRead: true,
    })) {
      for (const raw of out.Items ?? []) values.push(fromItem<K>(unmarshall(raw)));
    }
    return values;
  }

  async put<K extends ConfigKind>(
    tenantId: string,
    kind: K,
    id: string,
    value: ConfigKinds[K],
    mode: 'create' | 'replace',
  ) {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.table,
          Item: marshall(
            {
              ...(value as object),
              ...configItem(tenantId, CONFIG_PREFIX[kind], id),
              tenantId,
              configKind: kind,
            },
            { removeUndefinedValues: true },
          ),
          ConditionExpression: mode === 'create' ? 'attribute_not_exists(pk)' : 'attribute_exists(pk)',
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }

  async delete(tenantId: string, kind: ConfigKind, id: string) {
    try {
      await this.client.send(
        new DeleteItemCommand({
          TableName: this.table,
          Key: marshall(configItem(tenantId, CONFIG_PREFIX[kind], id)),
          ConditionExpression: 'attribute_exists(pk)',
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }
}
