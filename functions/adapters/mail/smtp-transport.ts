/** `MailTransport` over SMTP with nodemailer. The transporter (pooled or not) is built by the caller. */
import type { Transporter } from 'nodemailer';
import { type MailMessage, type MailTransport, MailTransportError } from '../../core/channels/email.ts';

interface SmtpError {
  code?: string;
  responseCode?: number;
}

/** Reads nodemailer's error codes and the SMTP reply code into a failure class. */
export function classifySmtpError(error: unknown): MailTransportError {
  const { code, responseCode } = (error ?? {}) as SmtpError;
  const message = responseCode
    ? `The mail server answered ${responseCode}.`
    : `The mail transfer failed (${code ?? 'unknown'}).`;
  const make = (failure: 'temporary' | 'permanent' | 'config', reason: string) =>
    new MailTransportError(failure, reason, message, { cause: error });
  if (code === 'EABORT') return make('temporary', 'mail_timeout');
  if (code === 'EAUTH' || responseCode === 535 || responseCode === 530) return make('config', 'mail_auth');
  if (code === 'ETLS' || code === 'ECONFIG' || code === 'EDNS') return make('config', 'mail_server_config');
  if (responseCode !== undefined && responseCode >= 500) return make('permanent', 'mail_refused');
  if (responseCode !== undefined && responseCode >= 400) return make('temporary', 'mail_deferred');
  if (code === 'EENVELOPE') return make('permanent', 'mail_refused');
  return make('temporary', 'mail_unreachable');
}

export class SmtpMailTransport implements MailTransport {
  constructor(private readonly transporter: Transporter) {}

  async send(message: MailMessage, signal: AbortSignal): Promise<{ messageId?: string }> {
    try {
      const info = await this.transporter.sendMail({
        from: message.from,
        to: message.to,
        subject: message.subject,
        text: message.text,
        // Only what is given here: no addresses picked up from elsewhere, no bcc.
        envelope: { from: addressOf(message.from), to: [message.to] },
        signal,
      });
      return typeof info.messageId === 'string' ? { messageId: info.messageId } : {};
    } catch (error) {
      throw classifySmtpError(error);
    }
  }
}

/** `"Acme" <no-reply@acme.example>` → `no-reply@acme.example`. */
function addressOf(from: string): string {
  return /<([^<>]+)>\s*$/.exec(from)?.[1] ?? from;
}
