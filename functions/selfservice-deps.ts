/**
 * Builds the self-service function (the portal's JSON API) and the admin API's enrolment-link routes from
 * clients and settings; the Lambda entries pass AWS clients, the local stack clients pointed at the stand-ins.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoConfigStore } from './adapters/dynamo/config-store.ts';
import { DynamoDirectoryStore } from './adapters/dynamo/directory-store.ts';
import { DynamoSelfServiceStore } from './adapters/dynamo/self-service-store.ts';
import { DynamoUserStore } from './adapters/dynamo/user-store.ts';
import { enrolmentLinkRoutes } from './admin/enrolment-link-routes.ts';
import type { Channel } from './core/channels/channel.ts';
import type { ProviderDefinition } from './core/channels/provider-kinds.ts';
import { systemClock } from './core/clock.ts';
import { EnrolmentLinks, ProviderLinkMailer } from './core/enrolment-links.ts';
import type { RpcPublisher } from './core/ports/rpc.ts';
import { ChainResolver } from './core/rule-chain.ts';
import { SelfService } from './core/self-service.ts';
import {
  abuseStores,
  buildChallengeService,
  buildPasswordResetApp,
  type CloudContext,
  tokenService,
} from './deps.ts';
import type { DirectoryContext } from './directory-deps.ts';
import { createSelfServiceApp } from './selfservice/app.ts';

export function buildSelfService(
  ctx: CloudContext & { sqs: SQSClient; dispatchQueueUrl: string; agentCacheMs?: number },
) {
  const clock = ctx.clock ?? systemClock;
  return new SelfService({
    challenges: buildChallengeService(ctx),
    directory: new DynamoDirectoryStore(ctx.dynamo, ctx.table),
    users: new DynamoUserStore(ctx.dynamo, ctx.table),
    store: new DynamoSelfServiceStore(ctx.dynamo, ctx.table),
    guards: abuseStores(ctx).guards,
    chains: new ChainResolver({ config: new DynamoConfigStore(ctx.dynamo, ctx.table), clock, cacheMs: 0 }),
    tokens: ctx.cipher ? tokenService(ctx, ctx.cipher) : undefined,
    audit: abuseStores(ctx).audit,
    clock,
    log: ctx.log,
  });
}

export function buildSelfServiceApp(
  ctx: CloudContext & {
    sqs: SQSClient;
    dispatchQueueUrl: string;
    agentCacheMs?: number;
    /** Reaches the tenant's AD agent for the password reset; without it the reset routes are not served. */
    rpcPublisher?: RpcPublisher;
  },
) {
  const { rpcPublisher } = ctx;
  return createSelfServiceApp({
    self: buildSelfService(ctx),
    log: ctx.log,
    ...(rpcPublisher && { extra: buildPasswordResetApp({ ...ctx, rpcPublisher }) }),
  });
}

/**
 * `POST /v1/users/{id}/enrolment-links` of the admin API: mails go by the tenant's e-mail provider through
 * `channelFor` (the dispatcher's provider channels), and links lead to `portalUrl`.
 */
export function buildEnrolmentLinkRoutes(
  ctx: DirectoryContext & {
    portalUrl: () => string;
    channelFor: (provider: ProviderDefinition) => Promise<Channel>;
  },
) {
  const clock = ctx.clock ?? systemClock;
  const links = new EnrolmentLinks({
    users: new DynamoUserStore(ctx.dynamo, ctx.table),
    directory: new DynamoDirectoryStore(ctx.dynamo, ctx.table),
    store: new DynamoSelfServiceStore(ctx.dynamo, ctx.table),
    audit: abuseStores(ctx).audit,
    clock,
    mailer: new ProviderLinkMailer({
      config: new DynamoConfigStore(ctx.dynamo, ctx.table),
      channelFor: ctx.channelFor,
    }),
    portalUrl: ctx.portalUrl,
  });
  return enrolmentLinkRoutes(links);
}
