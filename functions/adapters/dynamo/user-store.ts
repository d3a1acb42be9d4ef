import {
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  QueryCommand,
  type QueryCommandOutput,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { InvalidRequestError } from '../../core/errors.ts';
import type { PhoneType } from '../../core/model.ts';
import type { ManagedUser, UserPage, UserStore } from '../../core/ports/users.ts';
import { isConditionalCheckFailed } from './errors.ts';
import { tenantItem, USER_PREFIX, userItem } from './keys.ts';
import { queryPages } from './query.ts';

type Item = Record<string, unknown>;
const str = (v: unknown) => (typeof v === 'string' ? v : undefined);

const isPin = (v: unknown): v is { hash: string; length: number } =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as { hash?: unknown }).hash === 'string' &&
  typeof (v as { length?: unknown }).length === 'number';

export function toManagedUser(item: Item): ManagedUser {
  const optional = <K extends keyof ManagedUser>(key: K, value: ManagedUser[K] | undefined) =>
    value === undefined ? {} : { [key]: value };
  return {
    tenantId: String(item.tenantId),
    username: String(item.username),
    mobile: str(item.mobile) ?? null,
    secondaryMobile: str(item.secondaryMobile) ?? null,
    email: str(item.email) ?? null,
    ...optional('mobileType', str(item.mobileType) as PhoneType | undefined),
    ...optional('secondaryMobileType', str(item.secondaryMobileType) as PhoneType | undefined),
    ...(item.groupPolicyId !== undefined && { groupPolicyId: str(item.groupPolicyId) ?? null }),
    ...(item.locked === true && { locked: true }),
    ...optional('syncId', str(item.syncId)),
    ...optional('domain', str(item.domain)),
    ...(item.displayName !== undefined && { displayName: str(item.displayName) ?? null }),
    ...(item.groupDn !== undefined && { groupDn: str(item.groupDn) ?? null }),
    ...optional('assignedGroupPolicyId', str(item.assignedGroupPolicyId)),
    ...optional('assignedAt', str(item.assignedAt)),
    ...(item.mappedGroupPolicyId !== undefined && {
      mappedGroupPolicyId: str(item.mappedGroupPolicyId) ?? null,
    }),
    ...optional('syncHash', str(item.syncHash)),
    ...optional('syncedAt', str(item.syncedAt)),
    ...optional('createdAt', str(item.createdAt)),
    ...optional('lockedAt', str(item.lockedAt)),
    ...optional('overrides', item.overrides as ManagedUser['overrides']),
    ...(isPin(item.pin) && { pin: { hash: item.pin.hash, length: item.pin.length } }),
  };
}

/** Cursors are opaque to callers, and checked to belong to the tenant that presents them. */
function encodeCursor(key: QueryCommandOutput['LastEvaluatedKey']): string | undefined {
  if (!key) return undefined;
  const { sk } = unmarshall(key) as { sk: string };
  return Buffer.from(sk, 'utf8').toString('base64url');
}

function decodeCursor(tenantId: string, cursor: string | undefined) {
  if (!cursor) return undefined;
  const sk = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!sk.startsWith(USER_PREFIX) || sk.length > 600)
    throw new InvalidRequestError('The cursor is not valid.');
  return marshall({ pk: tenantItem(tenantId).pk, sk });
}

