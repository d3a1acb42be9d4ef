/** E-mail to the user's address, through the tenant's SMTP server or the deployment's Amazon SES. */
import { failed, UnusableChannel } from '../channel.ts';
import { EmailChannel } from '../email.ts';
import { EMAIL_PROVIDER_PARAMETERS, emailProviderConfig } from '../mail-params.ts';
import type { ProviderUnit } from './unit.ts';

export const email = {
  kind: 'email',
  title: 'E-mail (SMTP or Amazon SES)',
  label: 'email',
  targets: ['email'],
  reaches: 'email',
  route: 'provider',
  parameters: EMAIL_PROVIDER_PARAMETERS,
  check: (params) => {
    emailProviderConfig(params);
  },
  build: (params, _provider, deps) => {
    const config = emailProviderConfig(params);
    const transport = config.smtp ? deps.smtp?.(config.smtp) : deps.ses;
    if (!transport) return new UnusableChannel('email', failed('config', `${config.transport}_unavailable`));
    return new EmailChannel(transport, {
      from: config.from,
      subject: config.subject,
      timeoutMs: config.timeoutMs,
      ...(deps.log && { log: deps.log }),
    });
  },
} as const satisfies ProviderUnit;
