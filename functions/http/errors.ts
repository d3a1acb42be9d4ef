import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { DomainError, type ErrorCode } from '../core/errors.ts';
import type { Logger } from '../core/ports/log.ts';

export function errorBody(code: string, message: string) {
  return { error: { code, message } };
}

/** The HTTP status of each domain error code: the one place the domain's failures meet HTTP. */
export const STATUS_OF: Record<ErrorCode, ContentfulStatusCode> = {
  invalid_request: 400,
  payload_too_large: 413,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  already_exists: 409,
  in_use: 409,
  ambiguous_prefix: 409,
  run_completed: 409,
  run_expired: 409,
  run_has_errors: 409,
  tenant_state: 409,
  missing_reference: 422,
  empty_chain: 422,
  chain_loop: 422,
  weak_passcode: 422,
  above_ceiling: 422,
  no_delivery_route: 422,
  user_locked: 423,
  rate_limited: 429,
  sync_busy: 503,
  credential_unavailable: 503,
  delivery_unavailable: 503,
  invalid_pskc: 400,
  transport_key_required: 400,
  wrong_transport_key: 422,
  bad_mac: 422,
  missing_secret: 422,
  unknown_algorithm: 422,
  invalid_key_package: 422,
  duplicate_serial: 409,
  token_exists: 409,
  token_not_pending: 409,
  token_unavailable: 409,
  wrong_code: 422,
  resync_failed: 422,
  token_expired: 401,
  token_used: 410,
  invalid_csr: 400,
  directory_unavailable: 503,
  password_policy: 422,
  reset_state: 409,
  invalid_phone: 400,
  number_changed: 409,
  nothing_missing: 409,
  wrong_pin: 422,
  weak_pin: 422,
  pin_changed: 409,
};

/** Turns a thrown error into the JSON error reply; anything unexpected is logged and hidden. */
export function toErrorResponse(error: unknown, c: Context, log: Logger): Response {
  if (error instanceof DomainError) {
    if (error.retryAfterSeconds) c.header('Retry-After', String(error.retryAfterSeconds));
    return c.json(errorBody(error.code, error.message), STATUS_OF[error.code]);
  }
  if (error instanceof HTTPException) {
    const status = error.status as ContentfulStatusCode;
    const code = status === 413 ? 'payload_too_large' : status === 401 ? 'unauthorized' : 'invalid_request';
    return c.json(errorBody(code, error.message || 'The request could not be processed.'), status);
  }
  log.error('unhandled error', { error, path: c.req.path, method: c.req.method });
  return c.json(errorBody('internal_error', 'Something went wrong on our side.'), 500);
}
