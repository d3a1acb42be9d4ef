/** `POST /v1/password-checks`: an auth client asks whether a user's AD password is right (contracts/password.ts). */
import { Hono } from 'hono';
import { PasswordCheckRequest } from '../contracts/password.ts';
import { bearerKey, parseKey } from '../core/api-keys.ts';
import { DirectoryUnavailableError, UnauthorizedError } from '../core/errors.ts';
import type { PasswordCheckService } from '../core/password-check.ts';
import { readJson } from '../http/json-body.ts';

export function passwordCheckRoutes(checks: PasswordCheckService | undefined) {
  const app = new Hono();
  app.post('/v1/password-checks', async (c) => {
    const key = parseKey(bearerKey(c.req.header('authorization')));
    if (!key) throw new UnauthorizedError();
    const request = await readJson(c, PasswordCheckRequest);
    if (!checks) throw new DirectoryUnavailableError('This deployment cannot reach edge agents.');
    return c.json(await checks.check(key, request), 200);
  });
  return app;
}
