/** `/v1/settings/usernames`: how usernames are formed and which typed forms a login accepts. */
import { Hono } from 'hono';
import { UsernamePolicy } from '../contracts/usernames.ts';
import type { UsernameSettingsService } from '../core/username-settings.ts';
import { readJson } from '../http/json-body.ts';
import type { KeyAuthEnv } from '../http/key-auth.ts';
import { actorOf, tenantOf } from '../http/principal.ts';

export function usernameRoutes(settings: UsernameSettingsService) {
  const router = new Hono<KeyAuthEnv>();
  router.get('/', async (c) => c.json(await settings.get(tenantOf(c)), 200));
  router.put('/', async (c) => {
    const policy = await readJson(c, UsernamePolicy);
    return c.json(await settings.put(tenantOf(c), actorOf(c), policy), 200);
  });
  return router;
}
