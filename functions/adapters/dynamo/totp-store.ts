/**
 * TOTP enrolments on a `TOTP#<username>` item beside the user. A verification is one read and one
 * conditional update, which is also what makes a code usable only once.
 */
import {
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { TotpAlgorithm, TotpEnrolment, TotpStore } from '../../core/channels/totp.ts';
import { isConditionalCheckFailed } from './errors.ts';

/** Kept here until the key module gains it; the shape follows the other per-user items (`GUARD#`, `USER#`). */
export const totpItem = (tenantId: string, username: string) => ({
  pk: `TENANT#${tenantId}`,
  sk: `TOTP#${username.toLowerCase()}`,
});

function toEnrolment(item: Record<string, unknown>): TotpEnrolment {
  return {
    tenantId: String(item.tenantId),
    username: String(item.username),
    enrolmentId: String(item.enrolmentId),
    sealedSecret: String(item.sealedSecret),
    algorithm: item.algorithm as TotpAlgorithm,
    digits: Number(item.digits) as TotpEnrolment['digits'],
    period: Number(item.period),
    lastStep: Number(item.lastStep),
    confirmed: item.confirmed === true,
    createdAt: String(item.createdAt),
  };
}

export class DynamoTotpStore implements TotpStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  async get(tenantId: string, username: string): Promise<TotpEnrolment | undefined> {
    const out = await this.client.send(
      new GetItemCommand({
        TableName: this.table,
        Key: marshall(totpItem(tenantId, username)),
        // Strong read: a step accepted a moment ago must be seen, or a replay could pass the first check.
        ConsistentRead: true,
      }),
    );
    return out.Item ? toEnrolment(unmarshall(out.Item)) : undefined;
  }

  async put(enrolment: TotpEnrolment): Promise<void> {
    await this.client.send(
      new PutItemCommand({
        TableName: this.table,
        Item: marshall({ ...totpItem(enrolment.tenantId, enrolment.username), ...enrolment }),
      }),
    );
  }

  async acceptStep(tenantId: string, username: string, enrolmentId: string, step: number): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: marshall(totpItem(tenantId, username)),
          UpdateExpression: 'SET lastStep = :step, confirmed = :yes',
          ConditionExpression: 'enrolmentId = :id AND lastStep < :step',
          ExpressionAttributeValues: marshall({ ':step': step, ':yes': true, ':id': enrolmentId }),
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }

  async remove(tenantId: string, username: string): Promise<void> {
    await this.client.send(
      new DeleteItemCommand({ TableName: this.table, Key: marshall(totpItem(tenantId, username)) }),
    );
  }
}
