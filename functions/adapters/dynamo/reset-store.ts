/**
 * Self-service password resets: `PWRESET#<tenant>#<secret>`, a partition each, gone by TTL after the expiry.
 * Every step is one conditional write on `step`, so a reset id moves forward once and is used once.
 */
import { type DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { PasswordReset, ResetStep, ResetStore } from '../../core/password-reset.ts';
import { conditionalUpdate } from './errors.ts';

const resetItem = (tenantId: string, secret: string) => ({
  pk: `PWRESET#${tenantId}#${secret}`,
  sk: 'PWRESET',
});

export class DynamoResetStore implements ResetStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  async create(reset: PasswordReset): Promise<void> {
    await this.client.send(
      new PutItemCommand({
        TableName: this.table,
        Item: marshall(
          {
            ...resetItem(reset.tenantId, reset.secret),
            ...reset,
            ttl: Math.ceil(Date.parse(reset.expiresAt) / 1000),
          },
          { removeUndefinedValues: true },
        ),
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async get(tenantId: string, secret: string): Promise<PasswordReset | undefined> {
    const out = await this.client.send(
      new GetItemCommand({
        TableName: this.table,
        Key: marshall(resetItem(tenantId, secret)),
        ConsistentRead: true,
      }),
    );
    if (!out.Item) return undefined;
    const item = unmarshall(out.Item);
    if (item.tenantId !== tenantId) return undefined;
    return {
      tenantId,
      secret,
      username: String(item.username),
      known: item.known === true,
      challengeId: String(item.challengeId),
      step: item.step as ResetStep,
      expiresAt: String(item.expiresAt),
      ...(typeof item.domain === 'string' && { domain: item.domain }),
    };
  }

  move(tenantId: string, secret: string, from: ResetStep, to: ResetStep, nowIso: string): Promise<boolean> {
    return conditionalUpdate(this.client, {
      TableName: this.table,
      Key: marshall(resetItem(tenantId, secret)),
      UpdateExpression: 'SET #step = :to',
      ConditionExpression: 'attribute_exists(pk) AND #step = :from AND expiresAt > :now',
      ExpressionAttributeNames: { '#step': 'step' },
      ExpressionAttributeValues: marshall({ ':from': from, ':to': to, ':now': nowIso }),
    });
  }
}
