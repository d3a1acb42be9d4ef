/**
 * The console accounts' services from a DynamoDB client: the one manager behind the first-operator CLI, the
 * operator API and the console's account pages, and the SMS codes admins sign in with, which go out through
 * the product's own challenge path.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoAdminAccountStore } from './adapters/dynamo/admin-account-store.ts';
import { DynamoAuditLog } from './adapters/dynamo/audit-store.ts';
import { DynamoDirectoryStore } from './adapters/dynamo/directory-store.ts';
import { AdminAccountManager } from './core/admin-account-management.ts';
import type { AdminSmsCodes } from './core/admin-accounts.ts';
import type { ChallengeService } from './core/challenges.ts';
import { type Clock, systemClock } from './core/clock.ts';
import { NotFoundError } from './core/errors.ts';

export function adminAccountManager(ctx: {
  dynamo: DynamoDBClient;
  table: string;
  clock?: Clock | undefined;
}) {
  const clock = ctx.clock ?? systemClock;
  const directory = new DynamoDirectoryStore(ctx.dynamo, ctx.table);
  return new AdminAccountManager({
    store: new DynamoAdminAccountStore(ctx.dynamo, ctx.table),
    audit: new DynamoAuditLog(ctx.dynamo, ctx.table, clock),
    clock,
    tenantActive: async (tenantId) => (await directory.getTenant(tenantId))?.status === 'active',
    userExists: async (tenantId, username) => (await directory.getUser(tenantId, username)) !== undefined,
  });
}

/**
 * An admin's SMS code is a challenge of the account's user, with the purpose only this check accepts: the
 * user's rule chain carries it, the tenant's limits and lockout count it, and it is good once.
 */
export function adminSmsCodes(
  challenges: Pick<ChallengeService, 'createForSelf' | 'verifyForSelf'>,
): AdminSmsCodes {
  return {
    async send(target, clientIp) {
      const created = await challenges.createForSelf(
        target.tenantId,
        { username: target.username, client: { ip: clientIp, name: 'admin console sign-in' } },
        { purpose: 'admin_sign_in' },
      );
      return { challengeId: created.challengeId, destination: created.destination };
    },
    async check(target, challengeId, code, clientIp) {
      try {
        const { verdict } = await challenges.verifyForSelf(
          target.tenantId,
          challengeId,
          code,
          { purpose: 'admin_sign_in', username: target.username },
          { ip: clientIp },
        );
        return verdict.result === 'accept';
      } catch (error) {
        if (error instanceof NotFoundError) return false;
        throw error;
      }
    },
  };
}
