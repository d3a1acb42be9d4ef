/** SMS through the tenant's own GSM modems, on its edge agents: the default channel of every tenant. */
import type { BuiltInUnit } from './unit.ts';

export const smsModem = {
  kind: 'sms_modem',
  title: 'SMS through the edge agents’ modems',
  label: 'sms',
  targets: ['primary', 'secondary'],
  reaches: 'phone',
  route: 'modem_group',
} as const satisfies BuiltInUnit;
