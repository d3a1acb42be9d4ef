/** `/v1/message-log`: the tenant's messages, searchable and paginated; `/v1/message-log/retention` sets how long. */
import { Hono } from 'hono';
import { MessageLogQuery, MessageLogRetention } from '../contracts/message-log.ts';
import { InvalidRequestError } from '../core/errors.ts';
import { InvalidMessageLogCursorError, type MessageLogService } from '../core/message-log.ts';
import { readJson } from '../http/json-body.ts';
import type { KeyAuthEnv } from '../http/key-auth.ts';
import { tenantOf } from '../http/principal.ts';

export function messageLogRoutes(log: MessageLogService) {
  const router = new Hono<KeyAuthEnv>();
  router.get('/', async (c) => {
    const parsed = MessageLogQuery.safeParse(c.req.query());
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new InvalidRequestError(`${issue.path.join('.') || '(query)'}: ${issue.message}`);
    }
    try {
      return c.json(await log.list(tenantOf(c), parsed.data), 200);
    } catch (error) {
      if (error instanceof InvalidMessageLogCursorError)
        throw new InvalidRequestError(`cursor: ${error.message}`);
      throw error;
    }
  });
  router.put('/retention', async (c) => {
    const { days } = await readJson(c, MessageLogRetention);
    return c.json(await log.setRetention(tenantOf(c), days), 200);
  });
  return router;
}
