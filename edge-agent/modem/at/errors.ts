/**
 * Errors of the modem layer. Every failure that reaches the pool is a `ModemError` whose `kind` says what to
 * do about it: `temporary` (retry, maybe elsewhere), `permanent` (this number cannot get it: fail the job),
 * `modem` (this modem is broken: take it out and try another).
 */

export type ModemErrorKind = 'temporary' | 'permanent' | 'modem';

export interface ModemErrorOptions {
  cause?: unknown;
}

export abstract class ModemError extends Error {
  abstract readonly kind: ModemErrorKind;
  /** A stable, short identifier such as `cms_38`, `cme_11`, `timeout`, `disconnected`. */
  readonly code: string;
  /**
   * Set when the failure came after the modem had the message (or some of its parts): the SMS may well be on
   * its way, so sending it again elsewhere risks a duplicate.
   */
  maybeSent = false;

  constructor(message: string, code: string, options?: ModemErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
  }
}

/** `+CMS ERROR: <n>` (3GPP TS 27.005 §3.2.5), classified by `classifyCms`. */
export class CmsError extends ModemError {
  readonly kind: ModemErrorKind;
  constructor(
    readonly cms: number,
    kind: ModemErrorKind,
    description: string,
    readonly command: string,
  ) {
    super(`${command}: +CMS ERROR: ${cms} (${description})`, `cms_${cms}`);
    this.kind = kind;
  }
}

/** `+CME ERROR: <n>` (3GPP TS 27.007 §9.2), classified by `classifyCme`. */
export class CmeError extends ModemError {
  readonly kind: ModemErrorKind;
  constructor(
    readonly cme: number,
    kind: ModemErrorKind,
    description: string,
    readonly command: string,
  ) {
    super(`${command}: +CME ERROR: ${cme} (${description})`, `cme_${cme}`);
    this.kind = kind;
  }
}

/** A bare `ERROR` final result. */
export class AtCommandError extends ModemError {
  readonly kind: ModemErrorKind;
  constructor(
    readonly command: string,
    kind: ModemErrorKind = 'modem',
  ) {
    super(`${command}: ERROR`, 'error');
    this.kind = kind;
  }
}

/** The modem did not finish a command in time; it is presumed hung. */
export class AtTimeoutError extends ModemError {
  readonly kind = 'modem' as const;
  constructor(
    readonly command: string,
    readonly timeoutMs: number,
  ) {
    super(`${command}: no final result within ${timeoutMs} ms`, 'timeout');
  }
}

/** The modem left a command unanswered and then did not answer a plain `AT` either: it is hung. */
export class ModemHungError extends ModemError {
  readonly kind = 'modem' as const;
  constructor(
    readonly command: string,
    readonly probeMs: number,
  ) {
    super(`${command}: overdue, and no answer to AT within ${probeMs} ms`, 'hung');
  }
}

/** The byte stream to the modem closed or could not be opened. */
export class ModemDisconnectedError extends ModemError {
  readonly kind = 'modem' as const;
  constructor(message: string, options?: ModemErrorOptions) {
    super(message, 'disconnected', options);
  }
}

/** The modem answered something this driver cannot make sense of. */
export class ModemReplyError extends ModemError {
  readonly kind = 'modem' as const;
  constructor(message: string, options?: ModemErrorOptions) {
    super(message, 'bad_reply', options);
  }
}

/** The SIM wants a PIN or PUK that the configuration does not provide, or refused the one it does. */
export class SimLockedError extends ModemError {
  readonly kind = 'modem' as const;
  constructor(readonly state: string) {
    super(`SIM is locked (${state})`, 'sim_locked');
  }
}

/** The modem is not registered on a network (searching, denied, or not registered). */
export class NotRegisteredError extends ModemError {
  readonly kind = 'modem' as const;
  constructor(readonly registration: string) {
    super(`modem is not registered on a network (${registration})`, 'not_registered');
  }
}

/** The configuration forces PDU mode and the modem refuses `AT+CMGF=0`: it cannot be used as configured. */
export class PduModeRefusedError extends ModemError {
  readonly kind = 'modem' as const;
  constructor(options?: ModemErrorOptions) {
    super('modem refused PDU mode (AT+CMGF=0) and the configured mode is "pdu"', 'pdu_mode_refused', options);
  }
}

/** A send was aborted by its caller before the modem took it. */
export class SendAbortedError extends ModemError {
  readonly kind = 'temporary' as const;
  constructor(options?: ModemErrorOptions) {
    super('send aborted', 'aborted', options);
  }
}

/** The driver or pool is closing and takes no new work. */
export class ModemClosedError extends ModemError {
  readonly kind = 'temporary' as const;
  constructor() {
    super('modem driver is closed', 'closed');
  }
}

/** The message itself cannot be encoded: a bad number or too much text. Never a modem's fault. */
export class PduEncodeError extends Error {
  constructor(
    message: string,
    readonly code: 'invalid_number' | 'invalid_smsc' | 'too_long' | 'invalid_option',
  ) {
    super(message);
    this.name = 'PduEncodeError';
  }
}

/** A PDU read from the wire is malformed. */
export class PduDecodeError extends Error {
  constructor(message: string, options?: ModemErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PduDecodeError';
  }
}
