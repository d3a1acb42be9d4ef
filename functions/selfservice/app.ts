/**
 * The self-service JSON API (`/v1/self/…`): a user signs in with a passcode sent through their own rule chain
 * and gets a portal session (`Authorization: Bearer ps.…`), then reads and changes what their group policy
 * allows. The domain is core/self-service.ts, shared with the portal pages.
 */
import { isIP } from 'node:net';
import { type Context, Hono } from 'hono';
import {
  AuthenticatorConfirm,
  AuthenticatorEnrol,
  LinkRedeem,
  NumberChangeConfirm,
  NumberChangeStart,
  ProfileUpdate,
  SelfPersonalPasscode,
  SelfPin,
  SIGN_IN_ID,
  SignInStart,
  SignInVerify,
} from '../contracts/self-service.ts';
import { bearerKey } from '../core/api-keys.ts';
import { NotFoundError } from '../core/errors.ts';
import type { Logger } from '../core/ports/log.ts';
import type { SelfService, SessionContext } from '../core/self-service.ts';
import { errorBody, toErrorResponse } from '../http/errors.ts';
import { readJson } from '../http/json-body.ts';

export interface SelfServiceAppDeps {
  self: SelfService;
  log: Logger;
  /** More routes under `/v1/self` (the password reset), mounted as they are. */
  extra?: Hono;
}

type Env = { Variables: { session: SessionContext } };

/**
 * The caller's address as the platform saw it (API Gateway's source IP, or the local server's socket), never
 * a header the caller could set: it keys the per-IP rate limit.
 */
export function clientIp(c: Context): string | undefined {
  const env = c.env as
    | {
        event?: { requestContext?: { http?: { sourceIp?: string } } };
        requestContext?: { http?: { sourceIp?: string } };
        incoming?: { socket?: { remoteAddress?: string } };
      }
    | undefined;
  const raw =
    env?.event?.requestContext?.http?.sourceIp ??
    env?.requestContext?.http?.sourceIp ??
    env?.incoming?.socket?.remoteAddress;
  const ip = raw?.startsWith('::ffff:') && isIP(raw.slice(7)) === 4 ? raw.slice(7) : raw;
  return ip && isIP(ip) ? ip : undefined;
}

const id = (value: string, what: string) => {
  if (!SIGN_IN_ID.test(value)) throw new NotFoundError(what);
  return value;
};

export function createSelfServiceApp({ self, log, extra }: SelfServiceAppDeps) {
  const app = new Hono<Env>();

  app.post('/v1/self/sign-in', async (c) => {
    const body = await readJson(c, SignInStart);
    const created = await self.startSignIn(body, clientIp(c));
    log.info('self-service sign-in started', { tenantId: body.tenant, signInId: created.challengeId });
    return c.json(
      {
        signInId: created.challengeId,
        expiresAt: created.expiresAt,
        channel: created.channel,
        destination: created.destination,
      },
      201,
    );
  });

  app.post('/v1/self/sign-in/:id/verify', async (c) => {
    const signInId = id(c.req.param('id'), 'The sign-in');
    const body = await readJson(c, SignInVerify);
    const result = await self.finishSignIn(body.tenant, signInId, body.passcode, clientIp(c));
    log.info('self-service sign-in verified', { tenantId: body.tenant, signInId, result: result.result });
    return c.json(result, 200);
  });

  app.post('/v1/self/enrolment-links/redeem', async (c) => {
    const body = await readJson(c, LinkRedeem);
    const opened = await self.redeemLink(body.tenant, body.token);
    log.info('enrolment link used', { tenantId: body.tenant });
    return c.json(opened, 200);
  });

  if (extra) app.route('/', extra);

  // Everything below needs a live session.
  for (const path of [
    '/v1/self/session',
    '/v1/self/profile',
    '/v1/self/number-changes',
    '/v1/self/number-changes/*',
    '/v1/self/personal-passcode',
    '/v1/self/pin',
    '/v1/self/authenticator',
    '/v1/self/authenticator/*',
  ])
    app.use(path, async (c, next) => {
      c.set('session', await self.session(bearerKey(c.req.header('authorization'))));
      await next();
    });

  app.delete('/v1/self/session', async (c) => {
    await self.signOut(c.get('session'));
    return c.body(null, 204);
  });

  app.get('/v1/self/profile', async (c) => c.json(await self.profile(c.get('session')), 200));

  app.patch('/v1/self/profile', async (c) => {
    const body = await readJson(c, ProfileUpdate);
    return c.json(await self.setSmsType(c.get('session'), body.smsType), 200);
  });

  app.post('/v1/self/number-changes', async (c) => {
    const body = await readJson(c, NumberChangeStart);
    const started = await self.startNumberChange(c.get('session'), body, clientIp(c));
    return c.json(started, started.applied ? 200 : 201);
  });

  app.post('/v1/self/number-changes/:id/confirm', async (c) => {
    const changeId = id(c.req.param('id'), 'The number change');
    const body = await readJson(c, NumberChangeConfirm);
    return c.json(
      await self.confirmNumberChange(c.get('session'), changeId, body.passcode, clientIp(c)),
      200,
    );
  });

  app.put('/v1/self/personal-passcode', async (c) => {
    const body = await readJson(c, SelfPersonalPasscode);
    return c.json(await self.setPersonalPasscode(c.get('session'), body), 200);
  });

  app.delete('/v1/self/personal-passcode', async (c) => {
    await self.clearPersonalPasscode(c.get('session'));
    return c.body(null, 204);
  });

  app.put('/v1/self/pin', async (c) => {
    const body = await readJson(c, SelfPin);
    return c.json(await self.setPin(c.get('session'), body), 200);
  });

  app.post('/v1/self/authenticator', async (c) => {
    const body = await readJson(c, AuthenticatorEnrol);
    return c.json(await self.enrolAuthenticator(c.get('session'), body.replace), 201);
  });

  app.post('/v1/self/authenticator/:tokenId/confirm', async (c) => {
    const tokenId = c.req.param('tokenId');
    if (!/^app\.[A-Za-z0-9_-]{16}$/.test(tokenId)) throw new NotFoundError('The authenticator');
    const body = await readJson(c, AuthenticatorConfirm);
    return c.json(await self.confirmAuthenticator(c.get('session'), tokenId, body.code), 200);
  });

  app.notFound((c) => c.json(errorBody('not_found', 'No such route.'), 404));
  app.onError((error, c) => toErrorResponse(error, c, log));
  return app;
}
