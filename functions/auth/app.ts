/** The auth client API: challenges for RADIUS servers, VPN and web gateways. */
import { type Context, Hono, type MiddlewareHandler } from 'hono';
import type { z } from 'zod';
import { CHALLENGE_ID, ChallengeRequest, VerifyRequest } from '../contracts/api.ts';
import { bearerKey, type ParsedKey, parseKey } from '../core/api-keys.ts';
import type { ChallengeService } from '../core/challenges.ts';
import { DomainError, NotFoundError, UnauthorizedError } from '../core/errors.ts';
import type { PasswordCheckService } from '../core/password-check.ts';
import type { Logger } from '../core/ports/log.ts';
import { errorBody, toErrorResponse } from '../http/errors.ts';
import { readJson } from '../http/json-body.ts';
import { passwordCheckRoutes } from './password-check-routes.ts';

export interface AuthAppDeps {
  challenges: ChallengeService;
  log: Logger;
  /** `POST /v1/password-checks`; without it (a function that cannot reach agents) the route answers 503. */
  passwordChecks?: PasswordCheckService | undefined;
}

type Env = { Variables: { key: ParsedKey } };

export function createAuthApp({ challenges, log, passwordChecks }: AuthAppDeps) {
  const app = new Hono<Env>();

  const requireKey: MiddlewareHandler<Env> = async (c, next) => {
    const key = parseKey(bearerKey(c.req.header('authorization')));
    if (!key) throw new UnauthorizedError();
    c.set('key', key);
    await next();
  };
  app.use('/v1/challenges', requireKey);
  app.use('/v1/challenges/*', requireKey);

  /**
   * The key is checked in the same batched read as the user, which needs the body first; a body that fails
   * (too large, not JSON) is answered only after a key check of its own, so an unknown key always gets 401
   * and never learns more. The body was capped while it streamed in either way.
   */
  const body = async <T extends z.ZodType>(c: Context<Env>, schema: T): Promise<z.infer<T>> => {
    try {
      return await readJson(c, schema);
    } catch (error) {
      if (error instanceof DomainError) await challenges.authorize(c.get('key'));
      throw error;
    }
  };

  const challengeId = (id: string) => {
    if (!CHALLENGE_ID.test(id)) throw new NotFoundError('The challenge');
    return id;
  };

  app.post('/v1/challenges', async (c) => {
    const request = await body(c, ChallengeRequest);
    const created = await challenges.create(c.get('key'), request);
    log.info('challenge created', { tenantId: c.get('key').tenantId, challengeId: created.challengeId });
    return c.json(created, 201);
  });

  app.post('/v1/challenges/:id/verify', async (c) => {
    const id = challengeId(c.req.param('id'));
    const request = await body(c, VerifyRequest);
    const result = await challenges.verify(c.get('key'), id, request.passcode, request.client);
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

  app.route('/', passwordCheckRoutes(passwordChecks));

  app.notFound((c) => c.json(errorBody('not_found', 'No such route.'), 404));
  app.onError((error, c) => toErrorResponse(error, c, log));
  return app;
}
