/**
 * Errors meant for the caller, each with a stable `code` and a message safe to show. The domain knows no HTTP:
 * the HTTP layer (functions/http/errors.ts) picks each code's status, and anything that is not a DomainError
 * becomes a generic 500 with no internals.
 */
export const ERROR_CODES = [
  'invalid_request',
  'payload_too_large',
  'unauthorized',
  'forbidden',
  'not_found',
  'already_exists',
  'in_use',
  'ambiguous_prefix',
  'run_completed',
  'run_expired',
  'run_has_errors',
  'tenant_state',
  'missing_reference',
  'empty_chain',
  'chain_loop',
  'weak_passcode',
  'above_ceiling',
  'no_delivery_route',
  'user_locked',
  'rate_limited',
  'sync_busy',
  'credential_unavailable',
  'delivery_unavailable',
  // OATH tokens: PSKC import, enrolment, assignment and resynchronisation.
  'invalid_pskc',
  'transport_key_required',
  'wrong_transport_key',
  'bad_mac',
  'missing_secret',
  'unknown_algorithm',
  'invalid_key_package',
  'duplicate_serial',
  'token_exists',
  'token_not_pending',
  'token_unavailable',
  'wrong_code',
  'resync_failed',
  // Agent enrolment: a one-time token that ran out or was taken, a certificate request that cannot be signed.
  'token_expired',
  'token_used',
  'invalid_csr',
  // AD through the edge agent's RPC: no agent could answer in time; AD refused a new password; a reset that
  // is not (or no longer) at the step asked for.
  'directory_unavailable',
  'password_policy',
  'reset_state',
  // The self-service portal: a number no passcode can go to, a number that changed under a check, a link for
  // a user who lacks nothing.
  'invalid_phone',
  'number_changed',
  'nothing_missing',
  // The PIN typed before the passcode: the current one was wrong, the new one is too easy, or it changed meanwhile.
  'wrong_pin',
  'weak_pin',
  'pin_changed',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export class DomainError extends Error {
  /** When the caller may try again, in seconds (rate limits, locks, busy stores). */
  readonly retryAfterSeconds?: number | undefined;

  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown; retryAfterSeconds?: number | undefined },
  ) {
    super(message, options);
    this.name = new.target.name;
    this.retryAfterSeconds = options?.retryAfterSeconds;
  }
}

export class InvalidRequestError extends DomainError {
  constructor(
    message: string,
    readonly issues: Array<{ path: string; message: string }> = [],
  ) {
    super('invalid_request', message);
  }
}

export class PayloadTooLargeError extends DomainError {
  constructor(limitBytes: number) {
    super('payload_too_large', `The request body is larger than ${limitBytes} bytes.`);
  }
}

export class UnauthorizedError extends DomainError {
  constructor(message = 'A valid API key is required: send it as "Authorization: Bearer <key>".') {
    super('unauthorized', message);
  }
}

export class NotFoundError extends DomainError {
  constructor(what: string) {
    super('not_found', `${what} was not found.`);
  }
}

export class UserLockedError extends DomainError {
  constructor(retryAfterSeconds?: number) {
    super('user_locked', 'The user is locked after too many failed attempts.', { retryAfterSeconds });
  }
}

export class NoDeliveryRouteError extends DomainError {
  constructor(message = 'The user has no phone number or route that a passcode could be sent to.') {
    super('no_delivery_route', message);
  }
}

export class RateLimitedError extends DomainError {
  constructor(retryAfterSeconds: number) {
    super('rate_limited', 'Too many requests; retry later.', { retryAfterSeconds });
  }
}

/** No edge agent that serves the user's AD domain answered in time (none online, or no reply before the deadline). */
export class DirectoryUnavailableError extends DomainError {
  constructor(message = 'The directory (Active Directory) cannot be reached right now; try again shortly.') {
    super('directory_unavailable', message, { retryAfterSeconds: 5 });
  }
}
