/**
 * E-mail delivery over a mail transport port: SMTP through nodemailer locally and on-prem, SES in AWS
 * (`adapters/mail/`). Transports report a failure class; the channel turns it into an outcome.
 */
import type { Logger } from '../ports/log.ts';
import {
  type Channel,
  type ChannelKind,
  type ChannelOutcome,
  type DeliveryRequest,
  type FailureClass,
  failed,
} from './channel.ts';

export interface MailMessage {
  from: string;
  to: string;
  subject: string;
  text: string;
}

export class MailTransportError extends Error {
  constructor(
    readonly failure: FailureClass,
    /** A stable snake_case reason, as in `ChannelOutcome`. */
    readonly reason: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'MailTransportError';
  }
}

export interface MailTransport {
  /** Resolves with the transport's message id; throws `MailTransportError` (anything else counts as temporary). */
  send(message: MailMessage, signal: AbortSignal): Promise<{ messageId?: string }>;
}

export interface EmailChannelOptions {
  /** The sender, e.g. `"Acme login" <no-reply@acme.example>`. */
  from: string;
  /** Used when the request brings no subject. */
  subject?: string;
  /** A strict limit on one send (default 15 s). */
  timeoutMs?: number;
  log?: Logger;
}

/** Deliberately simple: one `@`, no spaces or angle brackets; the mail server has the last word. */
const ADDRESS = /^[^\s@<>(),;:"\\]+@[^\s@<>(),;:"\\]+\.[^\s@<>(),;:"\\]+$/;

export class EmailChannel implements Channel {
  readonly kind: ChannelKind = 'email';

  constructor(
    private readonly transport: MailTransport,
    private readonly options: EmailChannelOptions,
  ) {}

  async deliver(request: DeliveryRequest, signal?: AbortSignal): Promise<ChannelOutcome> {
    if (!ADDRESS.test(request.to) || request.to.length > 254)
      return failed('permanent', 'invalid_address', 'The e-mail address is not valid.');
    const timeout = AbortSignal.timeout(this.options.timeoutMs ?? 15_000);
    const callSignal = signal ? AbortSignal.any([signal, timeout]) : timeout;
    // A subject is one header line: a line break in it would start another header.
    const subject = (request.subject ?? this.options.subject ?? 'Your login code')
      .replace(/[\r\n]+/g, ' ')
      .trim();
    const ctx = {
      tenantId: request.tenantId,
      challengeId: request.challengeId,
      step: request.step,
      channel: this.kind,
    };
    try {
      const { messageId } = await this.transport.send(
        { from: this.options.from, to: request.to, subject, text: request.text },
        callSignal,
      );
      this.options.log?.info('e-mail handed to the mail server', ctx);
      return messageId ? { status: 'sent', providerMessageId: messageId } : { status: 'sent' };
    } catch (error) {
      const outcome =
        error instanceof MailTransportError
          ? failed(error.failure, error.reason, error.message)
          : callSignal.aborted
            ? failed('temporary', 'mail_timeout', 'The mail server did not answer in time.')
            : failed('temporary', 'mail_error', error instanceof Error ? error.name : 'unknown error');
      this.options.log?.warn('e-mail not sent', { ...ctx, ...outcome });
      return outcome;
    }
  }
}
