/**
 * The end user's self-service AD password reset (no key: the personal passcode and an SMS passcode are the
 * credentials), as a hono sub-app under `/v1/self/password-reset`:
 * - `POST /v1/self/password-reset` `{"tenant","username","personalPasscode"}` → `201 {"resetId","expiresAt","channel","destination"}`
 * - `POST /v1/self/password-reset/{resetId}/verify` `{"passcode"}` → `200 {"result":"accept"}` or a reject as the challenge API's
 * - `POST /v1/self/password-reset/{resetId}/password` `{"newPassword"}` → `200 {"result":"changed"}`, or
 *   `422 password_policy` with `reason` and a message for the user.
 */
import { Hono } from 'hono';
import {
  RESET_ID,
  ResetPasswordRequest,
  ResetStartRequest,
  ResetVerifyRequest,
} from '../contracts/password.ts';
import { NotFoundError } from '../core/errors.ts';
import { PasswordPolicyError, type PasswordResetService } from '../core/password-reset.ts';
import type { Logger } from '../core/ports/log.ts';
import { errorBody, toErrorResponse } from '../http/errors.ts';
import { readJson } from '../http/json-body.ts';

export const PASSWORD_RESET_BASE = '/v1/self/password-reset';

/** The client's address as API Gateway (or the local server) saw it; rate limits count per IP. */
const clientIp = (c: { req: { header(name: string): string | undefined } }) =>
  c.req.header('x-forwarded-for')?.split(',')[0]?.trim() || undefined;

export function passwordResetRoutes(resets: PasswordResetService, log: Logger) {
  const app = new Hono();
  const resetId = (id: string) => {
    if (!RESET_ID.test(id)) throw new NotFoundError('The reset');
    return id;
  };

  app.post(PASSWORD_RESET_BASE, async (c) => {
    const body = await readJson(c, ResetStartRequest);
    c.header('Cache-Control', 'no-store');
    return c.json(await resets.start({ ...body, clientIp: clientIp(c) }), 201);
  });

  app.post(`${PASSWORD_RESET_BASE}/:resetId/verify`, async (c) => {
    const id = resetId(c.req.param('resetId'));
    const body = await readJson(c, ResetVerifyRequest);
    return c.json(await resets.verify(id, body.passcode, clientIp(c)), 200);
  });

  app.post(`${PASSWORD_RESET_BASE}/:resetId/password`, async (c) => {
    const id = resetId(c.req.param('resetId'));
    const body = await readJson(c, ResetPasswordRequest);
    return c.json(await resets.setPassword(id, body.newPassword), 200);
  });

  app.notFound((c) => c.json(errorBody('not_found', 'No such route.'), 404));
  app.onError((error, c) => {
    if (error instanceof PasswordPolicyError)
      return c.json({ error: { code: error.code, message: error.message, reason: error.reason } }, 422);
    return toErrorResponse(error, c, log);
  });
  return app;
}
