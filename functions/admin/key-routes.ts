/**
 * Tenant key management, mounted by the admin app at `/v1/keys`: an admin key mints, lists and revokes its own
 * tenant's auth, sync and admin keys. Nothing here can reach another tenant: the tenant is the calling key's.
 */
import { Hono } from 'hono';
import { KEY_PREFIX, KeyCreateRequest, KeyListQuery } from '../contracts/keys.ts';
import { InvalidRequestError, NotFoundError } from '../core/errors.ts';
import type { KeysService } from '../core/keys-service.ts';
import type { DirectoryStore } from '../core/ports/directory.ts';
import type { Logger } from '../core/ports/log.ts';
import { toErrorResponse } from '../http/errors.ts';
import { readJson } from '../http/json-body.ts';
import { type KeyAuthEnv, keyAuth } from '../http/key-auth.ts';

export interface KeyRoutesDeps {
  keys: KeysService;
  directory: DirectoryStore;
  log: Logger;
}

export function keyRoutes({ keys, directory, log }: KeyRoutesDeps) {
  const app = new Hono<KeyAuthEnv>();
  app.onError((error, c) => toErrorResponse(error, c, log));
  const authenticate = keyAuth('admin', directory);
  // The admin app may have checked the key already; a principal of another kind never passes.
  app.use('*', async (c, next) => {
    const principal = c.get('principal') as KeyAuthEnv['Variables']['principal'] | undefined;
    if (principal?.kind === 'admin') return next();
    return authenticate(c, next);
  });

  app.post('/', async (c) => {
    const body = await readJson(c, KeyCreateRequest);
    const { key, record } = await keys.mint(c.get('principal'), body.kind);
    c.header('Cache-Control', 'no-store');
    // The reply holds a key, shown this once: no cache may keep it.
    c.header('Cache-Control', 'no-store');
    return c.json({ key, prefix: record.prefix, kind: body.kind, createdAt: record.createdAt }, 201);
  });

  app.get('/', async (c) => {
    const query = KeyListQuery.safeParse(c.req.query());
    if (!query.success) throw new InvalidRequestError(query.error.issues[0]?.message ?? 'Bad query.');
    const list = await keys.list(c.get('principal'), {
      ...(query.data.kind && { kind: query.data.kind }),
      ...(query.data.prefix && { prefix: query.data.prefix }),
      includeRevoked: query.data.includeRevoked === 'true',
    });
    return c.json({ keys: list.map(({ tenantId: _t, ...k }) => k) }, 200);
  });

  app.delete('/:prefix', async (c) => {
    const prefix = c.req.param('prefix');
    if (!KEY_PREFIX.test(prefix)) throw new NotFoundError('A live key with this prefix');
    return c.json(await keys.revoke(c.get('principal'), prefix), 200);
  });

  return app;
}
