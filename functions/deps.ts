/**
 * Builds each function's dependencies from clients and settings. The Lambda entries call these with AWS
 * clients; the local stack calls them with clients pointed at dynalite, fauxqs and the local broker.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoAuditLog } from './adapters/dynamo/audit-store.ts';
import { DynamoChallengeStore } from './adapters/dynamo/challenge-store.ts';
import { DynamoConfigStore } from './adapters/dynamo/config-store.ts';
import { DynamoDirectoryStore } from './adapters/dynamo/directory-store.ts';
import { DynamoGuardStore } from './adapters/dynamo/guard-store.ts';
import { DynamoKeyStore } from './adapters/dynamo/key-store.ts';
import { DynamoRateLimiter } from './adapters/dynamo/rate-limiter.ts';
import { DynamoResetStore } from './adapters/dynamo/reset-store.ts';
import { DynamoRpcAgentDirectory, DynamoRpcStore } from './adapters/dynamo/rpc-store.ts';
import { DynamoServiceEventStore } from './adapters/dynamo/service-event-store.ts';
import { DynamoTokenStore } from './adapters/dynamo/token-store.ts';
import { DynamoUsageStore } from './adapters/dynamo/usage-store.ts';
import { DynamoUserStore } from './adapters/dynamo/user-store.ts';
import { SqsDispatchQueue } from './adapters/sqs/dispatch-queue.ts';
import { keyRoutes } from './admin/key-routes.ts';
import { lockoutRoutes } from './admin/lockout-routes.ts';
import { createAuthApp } from './auth/app.ts';
import { PASSWORD_CHECK_TIMEOUT_MS } from './contracts/password.ts';
import { LOCAL_STAGE } from './contracts/topics.ts';
import { AgentRouter } from './core/agent-router.ts';
import { ChainRunner } from './core/chain-runner.ts';
import { ChallengeService } from './core/challenges.ts';
import { Bulkheads } from './core/channels/bulkhead.ts';
import type { MailTransport } from './core/channels/email.ts';
import type { HttpTransport } from './core/channels/http.ts';
import type { SmtpSettings } from './core/channels/mail-params.ts';
import { ProviderChannels } from './core/channels/provider-kinds.ts';
import { TotpChannel } from './core/channels/totp.ts';
import { type Clock, systemClock } from './core/clock.ts';
import { Dispatcher } from './core/dispatch.ts';
import { EventProcessor } from './core/events.ts';
import { KeysService } from './core/keys-service.ts';
import { LockoutService } from './core/lockout-service.ts';
import { PasswordCheckService } from './core/password-check.ts';
import { PasswordGuard } from './core/password-guard.ts';
import { PasswordResetService } from './core/password-reset.ts';
import type { JobPublisher } from './core/ports/agents.ts';
import type { CredentialCipher } from './core/ports/credentials.ts';
import type { Logger } from './core/ports/log.ts';
import type { RpcPublisher } from './core/ports/rpc.ts';
import { RpcService } from './core/rpc.ts';
import { ChainResolver } from './core/rule-chain.ts';
import type { DeploymentKeys } from './core/secrets.ts';
import { TokenService } from './core/tokens.ts';
import { UsageMeter } from './core/usage-meter.ts';
import { createDispatchHandler } from './dispatch/handler.ts';
import { createEventsHandler } from './events/handler.ts';
import type { BatchOptions } from './queue/batch.ts';
import { passwordResetRoutes } from './selfservice/password-reset-routes.ts';

export interface CloudContext {
  dynamo: DynamoDBClient;
  table: string;
  keys: DeploymentKeys;
  log: Logger;
  clock?: Clock;
  /** Opens provider credentials and TOTP secrets (KMS in AWS, a key file locally); without it those fail as config. */
  cipher?: CredentialCipher;
}

/** What the channels that the cloud carries out itself need (web SMS, voice, e-mail). */
export interface ChannelContext {
  http: HttpTransport;
  bulkheads?: Bulkheads;
  smtp?: (settings: SmtpSettings) => MailTransport;
  ses?: MailTransport;
  /** Local stacks and tests point providers at 127.0.0.1 over plain HTTP. */
  allowPrivateNetworks?: boolean;
  allowPlainHttp?: boolean;
}

export function stores(ctx: Pick<CloudContext, 'dynamo' | 'table'>) {
  return {
    directory: new DynamoDirectoryStore(ctx.dynamo, ctx.table),
    challenges: new DynamoChallengeStore(ctx.dynamo, ctx.table),
  };
}

export function buildAuthApp(
  ctx: CloudContext & {
    sqs: SQSClient;
    dispatchQueueUrl: string;
    agentCacheMs?: number;
    /** Reaches edge agents for `POST /v1/password-checks`; without it that route is not served. */
    rpcPublisher?: RpcPublisher;
    publisher?: JobPublisher;
  },
) {
  const s = stores(ctx);
  const passwordChecks =
    ctx.rpcPublisher &&
    new PasswordCheckService({
      directory: s.directory,
      users: new DynamoUserStore(ctx.dynamo, ctx.table),
      guard: passwordGuard(ctx),
      rpc: rpcService(ctx, ctx.rpcPublisher),
      log: ctx.log,
      timeoutMs: PASSWORD_CHECK_TIMEOUT_MS,
    });
  return createAuthApp({ challenges: buildChallengeService(ctx), log: ctx.log, passwordChecks });
}

