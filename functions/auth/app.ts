/** The auth client API: challenges for RADIUS servers, VPN and web gateways. */
import { Hono, type MiddlewareHandler } from 'hono';
import type { Logger } from '../adapters/log.ts';
import { CHALLENGE_ID, ChallengeRequest, VerifyRequest } from '../contracts/api.ts';
import { bearerKey, type ParsedKey, parseKey } from '../core/api-keys.ts';
import type { ChallengeService } from '../core/challenges.ts';
import { NotFoundError, UnauthorizedError } from '../core/errors.ts';
import { errorBody, toErrorResponse } from '../http/errors.ts';
import { readJson } from '../http/json-body.ts';

export interface AuthAppDeps {
  challenges: ChallengeService;
  log: Logger;
}

type Env = { Variables: { key: ParsedKey } };

export function createAuthApp({ challenges, log }: AuthAppDeps) {
  const app = new Hono<Env>();

  const requireKey: MiddlewareHandler<Env> = async (c, next) => {
    const key = parseKey(bearerKey(c.req.header('authorization')));
    if (!key) throw new UnauthorizedError();
    c.set('key', key);
    await next();
  };
  app.use('/v1/challenges', requireKey);
  app.use('/v1/challenges/*', requireKey);

  const challengeId = (id: string) => {
    if (!CHALLENGE_ID.test(id)) throw new NotFoundError('The challenge');
    return id;
  };

  app.post('/v1/challenges', async (c) => {
    const body = await readJson(c, ChallengeRequest);
    const created = await challenges.create(c.get('key'), body);
    log.info('challenge created', { tenantId: c.get('key').tenantId, challengeId: created.challengeId });
    return c.json(created, 201);
  });

  app.post('/v1/challenges/:id/verify', async (c) => {
    const id = challengeId(c.req.param('id'));
    const body = await readJson(c, VerifyRequest);
    const result = await challenges.verify(c.get('key'), id, body.passcode, body.client);
    log.info('challenge verified', {
      tenantId: c.get('key').tenantId,
      challengeId: id,
      result: result.result,
    });
    return c.json(result, 200);
  });

  app.post('/v1/challenges/:id/resend', async (c) => {
    const id = challengeId(c.req.param('id'));
    const created = await challenges.resend(c.get('key'), id);
    log.info('challenge resent', {
      tenantId: c.get('key').tenantId,
      replaced: id,
      challengeId: created.challengeId,
    });
    return c.json(created, 201);
  });

  app.get('/v1/challenges/:id', async (c) => {
    const id = challengeId(c.req.param('id'));
    return c.json(await challenges.view(c.get('key'), id), 200);
  });

  app.notFound((c) => c.json(errorBody('not_found', 'No such route.'), 404));
  app.onError((error, c) => toErrorResponse(error, c, log));
  return app;
}
