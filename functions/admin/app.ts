/**
 * The tenant admin API (admin key): configuration objects, users and the audit log of the key's own tenant.
 * Each area is a router mounted with `app.route`, so more (e.g. `/v1/keys`) mount the same way.
 */
import { Hono } from 'hono';
import type { AgentService } from '../core/agents.ts';
import { describeProviderKinds } from '../core/channels/provider-kinds.ts';
import type { AuditLog } from '../core/ports/audit.ts';
import type { DirectoryStore } from '../core/ports/directory.ts';
import type { Logger } from '../core/ports/log.ts';
import type { SyncNowService } from '../core/sync-now.ts';
import type { TenantConfigService } from '../core/tenant-config.ts';
import type { TokenService } from '../core/tokens.ts';
import type { UserAdminService } from '../core/user-admin.ts';
import type { UsernameSettingsService } from '../core/username-settings.ts';
import { errorBody, toErrorResponse } from '../http/errors.ts';
import type { KeyAuthEnv } from '../http/key-auth.ts';
import { keyOfKind } from '../http/key-kind.ts';
import { openApiHandler } from '../http/openapi-route.ts';
import { tenantOf } from '../http/principal.ts';
import { agentRoutes, enrolmentRoutes } from './agent-routes.ts';
import { configRoutes } from './config-routes.ts';
import { syncNowRoutes } from './sync-now-routes.ts';
import { tokenRoutes } from './token-routes.ts';
import { pageOptions, userRoutes } from './user-routes.ts';
import { usernameRoutes } from './username-routes.ts';

export interface AdminAppDeps {
  config: TenantConfigService;
  users: UserAdminService;
  audit: AuditLog;
  directory: DirectoryStore;
  log: Logger;
  /** Keys, lockouts and personal passcodes, built by `buildAdminSecurityRoutes` in deps.ts. */
  security?: { keys: Hono<KeyAuthEnv>; lockouts: Hono<KeyAuthEnv> };
  /** The message log, built by `buildAdminApp` in directory-deps.ts. */
  messageLog?: Hono<KeyAuthEnv>;
  /** The service-status log (`/v1/service-events`), built by `buildAdminApp` in directory-deps.ts. */
  serviceEvents?: Hono<KeyAuthEnv>;
  /** The tenant's own settings (`/v1/settings`), built by `buildAdminApp` in directory-deps.ts. */
  settings?: Hono<KeyAuthEnv>;
  /** OATH tokens (`/v1/tokens`, `/v1/users/{username}/tokens…`); needs the credential cipher, so optional. */
  tokens?: TokenService;
  /** The username setting (`/v1/settings/usernames`). */
  usernames?: UsernameSettingsService;
  /** Edge agents (`/v1/agents`) and their enrolment (`/v1/enrolments`, token instead of key). */
  agents?: AgentService;
  /** `POST /v1/agents/{id}/sync`, when the function can reach agents. */
  syncNow?: SyncNowService | undefined;
  /** `POST /v1/users/{id}/enrolment-links`, built by `buildEnrolmentLinkRoutes` in selfservice-deps.ts. */
  enrolmentLinks?: Hono<KeyAuthEnv>;
}

export function createAdminApp({
  config,
  users,
  audit,
  directory,
  log,
  security,
  messageLog,
  serviceEvents,
  settings,
  tokens,
  usernames,
  agents,
  syncNow,
  enrolmentLinks,
}: AdminAppDeps) {
  const app = new Hono<KeyAuthEnv>();
  // Before the key check, so a client can read the OpenAPI document of every API before it holds a key.
  app.get('/v1/openapi.json', openApiHandler);
  // The agent holds no key yet: its one-time token is the credential.
  if (agents) app.route('/v1/enrolments', enrolmentRoutes(agents));
  app.use('/v1/*', keyOfKind('admin', directory));

  // What each provider kind asks for (secret params marked), so a console can render its form.
  app.get('/v1/provider-kinds', (c) => c.json({ items: describeProviderKinds() }, 200));
  const routes = configRoutes(config);
  app.route('/v1/modem-groups', routes.modemGroups);
  app.route('/v1/providers', routes.providers);
  app.route('/v1/load-balancing-policies', routes.loadBalancing);
  app.route('/v1/group-policies', routes.groups);
  app.route('/v1/integration-policies', routes.integration);
  app.route('/v1/users', userRoutes(users));
  if (enrolmentLinks) app.route('/v1/users', enrolmentLinks);
  if (security) {
    app.route('/v1/keys', security.keys);
    app.route('/v1', security.lockouts);
  }
  if (messageLog) app.route('/v1/message-log', messageLog);
  if (serviceEvents) app.route('/v1/service-events', serviceEvents);
  if (settings) app.route('/v1/settings', settings);
  if (tokens) app.route('/v1', tokenRoutes(tokens));
  if (usernames) app.route('/v1/settings/usernames', usernameRoutes(usernames));
  if (syncNow) app.route('/v1/agents', syncNowRoutes(syncNow));
  if (agents) app.route('/v1/agents', agentRoutes(agents));

  app.get('/v1/audit', async (c) => {
    const { limit, cursor } = pageOptions((n) => c.req.query(n));
    return c.json(await audit.list(tenantOf(c), { limit, ...(cursor && { cursor }) }), 200);
  });

  app.notFound((c) => c.json(errorBody('not_found', 'No such route.'), 404));
  app.onError((error, c) => toErrorResponse(error, c, log));
  return app;
}
