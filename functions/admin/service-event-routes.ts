/** `/v1/service-events`: the tenant's service-status log, newest first, paginated. */
import { Hono } from 'hono';
import { ServiceEventsQuery } from '../contracts/service-events.ts';
import { InvalidRequestError } from '../core/errors.ts';
import { InvalidServiceEventCursorError, type ServiceEventService } from '../core/service-events.ts';
import type { KeyAuthEnv } from '../http/key-auth.ts';
import { tenantOf } from '../http/principal.ts';

export function serviceEventRoutes(events: ServiceEventService) {
  const router = new Hono<KeyAuthEnv>();
  router.get('/', async (c) => {
    const parsed = ServiceEventsQuery.safeParse(c.req.query());
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new InvalidRequestError(`${issue.path.join('.') || '(query)'}: ${issue.message}`);
    }
    try {
      return c.json(await events.list(tenantOf(c), parsed.data), 200);
    } catch (error) {
      if (error instanceof InvalidServiceEventCursorError)
        throw new InvalidRequestError(`cursor: ${error.message}`);
      throw error;
    }
  });
  return router;
}
