/** The parameters of the e-mail provider kind, for the console's form and for checking a tenant's input. */
import {
  type ParameterSpec,
  type PlainParams,
  ProviderParamsError,
  validateParams,
} from './provider-params.ts';

export const EMAIL_PROVIDER_PARAMETERS: readonly ParameterSpec[] = [
  {
    name: 'transport',
    type: 'enum',
    required: false,
    values: ['smtp', 'ses'],
    default: 'smtp',
    description: 'smtp: the tenant’s own mail server; ses: the deployment’s Amazon SES account.',
  },
  {
    name: 'host',
    type: 'string',
    required: false,
    description: 'SMTP only: the server, e.g. smtp.example.com.',
  },
  {
    name: 'port',
    type: 'number',
    required: false,
    default: 587,
    min: 1,
    max: 65535,
    description: 'SMTP only: the port.',
  },
  {
    name: 'security',
    type: 'enum',
    required: false,
    values: ['starttls', 'tls', 'none'],
    default: 'starttls',
    description:
      'SMTP only. starttls: upgrade a plain connection (port 587); tls: TLS from the start (port 465); none: local relays only.',
  },
  { name: 'username', type: 'string', required: false, description: 'SMTP only: login.' },
  { name: 'password', type: 'string', required: false, secret: true, description: 'SMTP only: password.' },
  {
    name: 'from',
    type: 'string',
    required: true,
    description:
      'The sender, e.g. "Acme login" <no-reply@acme.example>. With SES its domain must be verified.',
  },
  {
    name: 'subject',
    type: 'string',
    required: false,
    default: 'Your login code',
    description: 'The subject line.',
  },
  {
    name: 'timeoutSeconds',
    type: 'number',
    required: false,
    default: 15,
    min: 1,
    max: 60,
    description: 'Time allowed for one send.',
  },
];

export interface SmtpSettings {
  host: string;
  port: number;
  security: 'starttls' | 'tls' | 'none';
  username?: string;
  password?: string;
}

export interface EmailProviderConfig {
  transport: 'smtp' | 'ses';
  /** Present for `smtp`. */
  smtp?: SmtpSettings;
  from: string;
  subject: string;
  timeoutMs: number;
}

/** Checks an e-mail provider's parameters; SMTP needs a host, and a password only makes sense with a user. */
export function emailProviderConfig(raw: Record<string, unknown>): EmailProviderConfig {
  const p: PlainParams = validateParams(EMAIL_PROVIDER_PARAMETERS, raw);
  const transport = p.transport === 'ses' ? 'ses' : 'smtp';
  if (transport === 'smtp' && typeof p.host !== 'string')
    throw new ProviderParamsError([{ param: 'host', message: 'is required for SMTP' }]);
  if (p.password !== undefined && p.username === undefined)
    throw new ProviderParamsError([{ param: 'username', message: 'is required with a password' }]);
  return {
    transport,
    ...(transport === 'smtp' && {
      smtp: {
        host: String(p.host),
        port: Number(p.port),
        security: p.security as SmtpSettings['security'],
        ...(typeof p.username === 'string' && { username: p.username }),
        ...(typeof p.password === 'string' && { password: p.password }),
      },
    }),
    from: String(p.from),
    subject: String(p.subject),
    timeoutMs: Number(p.timeoutSeconds) * 1000,
  };
}
