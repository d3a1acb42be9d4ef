/**
 * Builds the operator, tenant admin and sync apps from clients and settings (re-exported by deps.ts): the
 * Lambda entries pass AWS clients, the local stack passes clients pointed at dynalite.
 */

import type { Hono } from 'hono';
import { DynamoAgentStore } from './adapters/dynamo/agent-store.ts';
import { DynamoAuditLog } from './adapters/dynamo/audit-store.ts';
import { DynamoConfigStore } from './adapters/dynamo/config-store.ts';
import { DynamoDirectoryStore } from './adapters/dynamo/directory-store.ts';
import { DynamoGuardStore } from './adapters/dynamo/guard-store.ts';
import { DynamoMessageLogStore } from './adapters/dynamo/message-log-store.ts';
import { DynamoRpcAgentDirectory } from './adapters/dynamo/rpc-store.ts';
import { DynamoServiceEventStore } from './adapters/dynamo/service-event-store.ts';
import { DynamoSyncHistoryStore } from './adapters/dynamo/sync-history-store.ts';
import { DynamoSyncStore } from './adapters/dynamo/sync-store.ts';
import { DynamoTenantStore } from './adapters/dynamo/tenant-store.ts';
import { DynamoUsageStore } from './adapters/dynamo/usage-store.ts';
import { DynamoUserCounter } from './adapters/dynamo/user-counter.ts';
import { DynamoUserStore } from './adapters/dynamo/user-store.ts';
import { createAdminApp } from './admin/app.ts';
import { messageLogRoutes } from './admin/message-log-routes.ts';
import { serviceEventRoutes } from './admin/service-event-routes.ts';
import { settingsRoutes } from './admin/settings-routes.ts';
import { adminAccountManager } from './admin-account-deps.ts';
import { LOCAL_STAGE } from './contracts/topics.ts';
import { AgentService } from './core/agents.ts';
import { systemClock } from './core/clock.ts';
import { MessageLogService } from './core/message-log.ts';
import type { AgentIdentities } from './core/ports/agent-registry.ts';
import type { AgentSessions } from './core/ports/agents.ts';
import type { RpcPublisher } from './core/ports/rpc.ts';
import { ServiceEventService } from './core/service-events.ts';
import { SyncService } from './core/sync.ts';
import { SyncHistoryService } from './core/sync-history.ts';
import { SyncNowService } from './core/sync-now.ts';
import { TenantConfigService } from './core/tenant-config.ts';
import { TenantSettingsService } from './core/tenant-settings.ts';
import { TenantService } from './core/tenants.ts';
import { UserAdminService } from './core/user-admin.ts';
import { UserLimit } from './core/user-limit.ts';
import { UsernameSettingsService } from './core/username-settings.ts';
import { buildAdminSecurityRoutes, type CloudContext, rpcService, tokenService } from './deps.ts';
import type { KeyAuthEnv } from './http/key-auth.ts';
import { createOperatorApp } from './operator/app.ts';
import { createSyncApp } from './sync/app.ts';

export type DirectoryContext = Omit<CloudContext, 'keys'>;

export function directoryStores(ctx: DirectoryContext) {
  const clock = ctx.clock ?? systemClock;
  const counter = new DynamoUserCounter(ctx.dynamo, ctx.table);
  return {
    clock,
    directory: new DynamoDirectoryStore(ctx.dynamo, ctx.table),
    tenants: new DynamoTenantStore(ctx.dynamo, ctx.table),
    config: new DynamoConfigStore(ctx.dynamo, ctx.table),
    users: new DynamoUserStore(ctx.dynamo, ctx.table),
    sync: new DynamoSyncStore(ctx.dynamo, ctx.table, (error) => ctx.log.warn('sync write failed', { error })),
    usage: new DynamoUsageStore(ctx.dynamo, ctx.table),
    audit: new DynamoAuditLog(ctx.dynamo, ctx.table, clock),
    counter,
    limit: new UserLimit(counter, clock),
  };
}

/**
 * The sync service and app. `scheduleRemoval` starts a large `complete`'s removal where it outlives the request
 * (the Lambda entry queues a job); by default it runs in this process, in the background.
 */
export function buildSyncFunction(
  ctx: DirectoryContext & {
    scheduleRemoval?: (tenantId: string, runId: string, actor: string) => Promise<void>;
    inline?: { maxScanned: number; maxRemovals: number };
  },
) {
  const s = directoryStores(ctx);
  const historyStore = new DynamoSyncHistoryStore(ctx.dynamo, ctx.table);
  const sync = new SyncService({
    store: s.sync,
    users: s.users,
    config: s.config,
    limit: s.limit,
    audit: s.audit,
    clock: s.clock,
    history: historyStore,
    log: ctx.log,
    ...(ctx.scheduleRemoval && { scheduleRemoval: ctx.scheduleRemoval }),
    ...(ctx.inline && { inline: ctx.inline }),
  });
  const app = createSyncApp({
    sync,
    directory: s.directory,
    log: ctx.log,
    history: new SyncHistoryService(historyStore),
  });
  return { sync, app };
}

export function buildSyncApp(ctx: DirectoryContext) {
  return buildSyncFunction(ctx).app;
}

