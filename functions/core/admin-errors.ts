/** Errors of the operator, tenant admin and sync APIs; each says why, with a stable code. */
import { ApiError } from './errors.ts';

export class ForbiddenError extends ApiError {
  constructor(message = 'This key may not use this API.') {
    super(403, 'forbidden', message);
  }
}

export class AlreadyExistsError extends ApiError {
  constructor(what: string) {
    super(409, 'already_exists', `${what} already exists.`);
  }
}

/** A delete that would leave something pointing at nothing. */
export class InUseError extends ApiError {
  constructor(
    what: string,
    readonly usedBy: string[],
  ) {
    super(409, 'in_use', `${what} is still in use by ${usedBy.join(', ')}; change or delete those first.`);
  }
}

/** A reference to an object of the tenant that does not exist. */
export class MissingReferenceError extends ApiError {
  constructor(message: string) {
    super(422, 'missing_reference', message);
  }
}

export class EmptyChainError extends ApiError {
  constructor() {
    super(422, 'empty_chain', 'A load-balancing policy needs at least one rule.');
  }
}

export class ChainLoopError extends ApiError {
  constructor(message: string) {
    super(422, 'chain_loop', message);
  }
}

/** Settings that would make passcodes weaker than the entropy floor, or otherwise unusable. */
export class WeakPasscodeError extends ApiError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(422, 'weak_passcode', message, options);
  }
}

export class RunStateError extends ApiError {
  constructor(code: 'run_completed' | 'run_expired' | 'run_has_errors', message: string) {
    super(409, code, message);
  }
}

/** Another batch of the tenant held the create lock for too long; the batch changed nothing and can be resent. */
export class SyncBusyError extends ApiError {
  readonly retryAfterSeconds = 2;
  constructor() {
    super(503, 'sync_busy', 'Other batches of this tenant are being stored; send this batch again shortly.');
  }
}

export class TenantStateError extends ApiError {
  constructor(message: string) {
    super(409, 'tenant_state', message);
  }
}
