/**
 * Console accounts through the operator API (operator key): create one of any role, list, disable, enable and
 * reset. A new account (or a reset) answers with its set-up link, once; the person sets their own password.
 */
import { Hono } from 'hono';
import { AdminAccountInput, AdminAccountReset } from '../contracts/admin-accounts.ts';
import {
  type AccountActor,
  type AdminAccountManager,
  type SetUpLink,
  setUpPath,
} from '../core/admin-account-management.ts';
import { NO_TENANT } from '../core/web-sessions.ts';
import { readJson } from '../http/json-body.ts';
import type { KeyAuthEnv } from '../http/key-auth.ts';
import { actorOf } from '../http/principal.ts';

export function adminAccountRoutes(manager: AdminAccountManager) {
  const app = new Hono<KeyAuthEnv>();
  const operator = (c: Parameters<typeof actorOf>[0]): AccountActor => ({
    role: 'operator',
    tenantId: NO_TENANT,
    actor: actorOf(c),
  });
  // The console is served from the same host as the API (`/admin`), so the link is made from the request's.
  const link = (url: string, setUp: SetUpLink) => ({
    setUpUrl: `${new URL(url).origin}/admin${setUpPath(setUp.token)}`,
    expiresAt: setUp.expiresAt,
  });

  app.get('/v1/operator/admin-accounts', async (c) =>
    c.json({ items: await manager.list(operator(c), c.req.query('tenantId') ?? NO_TENANT) }, 200),
  );
  app.post('/v1/operator/admin-accounts', async (c) => {
    const made = await manager.invite(operator(c), await readJson(c, AdminAccountInput));
    // The link is shown this once: no cache may keep it.
    c.header('Cache-Control', 'no-store');
    return c.json({ account: made.account, ...link(c.req.url, made.setUp) }, 201);
  });
  for (const action of ['disable', 'enable'] as const)
    app.post(`/v1/operator/admin-accounts/:email/${action}`, async (c) =>
      c.json(await manager.setDisabled(operator(c), c.req.param('email'), action === 'disable'), 200),
    );
  app.post('/v1/operator/admin-accounts/:email/reset', async (c) => {
    const change = c.req.header('content-type') ? await readJson(c, AdminAccountReset) : {};
    const made = await manager.resetSignIn(operator(c), c.req.param('email'), change);
    c.header('Cache-Control', 'no-store');
    return c.json({ account: made.account, ...link(c.req.url, made.setUp) }, 200);
  });
  return app;
}
