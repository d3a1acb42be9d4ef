/**
 * Builds each function's dependencies from clients and settings. The Lambda entries call these with AWS
 * clients; the local stack calls them with clients pointed at dynalite, fauxqs and the local broker.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoAuditLog } from './adapters/dynamo/audit-store.ts';
import { DynamoChallengeStore } from './adapters/dynamo/challenge-store.ts';
import { DynamoDirectoryStore } from './adapters/dynamo/directory-store.ts';
import { DynamoGuardStore } from './adapters/dynamo/guard-store.ts';
import { DynamoKeyStore } from './adapters/dynamo/key-store.ts';
import { DynamoRateLimiter } from './adapters/dynamo/rate-limiter.ts';
import type { Logger } from './adapters/log.ts';
import { SqsDispatchQueue } from './adapters/sqs/dispatch-queue.ts';
import { keyRoutes } from './admin/key-routes.ts';
import { lockoutRoutes } from './admin/lockout-routes.ts';
import { createAuthApp } from './auth/app.ts';
import { ChallengeService } from './core/challenges.ts';
import { type Clock, systemClock } from './core/clock.ts';
import { Dispatcher } from './core/dispatch.ts';
import { EventProcessor } from './core/events.ts';
import { KeysService } from './core/keys-service.ts';
import { LockoutService } from './core/lockout-service.ts';
import type { JobPublisher } from './core/ports.ts';
import type { DeploymentKeys } from './core/secrets.ts';
import { createDispatchHandler } from './dispatch/handler.ts';
import { createEventsHandler } from './events/handler.ts';

export interface CloudContext {
  dynamo: DynamoDBClient;
  table: string;
  keys: DeploymentKeys;
  log: Logger;
  clock?: Clock;
}

export function stores(ctx: Pick<CloudContext, 'dynamo' | 'table'>) {
  return {
    directory: new DynamoDirectoryStore(ctx.dynamo, ctx.table),
    challenges: new DynamoChallengeStore(ctx.dynamo, ctx.table),
  };
}

export function buildAuthApp(ctx: CloudContext & { sqs: SQSClient; dispatchQueueUrl: string }) {
  const service = new ChallengeService({
    ...stores(ctx),
    queue: new SqsDispatchQueue(ctx.sqs, ctx.dispatchQueueUrl),
    keys: ctx.keys,
    clock: ctx.clock ?? systemClock,
    ...abuseStores(ctx),
    log: ctx.log,
  });
  return createAuthApp({ challenges: service, log: ctx.log });
}

/**
 * Key management (`/v1/keys`) and lockouts / personal passcodes (`/v1/lockouts/…`, `/v1/personal-passcodes/…`)
 * of the admin API (issue 3). The admin app mounts them: `app.route('/v1/keys', r.keys)`, `app.route('/v1', r.lockouts)`.
 */
export function buildAdminSecurityRoutes(ctx: Omit<CloudContext, 'keys'>) {
  const clock = ctx.clock ?? systemClock;
  const { guards, audit } = abuseStores(ctx);
  const { directory } = stores(ctx);
  const keyService = new KeysService({ store: new DynamoKeyStore(ctx.dynamo, ctx.table), audit, clock });
  const lockouts = new LockoutService({ guards, audit, clock });
  return {
    keys: keyRoutes({ keys: keyService, directory, log: ctx.log }),
    lockouts: lockoutRoutes({ lockouts, directory, log: ctx.log }),
  };
}

/** Lockout, rate limits and the audit log (issue 3); the admin app reuses them for unlocks and key changes. */
export function abuseStores(ctx: Pick<CloudContext, 'dynamo' | 'table' | 'clock'>) {
  return {
    guards: new DynamoGuardStore(ctx.dynamo, ctx.table),
    limiter: new DynamoRateLimiter(ctx.dynamo, ctx.table),
    audit: new DynamoAuditLog(ctx.dynamo, ctx.table, ctx.clock ?? systemClock),
  };
}

export function buildDispatchHandler(ctx: CloudContext & { publisher: JobPublisher; agentCacheMs?: number }) {
  const dispatcher = new Dispatcher({
    ...stores(ctx),
    publisher: ctx.publisher,
    keys: ctx.keys,
    clock: ctx.clock ?? systemClock,
    log: ctx.log,
    ...(ctx.agentCacheMs !== undefined && { agentCacheMs: ctx.agentCacheMs }),
  });
  return { dispatcher, handler: createDispatchHandler(dispatcher, ctx.log) };
}

export function buildEventsHandler(ctx: Omit<CloudContext, 'keys'>) {
  const processor = new EventProcessor({ ...stores(ctx), log: ctx.log });
  return { processor, handler: createEventsHandler(processor, ctx.log) };
}

export { buildAdminApp, buildOperatorApp, buildSyncApp } from './directory-deps.ts';
