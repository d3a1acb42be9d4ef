/**
 * Per-username lockout state on a `GUARD#` item beside the user. It is read in the same batch as the user when
 * a challenge is made, and written only when something fails (or a success follows failures). Guards exist for
 * unknown usernames too, so every write sets a TTL: what attackers make goes away by itself.
 */
import {
  type DynamoDBClient,
  GetItemCommand,
  UpdateItemCommand,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { PersonalPasscode, UserGuard } from '../../core/model.ts';
import type { GuardStore } from '../../core/ports/abuse.ts';
import { conditionalUpdate, isConditionalCheckFailed } from './errors.ts';
import { guardItem } from './keys.ts';

/** Longer than any lock (at most a day) and any personal passcode window (it ends within 60 days). */
const KEEP_SECONDS = 60 * 24 * 3600;
const ttlFrom = (iso: string) => Math.ceil(Date.parse(iso) / 1000) + KEEP_SECONDS;

export function toGuard(item: Record<string, unknown>): UserGuard {
  const personal = item.personal as PersonalPasscode | undefined;
  return {
    failures: typeof item.failures === 'number' ? item.failures : 0,
    ...(typeof item.lockedUntil === 'string' && { lockedUntil: item.lockedUntil }),
    ...(personal && typeof personal.hash === 'string' && { personal }),
  };
}

export class DynamoGuardStore implements GuardStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  async admit(
    tenantId: string,
    username: string,
    options: { nowIso: string; wrong: boolean; maxFailures: number },
  ) {
    const { nowIso, wrong, maxFailures } = options;
    try {
      const out = await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: marshall(guardItem(tenantId, username)),
          UpdateExpression: wrong
            ? 'ADD failures :one SET lastFailureAt = :now, #ttl = :ttl'
            : 'SET lastVerifyAt = :now, #ttl = :ttl',
          ConditionExpression:
            '(attribute_not_exists(lockedUntil) OR lockedUntil <= :now) AND attribute_not_exists(adminLocked) ' +
            'AND (attribute_not_exists(failures) OR failures < :max)',
          ExpressionAttributeNames: { '#ttl': 'ttl' },
          ExpressionAttributeValues: marshall({
            ...(wrong && { ':one': 1 }),
            ':now': nowIso,
            ':ttl': ttlFrom(nowIso),
            ':max': maxFailures,
          }),
          ReturnValues: 'ALL_NEW',
        }),
      );
      return { admitted: true as const, failures: toGuard(unmarshall(out.Attributes ?? {})).failures };
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      const guard = await this.get(tenantId, username);
      return {
        admitted: false as const,
        ...(guard?.lockedUntil && guard.lockedUntil > nowIso && { until: guard.lockedUntil }),
      };
    }
  }

  async setAdminLock(tenantId: string, username: string, locked: boolean, nowIso: string) {
    await this.client.send(
      new UpdateItemCommand({
        TableName: this.table,
        Key: marshall(guardItem(tenantId, username)),
        ...(locked
          ? {
              UpdateExpression: 'SET adminLocked = :true, #ttl = :ttl',
              ExpressionAttributeNames: { '#ttl': 'ttl' },
              // The user item holds the lasting lock that stops new challenges; this copy only has to outlive
              // the challenges already open, which live minutes.
              ExpressionAttributeValues: marshall({ ':true': true, ':ttl': ttlFrom(nowIso) }),
            }
          : { UpdateExpression: 'REMOVE adminLocked' }),
      }),
    );
  }

  async lock(tenantId: string, username: string, maxFailures: number, until: string) {
    return this.conditional({
      Key: marshall(guardItem(tenantId, username)),
      UpdateExpression: 'SET lockedUntil = :until, failures = :zero ADD lockCount :one',
      ConditionExpression: 'failures >= :max',
      ExpressionAttributeValues: marshall({ ':until': until, ':zero': 0, ':one': 1, ':max': maxFailures }),
    });
  }

  async clearFailures(tenantId: string, username: string) {
    await this.conditional({
      Key: marshall(guardItem(tenantId, username)),
      UpdateExpression: 'SET failures = :zero',
      ConditionExpression: 'failures > :zero',
      ExpressionAttributeValues: marshall({ ':zero': 0 }),
    });
  }

  async unlock(tenantId: string, username: string, nowIso: string) {
    return this.conditional({
      Key: marshall(guardItem(tenantId, username)),
      UpdateExpression: 'SET failures = :zero REMOVE lockedUntil',
      ConditionExpression: 'lockedUntil > :now',
      ExpressionAttributeValues: marshall({ ':zero': 0, ':now': nowIso }),
    });
  }

  async setPersonalPasscode(tenantId: string, username: string, personal: PersonalPasscode | null) {
    await this.client.send(
      new UpdateItemCommand({
        TableName: this.table,
        Key: marshall(guardItem(tenantId, username)),
        ...(personal
          ? {
              UpdateExpression: 'SET personal = :p, #ttl = :ttl',
              ExpressionAttributeNames: { '#ttl': 'ttl' },
              ExpressionAttributeValues: marshall({ ':p': personal, ':ttl': ttlFrom(personal.validUntil) }),
            }
          : { UpdateExpression: 'REMOVE personal' }),
      }),
    );
  }

  async get(tenantId: string, username: string): Promise<UserGuard | undefined> {
    const out = await this.client.send(
      new GetItemCommand({
        TableName: this.table,
        Key: marshall(guardItem(tenantId, username)),
        ConsistentRead: true,
      }),
    );
    return out.Item ? toGuard(unmarshall(out.Item)) : undefined;
  }

  private conditional(input: Omit<UpdateItemCommandInput, 'TableName'>): Promise<boolean> {
    return conditionalUpdate(this.client, { TableName: this.table, ...input });
  }
}