export class DynamoUserStore implements UserStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  async get(tenantId: string, username: string) {
    const out = await this.client.send(
      new GetItemCommand({ TableName: this.table, Key: marshall(userItem(tenantId, username)) }),
    );
    if (!out.Item) return undefined;
    const user = toManagedUser(unmarshall(out.Item));
    return user.tenantId === tenantId ? user : undefined;
  }

  async list(
    tenantId: string,
    options: { prefix?: string; limit: number; cursor?: string },
  ): Promise<UserPage> {
    const out = await this.client.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: marshall({
          ':pk': tenantItem(tenantId).pk,
          ':prefix': `${USER_PREFIX}${(options.prefix ?? '').toLowerCase()}`,
        }),
        Limit: options.limit,
        ExclusiveStartKey: decodeCursor(tenantId, options.cursor),
      }),
    );
    const cursor = encodeCursor(out.LastEvaluatedKey);
    return {
      users: (out.Items ?? []).map((i) => toManagedUser(unmarshall(i))),
      ...(cursor && { cursor }),
    };
  }

  async updateAdminFields(
    tenantId: string,
    username: string,
    fields: Parameters<UserStore['updateAdminFields']>[2],
  ): Promise<ManagedUser | undefined> {
    const sets: string[] = [];
    const removes: string[] = [];
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    const { groupPolicy, ...plain } = fields;
    if (groupPolicy) {
      Object.assign(names, {
        '#g': 'groupPolicyId',
        '#ga': 'assignedGroupPolicyId',
        '#gat': 'assignedAt',
        '#gm': 'mappedGroupPolicyId',
      });
      if (groupPolicy.assign !== null) {
        // The mapping is kept apart first, for items the sync wrote before it stored it there.
        sets.push('#ga = :ga', '#g = :ga', '#gat = :gat', '#gm = if_not_exists(#gm, :gm)');
        Object.assign(values, {
          ':ga': groupPolicy.assign,
          ':gat': groupPolicy.at,
          ':gm': groupPolicy.mapped,
        });
      } else {
        // Read from the item itself in the same write, so a sync that changed the mapping meanwhile wins.
        sets.push('#g = if_not_exists(#gm, :gm)');
        removes.push('#ga', '#gat');
        values[':gm'] = groupPolicy.mapped;
      }
    }
    for (const [name, value] of Object.entries(plain)) {
      if (value === undefined) continue;
      names[`#${name}`] = name;
      if (value === null) removes.push(`#${name}`);
      else {
        sets.push(`#${name} = :${name}`);
        values[`:${name}`] = value;
      }
    }
    if (sets.length === 0 && removes.length === 0) return this.get(tenantId, username);
    try {
      const out = await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: marshall(userItem(tenantId, username)),
          UpdateExpression: [
            sets.length ? `SET ${sets.join(', ')}` : '',
            removes.length ? `REMOVE ${removes.join(', ')}` : '',
          ].join(' '),
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: names,
          ...(sets.length && {
            ExpressionAttributeValues: marshall(values, { removeUndefinedValues: true }),
          }),
          ReturnValues: 'ALL_NEW',
        }),
      );
      return out.Attributes ? toManagedUser(unmarshall(out.Attributes)) : undefined;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return undefined;
      throw error;
    }
  }

  async delete(tenantId: string, username: string, sync?: { syncId: string; syncedBefore?: string }) {
    const before = sync?.syncedBefore;
    try {
      const out = await this.client.send(
        new DeleteItemCommand({
          TableName: this.table,
          Key: marshall(userItem(tenantId, username)),
          ConditionExpression: !sync
            ? 'attribute_exists(pk)'
            : before === undefined
              ? '#id = :id'
              : // An assignment made since the run began may have been meant to keep the user: the next run decides.
                '#id = :id AND #at < :before AND (attribute_not_exists(#as) OR #as < :before)',
          ...(sync && {
            ExpressionAttributeNames: {
              '#id': 'syncId',
              ...(before !== undefined && { '#at': 'syncedAt', '#as': 'assignedAt' }),
            },
            ExpressionAttributeValues: marshall({
              ':id': sync.syncId,
              ...(before !== undefined && { ':before': before }),
            }),
          }),
          ReturnValues: 'ALL_OLD',
        }),
      );
      return out.Attributes ? toManagedUser(unmarshall(out.Attributes)) : undefined;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return undefined;
      throw error;
    }
  }

  async anyWithGroupPolicy(tenantId: string, groupPolicyId: string) {
    for await (const out of queryPages(this.client, {
      TableName: this.table,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      FilterExpression: '#g = :id',
      ExpressionAttributeNames: { '#g': 'groupPolicyId' },
      ExpressionAttributeValues: marshall({
        ':pk': tenantItem(tenantId).pk,
        ':prefix': USER_PREFIX,
        ':id': groupPolicyId,
      }),
      ProjectionExpression: 'pk',
    })) {
      if ((out.Count ?? 0) > 0) return true;
    }
    return false;
  }
}
