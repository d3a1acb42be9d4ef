/** `/v1/settings`: the tenant's own defaults and abuse defences, within the operator's ceilings. */
import { Hono } from 'hono';
import { TenantSettingsUpdate } from '../contracts/admin.ts';
import type { TenantSettingsService } from '../core/tenant-settings.ts';
import { readJson } from '../http/json-body.ts';
import type { KeyAuthEnv } from '../http/key-auth.ts';
import { actorOf, tenantOf } from '../http/principal.ts';

export function settingsRoutes(settings: TenantSettingsService) {
  const router = new Hono<KeyAuthEnv>();
  router.get('/', async (c) => c.json(await settings.view(tenantOf(c)), 200));
  router.patch('/', async (c) => {
    const patch = await readJson(c, TenantSettingsUpdate);
    return c.json(await settings.update(tenantOf(c), actorOf(c), patch), 200);
  });
  return router;
}
