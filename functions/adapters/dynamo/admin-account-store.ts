/**
 * Admin accounts: one item per sign-in address (read at sign-in), listed per tenant through gsi1. A set-up link
 * is a small item from the link's hash to the address, gone with its TTL; whether the link is still good is
 * the account's to say (`setupLink`), so spending it is one conditional write on the account.
 */
import { type DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { AlreadyExistsError } from '../../core/admin-errors.ts';
import type {
  AdminAccount,
  AdminAccountStore,
  PasswordHash,
  SetUpStart,
} from '../../core/ports/admin-accounts.ts';
import { conditionalUpdate, isConditionalCheckFailed } from './errors.ts';
import { adminAccountItem, adminAccountListPartition } from './keys.ts';
import { queryPages } from './query.ts';

export class DynamoAdminAccountStore implements AdminAccountStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  async create(account: AdminAccount, options: { replace?: boolean } = {}): Promise<void> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.table,
          Item: marshall(
            {
              ...adminAccountItem(account.email),
              gsi1pk: adminAccountListPartition(account.tenantId),
              gsi1sk: account.email,
              ...account,
            },
            { removeUndefinedValues: true },
          ),
          ...(!options.replace && { ConditionExpression: 'attribute_not_exists(pk)' }),
        }),
      );
    } catch (error) {
      if (isConditionalCheckFailed(error)) throw new AlreadyExistsError('The account');
      throw error;
    }
  }

  async get(email: string): Promise<AdminAccount | undefined> {
    const out = await this.client.send(
      new GetItemCommand({
        TableName: this.table,
        Key: marshall(adminAccountItem(email)),
        ConsistentRead: true,
      }),
    );
    return out.Item ? toAccount(unmarshall(out.Item)) : undefined;
  }

  async listByTenant(tenantId: string): Promise<AdminAccount[]> {
    const accounts: AdminAccount[] = [];
    for await (const out of queryPages(this.client, {
      TableName: this.table,
      IndexName: 'gsi1',
      KeyConditionExpression: 'gsi1pk = :pk',
      ExpressionAttributeValues: marshall({ ':pk': adminAccountListPartition(tenantId) }),
    }))
      for (const raw of out.Items ?? []) accounts.push(toAccount(unmarshall(raw)));
    return accounts;
  }

  admit(email: string, nowIso: string, max: number): Promise<boolean> {
    return conditionalUpdate(this.client, {
      TableName: this.table,
      Key: marshall(adminAccountItem(email)),
      UpdateExpression: 'ADD failures :one',
      ConditionExpression:
        'attribute_exists(pk) AND (attribute_not_exists(failures) OR failures < :max) AND ' +
        '(attribute_not_exists(lockedUntil) OR lockedUntil <= :now)',
      ExpressionAttributeValues: marshall({ ':one': 1, ':max': max, ':now': nowIso }),
    });
  }

  async lock(email: string, max: number, until: string): Promise<void> {
    await conditionalUpdate(this.client, {
      TableName: this.table,
      Key: marshall(adminAccountItem(email)),
      UpdateExpression: 'SET lockedUntil = :until, failures = :zero',
      ConditionExpression: 'failures >= :max',
      ExpressionAttributeValues: marshall({ ':until': until, ':zero': 0, ':max': max }),
    });
  }

  async succeeded(email: string): Promise<void> {
    await conditionalUpdate(this.client, {
      TableName: this.table,
      Key: marshall(adminAccountItem(email)),
      UpdateExpression: 'SET failures = :zero',
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeValues: marshall({ ':zero': 0 }),
    });
  }

  useTotpStep(email: string, step: number): Promise<boolean> {
    return conditionalUpdate(this.client, {
      TableName: this.table,
      Key: marshall(adminAccountItem(email)),
      UpdateExpression: 'SET totpStep = :step',
      ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(totpStep) OR totpStep < :step)',
      ExpressionAttributeValues: marshall({ ':step': step }),
    });
  }

  setDisabled(email: string, disabledAt: string | null): Promise<boolean> {
    return conditionalUpdate(this.client, {
      TableName: this.table,
      Key: marshall(adminAccountItem(email)),
      UpdateExpression: disabledAt ? 'SET disabledAt = :at' : 'REMOVE disabledAt',
      ConditionExpression: 'attribute_exists(pk)',
      ...(disabledAt && { ExpressionAttributeValues: marshall({ ':at': disabledAt }) }),
    });
  }

  async putSetUpLink(linkHash: string, email: string, expiresAt: string): Promise<void> {
    await this.client.send(
      new PutItemCommand({
        TableName: this.table,
        Item: marshall({
          ...setUpLinkItem(linkHash),
          email,
          expiresAt,
          ttl: Math.ceil(Date.parse(expiresAt) / 1000),
        }),
      }),
    );
  }

  async findSetUpLink(linkHash: string): Promise<string | undefined> {
    const out = await this.client.send(
      new GetItemCommand({ TableName: this.table, Key: marshall(setUpLinkItem(linkHash)) }),
    );
    const email = out.Item && unmarshall(out.Item).email;
    return typeof email === 'string' ? email : undefined;
  }

  restartSetUp(email: string, start: SetUpStart): Promise<boolean> {
    return conditionalUpdate(this.client, {
      TableName: this.table,
      Key: marshall(adminAccountItem(email)),
      UpdateExpression:
        'SET setupLink = :link, setupExpiresAt = :exp, setupAttempts = :zero, failures = :zero, ' +
        `secondFactor = :factor${start.sms ? ', sms = :sms' : ''} ` +
        `REMOVE password, sealedTotp, totpStep, setupTotp, setupClaim, lockedUntil${start.sms ? '' : ', sms'}`,
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeValues: marshall({
        ':link': start.linkHash,
        ':exp': start.expiresAt,
        ':zero': 0,
        ':factor': start.secondFactor,
        ...(start.sms && { ':sms': start.sms }),
      }),
    });
  }

  async offerSetUpTotp(email: string, linkHash: string, sealed: string): Promise<string | undefined> {
    await conditionalUpdate(this.client, {
      TableName: this.table,
      Key: marshall(adminAccountItem(email)),
      UpdateExpression: 'SET setupTotp = :sealed',
      ConditionExpression: 'setupLink = :link AND attribute_not_exists(setupTotp)',
      ExpressionAttributeValues: marshall({ ':sealed': sealed, ':link': linkHash }),
    });
    const account = await this.get(email);
    return account?.setupLink === linkHash ? account.setupTotp : undefined;
  }

  countSetUpAttempt(email: string, linkHash: string, max: number): Promise<boolean> {
    return conditionalUpdate(this.client, {
      TableName: this.table,
      Key: marshall(adminAccountItem(email)),
      UpdateExpression: 'ADD setupAttempts :one',
      ConditionExpression:
        'setupLink = :link AND (attribute_not_exists(setupAttempts) OR setupAttempts < :max)',
      ExpressionAttributeValues: marshall({ ':one': 1, ':link': linkHash, ':max': max }),
    });
  }

  claimSetUp(email: string, linkHash: string, claim: string, nowIso: string): Promise<boolean> {
    return conditionalUpdate(this.client, {
      TableName: this.table,
      Key: marshall(adminAccountItem(email)),
      UpdateExpression: 'SET setupClaim = :claim',
      ConditionExpression: 'setupLink = :link AND setupExpiresAt > :now AND attribute_not_exists(setupClaim)',
      ExpressionAttributeValues: marshall({ ':claim': claim, ':link': linkHash, ':now': nowIso }),
    });
  }

  completeSetUp(
    email: string,
    linkHash: string,
    claim: string,
    set: { password: PasswordHash; sealedTotp?: string | undefined; totpStep?: number | undefined },
  ): Promise<boolean> {
    return conditionalUpdate(this.client, {
      TableName: this.table,
      Key: marshall(adminAccountItem(email)),
      UpdateExpression:
        `SET password = :password, failures = :zero${set.sealedTotp ? ', sealedTotp = :seed' : ''}` +
        `${set.totpStep === undefined ? '' : ', totpStep = :step'} ` +
        `REMOVE setupLink, setupExpiresAt, setupAttempts, setupTotp, setupClaim, lockedUntil${set.totpStep === undefined ? ', totpStep' : ''}`,
      ConditionExpression: 'setupLink = :link AND setupClaim = :claim',
      ExpressionAttributeValues: marshall({
        ':password': set.password,
        ':zero': 0,
        ':link': linkHash,
        ':claim': claim,
        ...(set.sealedTotp && { ':seed': set.sealedTotp }),
        ...(set.totpStep !== undefined && { ':step': set.totpStep }),
      }),
    });
  }
}

const setUpLinkItem = (linkHash: string) => ({ pk: `ADMINSETUP#${linkHash}`, sk: 'ADMINSETUP' });

function toAccount(item: Record<string, unknown>): AdminAccount {
  const { pk: _p, sk: _s, gsi1pk: _g, gsi1sk: _gs, ...rest } = item;
  return rest as unknown as AdminAccount;
}
