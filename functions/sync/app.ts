/** The AD sync API (DESIGN.md "AD sync API"): runs, batched upserts within the user limit, completion. */
import { Hono, type MiddlewareHandler } from 'hono';
import * as z from 'zod';
import { RUN_ID, StartRunRequest, SYNC_BATCH_MAX_BYTES, SyncBatch } from '../contracts/sync.ts';
import { bearerKey, parseKey } from '../core/api-keys.ts';
import { InvalidRequestError, NotFoundError, UnauthorizedError } from '../core/errors.ts';
import type { DirectoryStore } from '../core/ports/directory.ts';
import type { Logger } from '../core/ports/log.ts';
import type { SyncService } from '../core/sync.ts';
import type { SyncHistoryService } from '../core/sync-history.ts';
import { errorBody, toErrorResponse } from '../http/errors.ts';
import { readJson } from '../http/json-body.ts';
import { type KeyAuthEnv, keyAuth } from '../http/key-auth.ts';
import { keyOfKind } from '../http/key-kind.ts';

export interface SyncAppDeps {
  sync: SyncService;
  directory: DirectoryStore;
  log: Logger;
  /** `GET /v1/sync/runs[/{runId}]`; without it those routes are not served. */
  history?: SyncHistoryService | undefined;
}

const HistoryQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(100).default(20),
    cursor: z.string().regex(RUN_ID).optional(),
  })
  .strict();

export function createSyncApp({ sync, directory, log, history }: SyncAppDeps) {
  const app = new Hono<KeyAuthEnv>();
  const syncKey = keyOfKind('sync', directory);
  // The history is the console's (admin key) and the connector's (sync key, to follow a run it completed).
  const readerKey: MiddlewareHandler<KeyAuthEnv> = async (c, next) => {
    const parsed = parseKey(bearerKey(c.req.header('authorization')));
    if (!parsed) throw new UnauthorizedError();
    return keyAuth(parsed.kind === 'admin' ? 'admin' : 'sync', directory)(c, next);
  };
  app.use('/v1/sync/*', async (c, next) => (c.req.method === 'GET' ? readerKey(c, next) : syncKey(c, next)));

  const runId = (id: string) => {
    if (!RUN_ID.test(id)) throw new NotFoundError('The sync run');
    return id;
  };
  const actor = (c: { get(k: 'principal'): { keyPrefix: string } }) => `key:${c.get('principal').keyPrefix}`;

  app.post('/v1/sync/runs', async (c) => {
    // The body is optional (connectors that predate modes send none, and no Content-Type): a full run.
    const { mode } = c.req.header('content-type')
      ? await readJson(c, StartRunRequest, 1024)
      : StartRunRequest.parse({});
    const run = await sync.startRun(c.get('principal').tenantId, mode);
    log.info('sync run started', { tenantId: c.get('principal').tenantId, runId: run.runId, mode });
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
    const outcome = await sync.complete(c.get('principal').tenantId, id, actor(c));
    if (outcome.state === 'completing') {
      const statusUrl = `/v1/sync/runs/${id}`;
      log.info('sync run completing in the background', { tenantId: c.get('principal').tenantId, runId: id });
      c.header('Location', statusUrl);
      return c.json({ runId: id, status: 'completing', statusUrl }, 202);
    }
    log.info('sync run completed', { tenantId: c.get('principal').tenantId, runId: id, ...outcome.result });
    return c.json(outcome.result, 200);
  });

  if (history) {
    app.get('/v1/sync/runs', async (c) => {
      const query = HistoryQuery.safeParse(c.req.query());
      if (!query.success) throw new InvalidRequestError('limit must be 1-100 and cursor a run id.');
      const { limit, cursor } = query.data;
      return c.json(await history.list(c.get('principal').tenantId, limit, cursor), 200);
    });
    app.get('/v1/sync/runs/:runId', async (c) => {
      const id = runId(c.req.param('runId'));
      return c.json(await history.show(c.get('principal').tenantId, id), 200);
    });
  }

  app.notFound((c) => c.json(errorBody('not_found', 'No such route.'), 404));
  app.onError((error, c) => toErrorResponse(error, c, log));
  return app;
}
