/**
 * Errors meant for API callers. Each carries an HTTP status and a stable `code`; anything that is not an
 * ApiError becomes a generic 500 with no internals.
 */
export class ApiError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 409 | 413 | 422 | 423 | 429 | 503,
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class InvalidRequestError extends ApiError {
  constructor(
    message: string,
    readonly issues: Array<{ path: string; message: string }> = [],
  ) {
    super(400, 'invalid_request', message);
  }
}

export class PayloadTooLargeError extends ApiError {
  constructor(limitBytes: number) {
    super(413, 'payload_too_large', `The request body is larger than ${limitBytes} bytes.`);
  }
}

export class UnauthorizedError extends ApiError {
  constructor(message = 'A valid API key is required: send it as "Authorization: Bearer <key>".') {
    super(401, 'unauthorized', message);
  }
}

export class NotFoundError extends ApiError {
  constructor(what: string) {
    super(404, 'not_found', `${what} was not found.`);
  }
}

export class UserLockedError extends ApiError {
  constructor(readonly retryAfterSeconds?: number) {
    super(423, 'user_locked', 'The user is locked after too many failed attempts.');
  }
}

export class NoDeliveryRouteError extends ApiError {
  constructor(message = 'The user has no phone number or route that a passcode could be sent to.') {
    super(422, 'no_delivery_route', message);
  }
}

export class RateLimitedError extends ApiError {
  constructor(readonly retryAfterSeconds: number) {
    super(429, 'rate_limited', 'Too many requests; retry later.');
  }
}

/** A conditional write lost a race or found the item in a state it did not expect. */
export class ConditionFailedError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConditionFailedError';
  }
}
