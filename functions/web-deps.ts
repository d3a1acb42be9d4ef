/**
 * Builds the web function (console and portal pages) from clients and settings, with the same domain services
 * the admin and operator APIs use: the Lambda entry passes AWS clients, the local stack local ones.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Context } from 'hono';
import { accountPages } from '../web/admin/accounts.tsx';
import { adminConsole } from '../web/admin/app.tsx';
import { operatorPages } from '../web/admin/operator.tsx';
import { tenantPages } from '../web/admin/tenant.tsx';
import { portalApp } from '../web/portal/app.tsx';
import { DynamoAdminAccountStore } from './adapters/dynamo/admin-account-store.ts';
import { DynamoKeyStore } from './adapters/dynamo/key-store.ts';
import { DynamoRateLimiter } from './adapters/dynamo/rate-limiter.ts';
import { DynamoSyncHistoryStore } from './adapters/dynamo/sync-history-store.ts';
import { DynamoWebSessionStore } from './adapters/dynamo/web-session-store.ts';
import { adminAccountManager, adminSmsCodes } from './admin-account-deps.ts';
import { AdminAccountService, type AdminSmsCodes } from './core/admin-accounts.ts';
import { KeysService } from './core/keys-service.ts';
import { LockoutService } from './core/lockout-service.ts';
import type { PasswordResetService } from './core/password-reset.ts';
import type { AgentIdentities } from './core/ports/agent-registry.ts';
import type { AgentSessions } from './core/ports/agents.ts';
import type { CredentialCipher } from './core/ports/credentials.ts';
import type { DeploymentKeys } from './core/secrets.ts';
import { PORTAL_SESSION, type SelfService } from './core/self-service.ts';
import { SyncHistoryService } from './core/sync-history.ts';
import { WebSessions } from './core/web-sessions.ts';
import { abuseStores, buildChallengeService } from './deps.ts';
import { adminServices, buildOperatorFunction, type DirectoryContext } from './directory-deps.ts';
import { createWebApp } from './web/app.tsx';
import { SessionCookie } from './web/session-http.ts';

/** Portal sessions are shorter than the console's: used for minutes, often from a phone. */
export const PORTAL_WEB_SESSION = {
  kind: 'portal',
  idleSeconds: PORTAL_SESSION.idleSeconds,
  absoluteSeconds: PORTAL_SESSION.absoluteSeconds,
} as const;

/** Console sessions: 15 idle minutes, 8 hours at most (a working day), whatever the activity. */
export const ADMIN_SESSION = { kind: 'admin', idleSeconds: 15 * 60, absoluteSeconds: 8 * 3600 } as const;

export interface WebContext extends DirectoryContext {
  cipher: CredentialCipher;
  identities?: AgentIdentities;
  /** The deployment stage whose agents the console enrols (default: the local stack's). */
  stage?: string;
  agentSessions?: AgentSessions;
  /** False only for the plain-HTTP local stack (see README: the cookie then has no `__Host-` prefix). */
  secureCookies: boolean;
  clientIp: (c: Context) => string;
  /** The self-service domain (selfservice-deps.ts); without it there are no portal pages. */
  selfService?: SelfService;
  /** The AD password reset domain (deps.ts buildPasswordResetService); without it the portal offers no reset. */
  passwordResets?: PasswordResetService;
  /** What a test passcode needs to go out as a login's would; without it the users page offers none. */
  challenges?: { keys: DeploymentKeys; sqs: SQSClient; dispatchQueueUrl: string };
}

export function adminAccounts(ctx: DirectoryContext & { cipher: CredentialCipher }, sms?: AdminSmsCodes) {
  const s = adminServices(ctx);
  return new AdminAccountService({
    store: new DynamoAdminAccountStore(ctx.dynamo, ctx.table),
    cipher: ctx.cipher,
    limiter: new DynamoRateLimiter(ctx.dynamo, ctx.table),
    audit: s.audit,
    clock: s.stores.clock,
    tenantActive: async (tenantId) => (await s.directory.getTenant(tenantId))?.status === 'active',
    sms,
  });
}

/** A passcode sent to the user through their own rule chain, exactly as at a login, for the admin to try. */
function testPasscode(ctx: Parameters<typeof buildChallengeService>[0]) {
  const service = buildChallengeService(ctx);
  return (tenantId: string, username: string, actor: string) =>
    service.createOnBehalf(tenantId, actor, { username, client: { name: 'console test passcode' } });
}

export function buildWebApp(ctx: WebContext) {
  const s = adminServices(ctx);
  const clock = s.stores.clock;
  // Admins' SMS codes go out as a login's do: without the dispatch queue, accounts use TOTP only.
  const accounts = adminAccounts(
    ctx,
    ctx.challenges && adminSmsCodes(buildChallengeService({ ...ctx, ...ctx.challenges })),
  );
  const manager = adminAccountManager(ctx);
  const { guards, audit } = abuseStores(ctx);
  const { tenants } = buildOperatorFunction({
    ...ctx,
    ...(ctx.agentSessions && { agentSessions: ctx.agentSessions }),
  });
  const sessions = new SessionCookie(
    new WebSessions(new DynamoWebSessionStore(ctx.dynamo, ctx.table), clock, ADMIN_SESSION),
    { name: 'smspass-admin', secure: ctx.secureCookies },
  );
  const admin = adminConsole({
    accounts,
    sessions,
    clientIp: ctx.clientIp,
    operator: operatorPages({ tenants, accounts, directory: s.directory }),
    accountPages: {
      operator: accountPages(
        { manager, tenantIds: async () => (await tenants.list()).map((t) => t.id) },
        'operator',
      ),
      tenant: accountPages({ manager }, 'tenant'),
    },
    tenant: tenantPages({
      ...s,
      accounts,
      keys: new KeysService({ store: new DynamoKeyStore(ctx.dynamo, ctx.table), audit, clock }),
      lockouts: new LockoutService({ guards, audit, clock, directory: s.directory }),
      syncHistory: new SyncHistoryService(new DynamoSyncHistoryStore(ctx.dynamo, ctx.table)),
      ...(ctx.challenges && { testPasscode: testPasscode({ ...ctx, ...ctx.challenges }) }),
    }),
  });
  const portal =
    ctx.selfService &&
    portalApp({
      self: ctx.selfService,
      sessions: new SessionCookie(
        new WebSessions(new DynamoWebSessionStore(ctx.dynamo, ctx.table), clock, PORTAL_WEB_SESSION),
        { name: 'smspass-portal', secure: ctx.secureCookies },
      ),
      clientIp: ctx.clientIp,
      ...(ctx.passwordResets && { resets: ctx.passwordResets }),
    });
  return createWebApp({ admin, ...(portal && { portal }), log: ctx.log });
}
