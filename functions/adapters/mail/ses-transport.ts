/** `MailTransport` over Amazon SES (v2 `SendEmail`). The client comes from the caller. */
import { type SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { type MailMessage, type MailTransport, MailTransportError } from '../../core/channels/email.ts';

const CONFIG = new Set([
  'MailFromDomainNotVerifiedException',
  'AccountSuspendedException',
  'SendingPausedException',
  'NotFoundException',
  'AccessDeniedException',
  'UnrecognizedClientException',
]);
const PERMANENT = new Set(['MessageRejected', 'BadRequestException']);

export function classifySesError(error: unknown): MailTransportError {
  const name = error instanceof Error ? error.name : 'unknown';
  const make = (failure: 'temporary' | 'permanent' | 'config', reason: string) =>
    new MailTransportError(failure, reason, `SES refused the message (${name}).`, { cause: error });
  if (name === 'AbortError') return make('temporary', 'mail_timeout');
  if (CONFIG.has(name)) return make('config', 'mail_server_config');
  if (PERMANENT.has(name)) return make('permanent', 'mail_refused');
  return make('temporary', 'mail_unreachable');
}

export class SesMailTransport implements MailTransport {
  constructor(
    private readonly client: SESv2Client,
    private readonly options: { configurationSetName?: string } = {},
  ) {}

  async send(message: MailMessage, signal: AbortSignal): Promise<{ messageId?: string }> {
    try {
      const out = await this.client.send(
        new SendEmailCommand({
          FromEmailAddress: message.from,
          Destination: { ToAddresses: [message.to] },
          Content: {
            Simple: {
              Subject: { Data: message.subject, Charset: 'UTF-8' },
              Body: { Text: { Data: message.text, Charset: 'UTF-8' } },
            },
          },
          ...(this.options.configurationSetName && {
            ConfigurationSetName: this.options.configurationSetName,
          }),
        }),
        { abortSignal: signal },
      );
      return out.MessageId ? { messageId: out.MessageId } : {};
    } catch (error) {
      throw classifySesError(error);
    }
  }
}