/**
 * `identities` are the agents' things and certificates at the broker (IoT Core in AWS, the local CA and broker
 * locally); without them the admin app has no `/v1/agents` or `/v1/enrolments`.
 */
export function buildAdminApp(
  ctx: DirectoryContext & {
    identities?: AgentIdentities /** Default: the local stack's. */;
    stage?: string;
    rpcPublisher?: RpcPublisher;
    enrolmentLinks?: Hono<KeyAuthEnv>;
  },
) {
  const s = adminServices(ctx);
  return createAdminApp({
    config: s.config,
    users: s.users,
    audit: s.audit,
    directory: s.directory,
    log: ctx.log,
    security: buildAdminSecurityRoutes(ctx),
    ...(s.tokens && { tokens: s.tokens }),
    messageLog: messageLogRoutes(s.messageLog),
    serviceEvents: serviceEventRoutes(s.serviceEvents),
    settings: settingsRoutes(s.settings),
    usernames: s.usernames,
    syncNow: s.syncNow,
    ...(s.agents && { agents: s.agents }),
    ...(ctx.enrolmentLinks && { enrolmentLinks: ctx.enrolmentLinks }),
  });
}

/**
 * The tenant admin's domain services, as the admin API's routes call them; the console's pages (the web
 * function) call the very same ones.
 */
export function adminServices(
  ctx: DirectoryContext & { identities?: AgentIdentities; stage?: string; rpcPublisher?: RpcPublisher },
) {
  const s = directoryStores(ctx);
  const config = new TenantConfigService({
    config: s.config,
    users: s.users,
    directory: s.directory,
    audit: s.audit,
    clock: s.clock,
    // Seals providers' secret params with the key dispatch opens them with.
    ...(ctx.cipher && { cipher: ctx.cipher }),
  });
  const users = new UserAdminService({
    users: s.users,
    config: s.config,
    directory: s.directory,
    limit: s.limit,
    audit: s.audit,
    clock: s.clock,
    // An admin's unlock also clears the lock that failed passcodes leave.
    lockouts: new DynamoGuardStore(ctx.dynamo, ctx.table),
  });
  return {
    stores: s,
    config,
    users,
    audit: s.audit,
    directory: s.directory,
    tokens: ctx.cipher ? tokenService(ctx, ctx.cipher) : undefined,
    messageLog: new MessageLogService({
      store: new DynamoMessageLogStore(ctx.dynamo, ctx.table, () => s.clock.now()),
      clock: s.clock,
    }),
    serviceEvents: new ServiceEventService({
      store: new DynamoServiceEventStore(ctx.dynamo, ctx.table),
      clock: s.clock,
    }),
    settings: new TenantSettingsService({
      tenants: s.tenants,
      config: s.config,
      audit: s.audit,
      clock: s.clock,
    }),
    usernames: new UsernameSettingsService({ tenants: s.tenants, audit: s.audit, clock: s.clock }),
    syncNow: new SyncNowService({
      ...(ctx.rpcPublisher && { rpc: rpcService(ctx, ctx.rpcPublisher) }),
      agents: new DynamoRpcAgentDirectory(ctx.dynamo, ctx.table),
      log: ctx.log,
    }),
    agents: ctx.identities
      ? new AgentService({
          stage: ctx.stage ?? LOCAL_STAGE,
          store: new DynamoAgentStore(ctx.dynamo, ctx.table),
          identities: ctx.identities,
          tenants: s.tenants,
          audit: s.audit,
          clock: s.clock,
          modemHistory: (tenantId, agentId, modem, limit) =>
            s.directory.modemHistory(tenantId, agentId, modem, limit),
        })
      : undefined,
  };
}

/**
 * The operator app and its tenant service. `schedulePurge` starts a tenant's purge where it outlives the
 * request (the Lambda entry queues a job); by default it runs in this process, in the background, as the
 * local stack has no request deadline to outlive.
 */
export function buildOperatorFunction(
  ctx: DirectoryContext & {
    agentSessions?: AgentSessions;
    schedulePurge?: (tenantId: string) => Promise<void>;
  },
) {
  const s = directoryStores(ctx);
  const background = async (tenantId: string) => {
    tenants.runPurge(tenantId).catch((error: unknown) => {
      // The tombstone stays `purging`; sending the delete again runs the purge again.
      ctx.log.error('tenant purge failed', { tenantId, error });
    });
  };
  const tenants: TenantService = new TenantService({
    tenants: s.tenants,
    config: s.config,
    limit: s.limit,
    usage: s.usage,
    audit: s.audit,
    clock: s.clock,
    ...(ctx.agentSessions && { agentSessions: ctx.agentSessions }),
    schedulePurge: ctx.schedulePurge ?? background,
  });
  return {
    tenants,
    // runs the removal half of large sync `complete`s handed to the jobs queue
    sync: buildSyncFunction(ctx).sync,
    app: createOperatorApp({
      tenants,
      audit: s.audit,
      directory: s.directory,
      log: ctx.log,
      adminAccounts: adminAccountManager(ctx),
    }),
  };
}

export function buildOperatorApp(ctx: DirectoryContext & { agentSessions?: AgentSessions }) {
  return buildOperatorFunction(ctx).app;
}