/**
 * The challenge lifecycle as the auth API runs it; the self-service portal signs users in, and the console's
 * test passcode goes out, with the same.
 */
export function buildChallengeService(
  ctx: CloudContext & {
    sqs: SQSClient;
    dispatchQueueUrl: string;
    agentCacheMs?: number;
    /** Lets a one-rule SMS login publish its job without the dispatch queue (recovery.ts `sendFirstStep`). */
    publisher?: JobPublisher;
  },
) {
  const clock = ctx.clock ?? systemClock;
  const s = stores(ctx);
  return new ChallengeService({
    ...s,
    queue: new SqsDispatchQueue(ctx.sqs, ctx.dispatchQueueUrl),
    keys: ctx.keys,
    clock,
    ...abuseStores(ctx),
    log: ctx.log,
    chains: new ChainResolver({ config: new DynamoConfigStore(ctx.dynamo, ctx.table), clock }),
    router: new AgentRouter({
      directory: s.directory,
      clock,
      ...(ctx.agentCacheMs !== undefined && { cacheMs: ctx.agentCacheMs }),
    }),
    ...(ctx.cipher && { totp: tokenService(ctx, ctx.cipher) }),
    ...(ctx.publisher && { publisher: ctx.publisher }),
  });
}

/** The cloud's side of the agent RPC; without a publisher it only takes replies (the events function). */
export function rpcService(
  ctx: Pick<CloudContext, 'dynamo' | 'table' | 'clock' | 'log'>,
  publisher?: RpcPublisher,
) {
  return new RpcService({
    store: new DynamoRpcStore(ctx.dynamo, ctx.table),
    agents: new DynamoRpcAgentDirectory(ctx.dynamo, ctx.table),
    publisher: publisher ?? {
      publishRequest: async () => {
        throw new Error('this function sends no RPC requests');
      },
    },
    clock: ctx.clock ?? systemClock,
    log: ctx.log,
  });
}

/** Rate limits and the shared lockout for password checks and resets. */
export function passwordGuard(ctx: Pick<CloudContext, 'dynamo' | 'table' | 'clock' | 'log' | 'keys'>) {
  const { guards, limiter, audit } = abuseStores(ctx);
  return new PasswordGuard({
    guards,
    limiter,
    audit,
    keys: ctx.keys,
    clock: ctx.clock ?? systemClock,
    log: ctx.log,
  });
}

/**
 * Key management (`/v1/keys`) and lockouts / personal passcodes (`/v1/lockouts/…`, `/v1/personal-passcodes/…`)
 * of the admin API. The admin app mounts them: `app.route('/v1/keys', r.keys)`, `app.route('/v1', r.lockouts)`.
 */
export function buildAdminSecurityRoutes(ctx: Omit<CloudContext, 'keys'>) {
  const clock = ctx.clock ?? systemClock;
  const { guards, audit } = abuseStores(ctx);
  const { directory } = stores(ctx);
  const keyService = new KeysService({ store: new DynamoKeyStore(ctx.dynamo, ctx.table), audit, clock });
  const lockouts = new LockoutService({ guards, audit, clock, directory });
  return {
    keys: keyRoutes({ keys: keyService, directory, log: ctx.log }),
    lockouts: lockoutRoutes({ lockouts, directory, log: ctx.log }),
  };
}

/** Lockout, rate limits and the audit log; the admin app reuses them for unlocks and key changes. */
export function abuseStores(ctx: Pick<CloudContext, 'dynamo' | 'table' | 'clock'>) {
  return {
    guards: new DynamoGuardStore(ctx.dynamo, ctx.table),
    limiter: new DynamoRateLimiter(ctx.dynamo, ctx.table),
    audit: new DynamoAuditLog(ctx.dynamo, ctx.table, ctx.clock ?? systemClock),
  };
}

/**
 * Authenticator apps and hardware OATH tokens: the admin API manages them, the challenge path checks their
 * codes (`verify`) and the TOTP rule asks whether the user has one (`isEnrolled`).
 */
export function tokenService(
  ctx: Pick<CloudContext, 'dynamo' | 'table' | 'clock'>,
  cipher: CredentialCipher,
) {
  const users = new DynamoUserStore(ctx.dynamo, ctx.table);
  return new TokenService({
    store: new DynamoTokenStore(ctx.dynamo, ctx.table),
    cipher,
    clock: ctx.clock ?? systemClock,
    audit: abuseStores(ctx).audit,
    userExists: async (tenantId, username) => (await users.get(tenantId, username)) !== undefined,
    issuer: (tenantId) => tenantId,
  });
}

function chainRunner(ctx: Omit<CloudContext, 'keys'> & { sqs: SQSClient; dispatchQueueUrl: string }) {
  return new ChainRunner({
    challenges: stores(ctx).challenges,
    queue: new SqsDispatchQueue(ctx.sqs, ctx.dispatchQueueUrl),
    clock: ctx.clock ?? systemClock,
    log: ctx.log,
  });
}

