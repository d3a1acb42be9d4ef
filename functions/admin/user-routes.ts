/** `/v1/users`: list with search and pagination, view, overrides, lock, unlock, delete, effective settings. */
import { Hono } from 'hono';
import { UserUpdate } from '../contracts/admin.ts';
import { InvalidRequestError, NotFoundError } from '../core/errors.ts';
import { type UserAdminService, userView } from '../core/user-admin.ts';
import { readJson } from '../http/json-body.ts';
import type { KeyAuthEnv } from '../http/key-auth.ts';
import { actorOf, tenantOf } from '../http/principal.ts';

const MAX_PAGE = 200;
const USERNAME = /^[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}]{1,256}$/u;

export function pageOptions(query: (name: string) => string | undefined) {
  const raw = query('limit');
  const limit = raw === undefined ? 50 : Number(raw);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE)
    throw new InvalidRequestError(`limit: must be a whole number from 1 to ${MAX_PAGE}`);
  const cursor = query('cursor');
  if (cursor !== undefined && !/^[A-Za-z0-9_-]{1,1024}$/.test(cursor))
    throw new InvalidRequestError('cursor: not a cursor this API handed out');
  return { limit, ...(cursor && { cursor }) };
}

export function userRoutes(users: UserAdminService) {
  const router = new Hono<KeyAuthEnv>();
  const nameOf = (raw: string) => {
    if (!USERNAME.test(raw)) throw new NotFoundError('The user');
    return raw;
  };

  router.get('/', async (c) => {
    const search = c.req.query('search');
    if (search !== undefined && search.length > 256)
      throw new InvalidRequestError('search: at most 256 characters');
    const page = await users.list(tenantOf(c), {
      ...pageOptions((n) => c.req.query(n)),
      ...(search && { search }),
    });
    return c.json(page, 200);
  });
  router.get('/:id', async (c) =>
    c.json(userView(await users.get(tenantOf(c), nameOf(c.req.param('id')))), 200),
  );
  router.patch('/:id', async (c) => {
    const body = await readJson(c, UserUpdate);
    return c.json(await users.update(tenantOf(c), actorOf(c), nameOf(c.req.param('id')), body), 200);
  });
  router.delete('/:id', async (c) => {
    await users.delete(tenantOf(c), actorOf(c), nameOf(c.req.param('id')));
    return c.body(null, 204);
  });
  router.post('/:id/lock', async (c) =>
    c.json(await users.setLocked(tenantOf(c), actorOf(c), nameOf(c.req.param('id')), true), 200),
  );
  router.post('/:id/unlock', async (c) =>
    c.json(await users.setLocked(tenantOf(c), actorOf(c), nameOf(c.req.param('id')), false), 200),
  );
  router.delete('/:id/pin', async (c) =>
    c.json(await users.clearPin(tenantOf(c), actorOf(c), nameOf(c.req.param('id'))), 200),
  );
  router.get('/:id/effective-settings', async (c) =>
    c.json(await users.effective(tenantOf(c), nameOf(c.req.param('id'))), 200),
  );
  return router;
}
