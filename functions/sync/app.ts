/** The AD sync API (DESIGN.md "AD sync API"): runs, batched upserts within the user limit, completion. */
import { Hono } from 'hono';
import { RUN_ID, SYNC_BATCH_MAX_BYTES, SyncBatch } from '../contracts/sync.ts';
import { NotFoundError, UnauthorizedError } from '../core/errors.ts';
import type { DirectoryStore } from '../core/ports/directory.ts';
import type { Logger } from '../core/ports/log.ts';
import type { SyncService } from '../core/sync.ts';
import { errorBody, toErrorResponse } from '../http/errors.ts';
import { readJson } from '../http/json-body.ts';
import type { KeyAuthEnv } from '../http/key-auth.ts';
import { keyOfKind } from '../http/key-kind.ts';

export interface SyncAppDeps {
  sync: SyncService;
  directory: DirectoryStore;
  log: Logger;
}

export function createSyncApp({ sync, directory, log }: SyncAppDeps) {
  const app = new Hono<KeyAuthEnv>();
  app.use('/v1/sync/*', keyOfKind('sync', directory));

  const runId = (id: string) => {
    if (!RUN_ID.test(id)) throw new NotFoundError('The sync run');
    return id;
  };
  const actor = (c: { get(k: 'principal'): { keyPrefix: string } }) => `key:${c.get('principal').keyPrefix}`;

  app.post('/v1/sync/runs', async (c) => {
    const run = await sync.startRun(c.get('principal').tenantId);
    log.info('sync run started', { tenantId: c.get('principal').tenantId, runId: run.runId });
    return c.json(run, 201);
  });

  app.put('/v1/sync/runs/:runId/users', async (c) => {
    const id = runId(c.req.param('runId'));
    const body = await readJson(c, SyncBatch, SYNC_BATCH_MAX_BYTES);
    const tenant = await directory.getTenant(c.get('principal').tenantId);
    if (tenant?.status !== 'active') throw new UnauthorizedError();
    const reply = await sync.pushBatch(tenant, id, body.users);
    log.info('sync batch', {
      tenantId: tenant.id,
      runId: id,
      users: body.users.length,
      accepted: reply.accepted,
      rejected: reply.rejected.length,
    });
    return c.json(reply, 200);
  });

  app.post('/v1/sync/runs/:runId/complete', async (c) => {
    const id = runId(c.req.param('runId'));
    const result = await sync.complete(c.get('principal').tenantId, id, actor(c));
    log.info('sync run completed', { tenantId: c.get('principal').tenantId, runId: id, ...result });
    return c.json(result, 200);
  });

  app.notFound((c) => c.json(errorBody('not_found', 'No such route.'), 404));
  app.onError((error, c) => toErrorResponse(error, c, log));
  return app;
}
