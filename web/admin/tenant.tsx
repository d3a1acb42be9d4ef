/** The tenant admin's (and auditor's) pages, each area its own router, all scoped to the session's tenant. */
import { Hono } from 'hono';
import { agentPages, modemGroupPages } from './agents.tsx';
import type { ConsoleEnv } from './context.ts';
import { keyPages } from './keys.tsx';
import { logPages } from './logs.tsx';
import { policyPages } from './policies.tsx';
import { providerPages } from './providers.tsx';
import { securityPages } from './security.tsx';
import { type SyncRunPagesDeps, syncRunPages } from './sync-runs.tsx';
import { tokenPages } from './tokens.tsx';
import { type TenantPagesDeps, userPages } from './users.tsx';

export type { TenantPagesDeps };

export function tenantPages(deps: TenantPagesDeps & SyncRunPagesDeps) {
  const app = new Hono<ConsoleEnv>();
  app.route('/users', userPages(deps));
  app.route('/policies', policyPages(deps));
  app.route('/agents', agentPages(deps));
  app.route('/modem-groups', modemGroupPages(deps));
  app.route('/logs', logPages(deps));
  app.route('/sync-runs', syncRunPages(deps));
  app.route('/keys', keyPages(deps));
  app.route('/tokens', tokenPages(deps));
  app.route('/providers', providerPages(deps));
  app.route('/security', securityPages(deps));
  return app;
}
