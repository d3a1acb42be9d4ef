/**
 * The user's authenticator app: nothing is sent, and the step succeeds when the user has a confirmed app.
 * Its rules keep a phone target (never the e-mail one), which nothing reads.
 */
import type { BuiltInUnit } from './unit.ts';

export const totp = {
  kind: 'totp',
  title: 'Authenticator app (TOTP)',
  label: 'totp',
  targets: ['primary', 'secondary'],
  reaches: 'app',
  route: 'none',
} as const satisfies BuiltInUnit;
