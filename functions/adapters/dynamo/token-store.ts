/**
 * OATH tokens, one `TOKEN#<tokenId>` item each under the tenant. While a token is pending or active it is also
 * in gsi1 under its owner, so verify finds all of a user's tokens with one query; every state change and
 * every accepted code is a single conditional update of the token's own item, which is what keeps a code
 * usable once and a revoked token dead even when the index lags.
 */
import {
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  type QueryCommandOutput,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { InvalidRequestError } from '../../core/errors.ts';
import type { OathToken, TokenPage, TokenState, TokenStore } from '../../core/ports/tokens.ts';
import { isConditionalCheckFailed } from './errors.ts';
import { tenantItem } from './keys.ts';

const TOKEN_PREFIX = 'TOKEN#';
export const tokenItem = (tenantId: string, tokenId: string) => ({
  pk: tenantItem(tenantId).pk,
  sk: `${TOKEN_PREFIX}${tokenId}`,
});
/** The gsi1 partition of one user's pending and active tokens. Tenant ids hold no `#`, so it is unambiguous. */
export const userTokensPartition = (tenantId: string, username: string) =>
  `TOKENS#${tenantId}#${username.toLowerCase()}`;

const NAMES: Record<string, string> = { '#state': 'state', '#owner': 'username', '#counter': 'counter' };
/** DynamoDB refuses a name the expressions do not use, so each call gets just the ones it uses. */
const namesIn = (...expressions: string[]) =>
  Object.fromEntries(
    Object.entries(NAMES).filter(([placeholder]) => expressions.some((e) => e.includes(placeholder))),
  );

function toToken(item: Record<string, unknown>): OathToken {
  const { pk: _pk, sk: _sk, gsi1pk: _g1, gsi1sk: _g2, ...rest } = item;
  return rest as unknown as OathToken;
}

function encodeCursor(key: QueryCommandOutput['LastEvaluatedKey']): string | undefined {
  if (!key) return undefined;
  return Buffer.from((unmarshall(key) as { sk: string }).sk, 'utf8').toString('base64url');
}

function decodeCursor(tenantId: string, cursor: string | undefined) {
  if (!cursor) return undefined;
  const sk = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!sk.startsWith(TOKEN_PREFIX) || sk.length > 200)
    throw new InvalidRequestError('The cursor is not valid.');
  return marshall({ pk: tenantItem(tenantId).pk, sk });
}

