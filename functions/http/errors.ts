import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { ApiError, RateLimitedError, UserLockedError } from '../core/errors.ts';
import type { Logger } from '../core/ports/log.ts';

export function errorBody(code: string, message: string) {
  return { error: { code, message } };
}

/** Turns a thrown error into the JSON error reply; anything unexpected is logged and hidden. */
export function toErrorResponse(error: unknown, c: Context, log: Logger): Response {
  if (error instanceof ApiError) {
    if (error instanceof RateLimitedError) c.header('Retry-After', String(error.retryAfterSeconds));
    if (error instanceof UserLockedError && error.retryAfterSeconds)
      c.header('Retry-After', String(error.retryAfterSeconds));
    return c.json(errorBody(error.code, error.message), error.status as ContentfulStatusCode);
  }
  if (error instanceof HTTPException) {
    const status = error.status as ContentfulStatusCode;
    const code = status === 413 ? 'payload_too_large' : status === 401 ? 'unauthorized' : 'invalid_request';
    return c.json(errorBody(code, error.message || 'The request could not be processed.'), status);
  }
  log.error('unhandled error', { error, path: c.req.path, method: c.req.method });
  return c.json(errorBody('internal_error', 'Something went wrong on our side.'), 500);
}
