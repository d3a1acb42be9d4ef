/** `POST /v1/agents/{id}/sync` (admin key): the console's "sync now" through the agent's RPC topic. */
import { Hono } from 'hono';
import * as z from 'zod';
import { SyncMode } from '../contracts/sync.ts';
import { ID_PATTERN } from '../contracts/topics.ts';
import { NotFoundError } from '../core/errors.ts';
import type { SyncNowService } from '../core/sync-now.ts';
import { readJson } from '../http/json-body.ts';
import type { KeyAuthEnv } from '../http/key-auth.ts';

const SyncNowRequest = z.object({ mode: SyncMode.default('delta') }).strict();

export function syncNowRoutes(syncNow: SyncNowService) {
  const app = new Hono<KeyAuthEnv>();
  app.post('/:id/sync', async (c) => {
    const id = c.req.param('id');
    if (!ID_PATTERN.test(id)) throw new NotFoundError(`Agent "${id.slice(0, 64)}"`);
    const { mode } = c.req.header('content-type')
      ? await readJson(c, SyncNowRequest, 1024)
      : SyncNowRequest.parse({});
    return c.json(await syncNow.start(c.get('principal').tenantId, id, mode), 200);
  });
  return app;
}
