/**
 * `POST /v1/users/{id}/enrolment-links` (admin key): e-mails the user a single-use link to the portal that
 * lets them fill in a missing number. The reply never holds the link: only the user's mailbox does.
 */
import { Hono } from 'hono';
import { USERNAME_PARAM } from '../contracts/lockout.ts';
import { EnrolmentLinkRequest } from '../contracts/self-service.ts';
import type { EnrolmentLinks } from '../core/enrolment-links.ts';
import { InvalidRequestError } from '../core/errors.ts';
import { readJson } from '../http/json-body.ts';
import type { KeyAuthEnv } from '../http/key-auth.ts';
import { actorOf, tenantOf } from '../http/principal.ts';

export function enrolmentLinkRoutes(links: EnrolmentLinks) {
  const app = new Hono<KeyAuthEnv>();
  app.post('/:id/enrolment-links', async (c) => {
    const username = c.req.param('id');
    if (!USERNAME_PARAM.test(username)) throw new InvalidRequestError('username: not a valid username');
    const body = await readJson(c, EnrolmentLinkRequest);
    return c.json(await links.send(tenantOf(c), actorOf(c), username, body.validDays), 201);
  });
  return app;
}
