/** The tenant admin's (and auditor's) pages, each area its own router, all scoped to the session's tenant. */
import { Hono } from 'hono';
import type { ConsoleEnv } from './context.ts';
import { policyPages } from './policies.tsx';
import { type TenantPagesDeps, userPages } from './users.tsx';

export type { TenantPagesDeps };

export function tenantPages(deps: TenantPagesDeps) {
  const app = new Hono<ConsoleEnv>();
  app.route('/users', userPages(deps));
  app.route('/policies', policyPages(deps));
  return app;
}