export class DynamoTokenStore implements TokenStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  /** One conditional update; false when its condition fails. */
  private async update(
    tenantId: string,
    tokenId: string,
    update: string,
    condition: string,
    values: Record<string, unknown>,
  ): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: marshall(tokenItem(tenantId, tokenId)),
          UpdateExpression: update,
          ConditionExpression: `attribute_exists(pk) AND ${condition}`,
          ExpressionAttributeNames: namesIn(update, condition),
          ExpressionAttributeValues: marshall(values),
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }

  private async remove(
    tenantId: string,
    tokenId: string,
    condition: string,
    values: Record<string, unknown>,
  ) {
    try {
      await this.client.send(
        new DeleteItemCommand({
          TableName: this.table,
          Key: marshall(tokenItem(tenantId, tokenId)),
          ConditionExpression: condition,
          ExpressionAttributeNames: namesIn(condition),
          ExpressionAttributeValues: marshall(values),
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }

  async create(token: OathToken): Promise<boolean> {
    const listed = token.username && (token.state === 'pending' || token.state === 'active');
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.table,
          Item: marshall(
            {
              ...tokenItem(token.tenantId, token.tokenId),
              ...token,
              ...(listed && {
                gsi1pk: userTokensPartition(token.tenantId, token.username!),
                gsi1sk: token.tokenId,
              }),
            },
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

  async get(tenantId: string, tokenId: string): Promise<OathToken | undefined> {
    const out = await this.client.send(
      new GetItemCommand({
        TableName: this.table,
        Key: marshall(tokenItem(tenantId, tokenId)),
        ConsistentRead: true,
      }),
    );
    const token = out.Item && toToken(unmarshall(out.Item));
    return token?.tenantId === tenantId ? token : undefined;
  }

  async ofUser(tenantId: string, username: string): Promise<OathToken[]> {
    const out = await this.client.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: 'gsi1',
        KeyConditionExpression: 'gsi1pk = :p',
        ExpressionAttributeValues: marshall({ ':p': userTokensPartition(tenantId, username) }),
        Limit: 100,
      }),
    );
    return (out.Items ?? [])
      .map((i) => toToken(unmarshall(i)))
      .filter((t) => t.tenantId === tenantId && t.username === username.toLowerCase());
  }

  async list(
    tenantId: string,
    options: { state?: TokenState; limit: number; cursor?: string },
  ): Promise<TokenPage> {
    const out = await this.client.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ...(options.state && {
          FilterExpression: '#state = :state',
          ExpressionAttributeNames: { '#state': 'state' },
        }),
        ExpressionAttributeValues: marshall({
          ':pk': tenantItem(tenantId).pk,
          ':prefix': TOKEN_PREFIX,
          ...(options.state && { ':state': options.state }),
        }),
        Limit: options.limit,
        ExclusiveStartKey: decodeCursor(tenantId, options.cursor),
      }),
    );
    const cursor = encodeCursor(out.LastEvaluatedKey);
    return { items: (out.Items ?? []).map((i) => toToken(unmarshall(i))), ...(cursor && { cursor }) };
  }

  assign(tenantId: string, tokenId: string, username: string, at: string) {
    return this.update(
      tenantId,
      tokenId,
      'SET #state = :active, #owner = :u, assignedAt = :at, gsi1pk = :g, gsi1sk = :id',
      '#state = :unassigned',
      {
        ':active': 'active',
        ':unassigned': 'unassigned',
        ':u': username.toLowerCase(),
        ':at': at,
        ':g': userTokensPartition(tenantId, username),
        ':id': tokenId,
      },
    );
  }

  activate(tenantId: string, tokenId: string, username: string, step: number, at: string) {
    return this.update(
      tenantId,
      tokenId,
      'SET #state = :active, lastStep = :step, confirmedAt = :at',
      '#state = :pending AND #owner = :u AND lastStep < :step',
      { ':active': 'active', ':pending': 'pending', ':u': username.toLowerCase(), ':step': step, ':at': at },
    );
  }

  acceptStep(tenantId: string, tokenId: string, username: string, step: number) {
    return this.update(
      tenantId,
      tokenId,
      'SET lastStep = :step',
      '#state = :active AND #owner = :u AND lastStep < :step',
      { ':active': 'active', ':u': username.toLowerCase(), ':step': step },
    );
  }

  acceptCounter(tenantId: string, tokenId: string, username: string, matched: number) {
    return this.update(
      tenantId,
      tokenId,
      'SET #counter = :next',
      '#state = :active AND #owner = :u AND #counter <= :m',
      { ':active': 'active', ':u': username.toLowerCase(), ':m': matched, ':next': matched + 1 },
    );
  }

  moveCounter(tenantId: string, tokenId: string, username: string, expected: number, next: number) {
    return this.update(
      tenantId,
      tokenId,
      'SET #counter = :next',
      '#state = :active AND #owner = :u AND #counter = :expected',
      { ':active': 'active', ':u': username.toLowerCase(), ':expected': expected, ':next': next },
    );
  }

  async revoke(tenantId: string, tokenId: string, username: string, at: string) {
    try {
      const out = await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: marshall(tokenItem(tenantId, tokenId)),
          UpdateExpression:
            'SET #state = :revoked, revokedAt = :at REMOVE #owner, sealedSecret, gsi1pk, gsi1sk',
          ConditionExpression: 'attribute_exists(pk) AND #owner = :u AND #state IN (:pending, :active)',
          ExpressionAttributeNames: { '#state': 'state', '#owner': 'username' },
          ExpressionAttributeValues: marshall({
            ':revoked': 'revoked',
            ':pending': 'pending',
            ':active': 'active',
            ':u': username.toLowerCase(),
            ':at': at,
          }),
          ReturnValues: 'ALL_OLD',
        }),
      );
      return out.Attributes ? toToken(unmarshall(out.Attributes)) : undefined;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return undefined;
      throw error;
    }
  }

  discardPending(tenantId: string, tokenId: string, username: string) {
    return this.remove(tenantId, tokenId, '#owner = :u AND #state = :pending', {
      ':u': username.toLowerCase(),
      ':pending': 'pending',
    });
  }

  async discardImported(tenantId: string, tokenId: string, importId: string) {
    await this.remove(tenantId, tokenId, 'importId = :i AND #state = :unassigned', {
      ':i': importId,
      ':unassigned': 'unassigned',
    });
  }
}