export function buildDispatchHandler(
  ctx: CloudContext & {
    publisher: JobPublisher;
    sqs: SQSClient;
    dispatchQueueUrl: string;
    agentCacheMs?: number;
    channels?: ChannelContext;
    onBatch?: BatchOptions['onBatch'];
  },
) {
  const clock = ctx.clock ?? systemClock;
  const s = stores(ctx);
  const config = new DynamoConfigStore(ctx.dynamo, ctx.table);
  const usage = new UsageMeter(new DynamoUsageStore(ctx.dynamo, ctx.table), ctx.log);
  const channels = ctx.channels;
  const providers =
    channels && ctx.cipher
      ? new ProviderChannels({
          cipher: ctx.cipher,
          http: channels.http,
          bulkheads: channels.bulkheads ?? new Bulkheads(),
          ...(channels.smtp && { smtp: channels.smtp }),
          ...(channels.ses && { ses: channels.ses }),
          log: ctx.log,
          ...(channels.allowPrivateNetworks !== undefined && {
            allowPrivateNetworks: channels.allowPrivateNetworks,
          }),
          ...(channels.allowPlainHttp !== undefined && { allowPlainHttp: channels.allowPlainHttp }),
        })
      : undefined;
  const dispatcher = new Dispatcher({
    challenges: s.challenges,
    publisher: ctx.publisher,
    keys: ctx.keys,
    clock,
    log: ctx.log,
    router: new AgentRouter({
      directory: s.directory,
      clock,
      ...(ctx.agentCacheMs !== undefined && { cacheMs: ctx.agentCacheMs }),
    }),
    runner: chainRunner(ctx),
    ...(providers && {
      providerChannel: async (tenantId: string, providerId: string) => {
        const provider = await config.get(tenantId, 'provider', providerId);
        if (!provider) return undefined;
        return providers.channelFor({
          tenantId,
          id: provider.name,
          kind: provider.kind,
          params: provider.params,
        });
      },
    }),
    ...(ctx.cipher && { routeless: { totp: new TotpChannel(tokenService(ctx, ctx.cipher)) } }),
    usage,
  });
  return {
    dispatcher,
    handler: createDispatchHandler(dispatcher, ctx.log, usage, {
      retry: { sqs: ctx.sqs },
      ...(ctx.onBatch && { onBatch: ctx.onBatch }),
    }),
  };
}

export function buildEventsHandler(
  ctx: Omit<CloudContext, 'keys'> & {
    sqs?: SQSClient;
    dispatchQueueUrl?: string;
    onBatch?: BatchOptions['onBatch'];
    /** Whose agents' events these are (default: the local stack's). */
    stage?: string;
  },
) {
  const { sqs, dispatchQueueUrl } = ctx;
  const usage = new UsageMeter(new DynamoUsageStore(ctx.dynamo, ctx.table), ctx.log);
  const processor = new EventProcessor({
    ...stores(ctx),
    stage: ctx.stage ?? LOCAL_STAGE,
    log: ctx.log,
    usage,
    serviceEvents: new DynamoServiceEventStore(ctx.dynamo, ctx.table),
    rpc: rpcService(ctx),
    ...(sqs && dispatchQueueUrl && { runner: chainRunner({ ...ctx, sqs, dispatchQueueUrl }) }),
  });
  return {
    processor,
    handler: createEventsHandler(processor, ctx.log, usage, {
      ...(sqs && { retry: { sqs } }),
      ...(ctx.onBatch && { onBatch: ctx.onBatch }),
    }),
  };
}

export {
  buildAdminApp,
  buildOperatorApp,
  buildOperatorFunction,
  buildSyncApp,
  buildSyncFunction,
} from './directory-deps.ts';

/** The self-service password reset (functions/selfservice/password-reset-routes.ts), mounted where the stack serves it. */
export function buildPasswordResetApp(
  ctx: CloudContext & { sqs: SQSClient; dispatchQueueUrl: string; rpcPublisher: RpcPublisher },
) {
  return passwordResetRoutes(buildPasswordResetService(ctx), ctx.log);
}

/** The reset domain, which the JSON API and the portal's reset pages share. */
export function buildPasswordResetService(
  ctx: CloudContext & { sqs: SQSClient; dispatchQueueUrl: string; rpcPublisher: RpcPublisher },
) {
  const clock = ctx.clock ?? systemClock;
  const s = stores(ctx);
  const { guards } = abuseStores(ctx);
  // The reset's passcode goes out exactly as a login's, through the same challenge lifecycle.
  const challenges = buildChallengeService(ctx);
  return new PasswordResetService({
    directory: s.directory,
    users: new DynamoUserStore(ctx.dynamo, ctx.table),
    guards,
    guard: passwordGuard(ctx),
    challenges,
    rpc: rpcService(ctx, ctx.rpcPublisher),
    store: new DynamoResetStore(ctx.dynamo, ctx.table),
    clock,
    log: ctx.log,
  });
}
