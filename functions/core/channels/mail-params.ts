/** The parameters of the e-mail provider kinds, for the console's form and for checking a tenant's input. */
import type { ParameterSpec } from './provider-params.ts';

export const SMTP_PROVIDER_PARAMETERS: readonly ParameterSpec[] = [
  { name: 'host', type: 'string', required: true, description: 'The SMTP server, e.g. smtp.example.com.' },
  {
    name: 'port',
    type: 'number',
    required: false,
    default: 587,
    min: 1,
    max: 65535,
    description: 'The SMTP port.',
  },
  {
    name: 'security',
    type: 'enum',
    required: false,
    values: ['starttls', 'tls', 'none'],
    default: 'starttls',
    description:
      'starttls: upgrade a plain connection (port 587); tls: TLS from the start (port 465); none: local relays only.',
  },
  { name: 'username', type: 'string', required: false, description: 'SMTP login.' },
  { name: 'password', type: 'string', required: false, secret: true, description: 'SMTP password.' },
  {
    name: 'from',
    type: 'string',
    required: true,
    description: 'The sender, e.g. "Acme login" <no-reply@acme.example>.',
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

export const SES_PROVIDER_PARAMETERS: readonly ParameterSpec[] = [
  {
    name: 'from',
    type: 'string',
    required: true,
    description: 'The sender; its domain must be verified in the deployment’s SES account.',
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
