/** Errors of the operator, tenant admin and sync APIs; each says why, with a stable code. */
import { DomainError } from './errors.ts';

export class ForbiddenError extends DomainError {
  constructor(message = 'This key may not use this API.') {
    super('forbidden', message);
  }
}

export class AlreadyExistsError extends DomainError {
  constructor(what: string) {
    super('already_exists', `${what} already exists.`);
  }
}

/** A delete that would leave something pointing at nothing. */
export class InUseError extends DomainError {
  constructor(
    what: string,
    readonly usedBy: string[],
  ) {
    super('in_use', `${what} is still in use by ${usedBy.join(', ')}; change or delete those first.`);
  }
}

/** A reference to an object of the tenant that does not exist. */
export class MissingReferenceError extends DomainError {
  constructor(message: string) {
    super('missing_reference', message);
  }
}

export class EmptyChainError extends DomainError {
  constructor() {
    super('empty_chain', 'A load-balancing policy needs at least one rule.');
  }
}

export class ChainLoopError extends DomainError {
  constructor(message: string) {
    super('chain_loop', message);
  }
}

/** Settings that would make passcodes weaker than the entropy floor, or otherwise unusable. */
export class WeakPasscodeError extends DomainError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('weak_passcode', message, options);
  }
}

export class RunStateError extends DomainError {
  constructor(code: 'run_completed' | 'run_expired' | 'run_has_errors', message: string) {
    super(code, message);
  }
}

/** Another batch of the tenant held the create lock for too long; the batch changed nothing and can be resent. */
export class SyncBusyError extends DomainError {
  constructor() {
    super('sync_busy', 'Other batches of this tenant are being stored; send this batch again shortly.', {
      retryAfterSeconds: 2,
    });
  }
}

export class TenantStateError extends DomainError {
  constructor(message: string) {
    super('tenant_state', message);
  }
}

/** A setting more lenient than the operator's ceiling for the tenant (or outside the countries it allows). */
export class AboveCeilingError extends DomainError {
  constructor(
    message: string,
    readonly fields: string[],
  ) {
    super('above_ceiling', message);
  }
}
