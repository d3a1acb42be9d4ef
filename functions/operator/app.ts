/** The operator API (operator key): tenants, their limits and settings, usage, suspension, the operator's audit log. */
import { Hono } from 'hono';
import { pageOptions } from '../admin/user-routes.ts';
import { TenantInput, TenantUpdate } from '../contracts/admin.ts';
import { ID_PATTERN } from '../contracts/topics.ts';
import type { AdminAccountManager } from '../core/admin-account-management.ts';
import { NotFoundError } from '../core/errors.ts';
import type { AuditLog } from '../core/ports/audit.ts';
import type { DirectoryStore } from '../core/ports/directory.ts';
import type { Logger } from '../core/ports/log.ts';
import type { TenantService } from '../core/tenants.ts';
import { errorBody, toErrorResponse } from '../http/errors.ts';
import { readJson } from '../http/json-body.ts';
import type { KeyAuthEnv } from '../http/key-auth.ts';
import { keyOfKind } from '../http/key-kind.ts';
import { actorOf } from '../http/principal.ts';
import { adminAccountRoutes } from './admin-account-routes.ts';

export interface OperatorAppDeps {
  tenants: TenantService;
  audit: AuditLog;
  directory: DirectoryStore;
  log: Logger;
  /** Console accounts (admin-account-routes.ts). */
  adminAccounts?: AdminAccountManager;
}

export function createOperatorApp({ tenants, audit, directory, log, adminAccounts }: OperatorAppDeps) {
  const app = new Hono<KeyAuthEnv>();
  app.use('/v1/operator/*', keyOfKind('operator', directory));
  const idOf = (id: string) => {
    if (!ID_PATTERN.test(id)) throw new NotFoundError('The tenant');
    return id;
  };

  app.get('/v1/operator/tenants', async (c) => c.json({ items: await tenants.list() }, 200));
  app.post('/v1/operator/tenants', async (c) => {
    const created = await tenants.create(actorOf(c), await readJson(c, TenantInput));
    log.info('tenant created', { tenantId: created.tenant.id });
    // The reply holds a key, shown this once: no cache may keep it.
    c.header('Cache-Control', 'no-store');
    return c.json(created, 201);
  });
  app.get('/v1/operator/tenants/:id', async (c) => c.json(await tenants.get(idOf(c.req.param('id'))), 200));
  app.patch('/v1/operator/tenants/:id', async (c) => {
    const id = idOf(c.req.param('id'));
    return c.json(await tenants.update(actorOf(c), id, await readJson(c, TenantUpdate)), 200);
  });
  // The tombstone is written at once; the purge of the tenant's data runs on in the background (it can take
  // longer than API Gateway waits), and the deletion resource says when it is done.
  app.delete('/v1/operator/tenants/:id', async (c) => {
    const id = idOf(c.req.param('id'));
    const deletion = await tenants.delete(actorOf(c), id);
    const statusUrl = `/v1/operator/tenants/${id}/deletion`;
    log.info('tenant deleted; purge scheduled', { tenantId: id });
    c.header('Location', statusUrl);
    return c.json({ tenantId: id, ...deletion, statusUrl }, 202);
  });
  app.get('/v1/operator/tenants/:id/deletion', async (c) => {
    const id = idOf(c.req.param('id'));
    return c.json({ tenantId: id, ...(await tenants.deletion(id)) }, 200);
  });
  app.post('/v1/operator/tenants/:id/suspend', async (c) =>
    c.json(await tenants.setStatus(actorOf(c), idOf(c.req.param('id')), 'suspended'), 200),
  );
  app.post('/v1/operator/tenants/:id/resume', async (c) =>
    c.json(await tenants.setStatus(actorOf(c), idOf(c.req.param('id')), 'active'), 200),
  );
  app.get('/v1/operator/tenants/:id/usage', async (c) =>
    c.json(await tenants.usage(idOf(c.req.param('id'))), 200),
  );
  app.get('/v1/operator/audit', async (c) => {
    const { limit, cursor } = pageOptions((n) => c.req.query(n));
    return c.json(await audit.list('', { limit, ...(cursor && { cursor }) }), 200);
  });

  if (adminAccounts) app.route('/', adminAccountRoutes(adminAccounts));

  app.notFound((c) => c.json(errorBody('not_found', 'No such route.'), 404));
  app.onError((error, c) => toErrorResponse(error, c, log));
  return app;
}
