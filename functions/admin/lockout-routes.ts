/**
 * Lockouts and personal passcodes, mounted by the admin app at `/v1`: `/lockouts/{username}` (GET the state,
 * DELETE to unlock) and `/personal-passcodes/{username}` (PUT to set, DELETE to clear). Always the calling
 * admin key's own tenant.
 */
import { Hono } from 'hono';
import { PersonalPasscodeRequest, USERNAME_PARAM } from '../contracts/lockout.ts';
import { InvalidRequestError } from '../core/errors.ts';
import type { LockoutService } from '../core/lockout-service.ts';
import type { DirectoryStore } from '../core/ports/directory.ts';
import type { Logger } from '../core/ports/log.ts';
import { toErrorResponse } from '../http/errors.ts';
import { readJson } from '../http/json-body.ts';
import { type KeyAuthEnv, keyAuth } from '../http/key-auth.ts';

export function lockoutRoutes({
  lockouts,
  directory,
  log,
}: {
  lockouts: LockoutService;
  directory: DirectoryStore;
  log: Logger;
}) {
  const app = new Hono<KeyAuthEnv>();
  app.onError((error, c) => toErrorResponse(error, c, log));
  const authenticate = keyAuth('admin', directory);
  const guarded = ['/lockouts/*', '/personal-passcodes/*'];
  for (const path of guarded)
    app.use(path, async (c, next) => {
      const principal = c.get('principal') as KeyAuthEnv['Variables']['principal'] | undefined;
      if (principal?.kind === 'admin') return next();
      return authenticate(c, next);
    });
  // Hono hands over path parameters already percent-decoded.
  const username = (name: string) => {
    if (!USERNAME_PARAM.test(name)) throw new InvalidRequestError('username: not a valid username');
    return name;
  };

  app.get('/lockouts/:username', async (c) =>
    c.json(await lockouts.state(c.get('principal'), username(c.req.param('username'))), 200),
  );
  app.delete('/lockouts/:username', async (c) => {
    await lockouts.unlock(c.get('principal'), username(c.req.param('username')));
    return c.body(null, 204);
  });
  app.put('/personal-passcodes/:username', async (c) => {
    const body = await readJson(c, PersonalPasscodeRequest);
    return c.json(
      await lockouts.setPersonalPasscode(c.get('principal'), username(c.req.param('username')), body),
      200,
    );
  });
  app.delete('/personal-passcodes/:username', async (c) => {
    await lockouts.clearPersonalPasscode(c.get('principal'), username(c.req.param('username')));
    return c.body(null, 204);
  });
  return app;
}
