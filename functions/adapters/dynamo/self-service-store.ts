/**
 * The portal's items: a session and an enrolment link each get a partition of their own (like challenges), so
 * they never make a tenant's partition hot, and both carry a TTL past their end. Both are found by the hash of
 * the secret the user holds; the secret itself is never stored.
 */
import {
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { PhoneType, UserPin } from '../../core/model.ts';
import type {
  EnrolmentLink,
  NumberField,
  PortalSession,
  SelfServiceStore,
} from '../../core/ports/self-service.ts';
import { conditionalUpdate, unlessConditionFails } from './errors.ts';
import { userItem } from './keys.ts';

export const portalSessionItem = (hash: string) => ({ pk: `PSESS#${hash}`, sk: 'PSESS' });
export const enrolmentLinkItem = (tenantId: string, hash: string) => ({
  pk: `PLINK#${tenantId}#${hash}`,
  sk: 'PLINK',
});

/** Kept a day past their end, so that a late request reads "expired" rather than nothing. */
const ttlOf = (iso: string) => Math.ceil(Date.parse(iso) / 1000) + 24 * 3600;

export class DynamoSelfServiceStore implements SelfServiceStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  async putSession(hash: string, session: PortalSession) {
    await this.client.send(
      new PutItemCommand({
        TableName: this.table,
        Item: marshall({ ...portalSessionItem(hash), ...session, ttl: ttlOf(session.expiresAt) }),
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async getSession(hash: string): Promise<PortalSession | undefined> {
    const out = await this.client.send(
      new GetItemCommand({
        TableName: this.table,
        Key: marshall(portalSessionItem(hash)),
        ConsistentRead: true,
      }),
    );
    if (!out.Item) return undefined;
    const i = unmarshall(out.Item);
    return {
      tenantId: String(i.tenantId),
      username: String(i.username),
      scope: i.scope === 'full' ? 'full' : 'enrolment',
      createdAt: String(i.createdAt),
      expiresAt: String(i.expiresAt),
      idleUntil: String(i.idleUntil),
    };
  }

  touchSession(hash: string, idleUntil: string, nowIso: string) {
    return conditionalUpdate(this.client, {
      TableName: this.table,
      Key: marshall(portalSessionItem(hash)),
      UpdateExpression: 'SET idleUntil = :idle',
      ConditionExpression: 'attribute_exists(pk) AND idleUntil > :now AND expiresAt > :now',
      ExpressionAttributeValues: marshall({ ':idle': idleUntil, ':now': nowIso }),
    });
  }

  async deleteSession(hash: string) {
    await this.client.send(
      new DeleteItemCommand({ TableName: this.table, Key: marshall(portalSessionItem(hash)) }),
    );
  }

  async putLink(hash: string, link: EnrolmentLink) {
    await this.client.send(
      new PutItemCommand({
        TableName: this.table,
        Item: marshall({ ...enrolmentLinkItem(link.tenantId, hash), ...link, ttl: ttlOf(link.expiresAt) }),
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async useLink(tenantId: string, hash: string, nowIso: string): Promise<EnrolmentLink | undefined> {
    // One conditional write takes it: of any number of concurrent uses, exactly one finds it unused.
    const out = await unlessConditionFails(
      this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: marshall(enrolmentLinkItem(tenantId, hash)),
          UpdateExpression: 'SET usedAt = :now',
          ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(usedAt) AND expiresAt > :now',
          ExpressionAttributeValues: marshall({ ':now': nowIso }),
          ReturnValues: 'ALL_NEW',
        }),
      ),
    );
    if (!out?.Attributes) return undefined;
    const i = unmarshall(out.Attributes);
    if (i.tenantId !== tenantId) return undefined;
    return {
      tenantId,
      username: String(i.username),
      createdAt: String(i.createdAt),
      expiresAt: String(i.expiresAt),
      sentBy: String(i.sentBy),
    };
  }

  setNumber(
    tenantId: string,
    username: string,
    field: NumberField,
    from: string | null,
    to: { e164: string; type: PhoneType },
  ) {
    const typeField = field === 'mobile' ? 'mobileType' : 'secondaryMobileType';
    return conditionalUpdate(this.client, {
      TableName: this.table,
      Key: marshall(userItem(tenantId, username)),
      UpdateExpression: 'SET #n = :to, #t = :type REMOVE syncHash',
      ConditionExpression:
        from === null
          ? 'attribute_exists(pk) AND tenantId = :tenant AND (attribute_not_exists(#n) OR #n = :null)'
          : 'attribute_exists(pk) AND tenantId = :tenant AND #n = :from',
      ExpressionAttributeNames: { '#n': field, '#t': typeField },
      ExpressionAttributeValues: marshall({
        ':to': to.e164,
        ':type': to.type,
        ':tenant': tenantId,
        ...(from === null ? { ':null': null } : { ':from': from }),
      }),
    });
  }

  setPin(tenantId: string, username: string, from: string | null, to: UserPin | null) {
    return conditionalUpdate(this.client, {
      TableName: this.table,
      Key: marshall(userItem(tenantId, username)),
      UpdateExpression: to ? 'SET #p = :to' : 'REMOVE #p',
      ConditionExpression:
        from === null
          ? 'attribute_exists(pk) AND tenantId = :tenant AND attribute_not_exists(#p)'
          : 'attribute_exists(pk) AND tenantId = :tenant AND #p.#h = :from',
      ExpressionAttributeNames: { '#p': 'pin', ...(from !== null && { '#h': 'hash' }) },
      ExpressionAttributeValues: marshall({
        ':tenant': tenantId,
        ...(to && { ':to': to }),
        ...(from !== null && { ':from': from }),
      }),
    });
  }

  async setFlash(tenantId: string, username: string, flash: boolean) {
    const key = marshall(userItem(tenantId, username));
    // Into the existing overrides when there are any (an admin's other overrides stay), else a new map; the
    // conditions make the two cases exclusive, so a race with an admin's first override only retries.
    for (let round = 0; round < 3; round++) {
      const into = await conditionalUpdate(this.client, {
        TableName: this.table,
        Key: key,
        UpdateExpression: 'SET overrides.flash = :f',
        ConditionExpression:
          'attribute_exists(pk) AND tenantId = :tenant AND attribute_type(overrides, :map)',
        ExpressionAttributeValues: marshall({ ':f': flash, ':tenant': tenantId, ':map': 'M' }),
      });
      if (into) return true;
      const fresh = await conditionalUpdate(this.client, {
        TableName: this.table,
        Key: key,
        UpdateExpression: 'SET overrides = :o',
        ConditionExpression:
          'attribute_exists(pk) AND tenantId = :tenant AND attribute_not_exists(overrides)',
        ExpressionAttributeValues: marshall({ ':o': { flash }, ':tenant': tenantId }),
      });
      if (fresh) return true;
    }
    return false;
  }
}
