/** Request schemas of the operator API's console accounts. Unknown fields are refused. */
import * as z from 'zod';
import { ID_PATTERN } from './topics.ts';

const id = z.string().regex(ID_PATTERN, 'must be 1–64 letters, digits, "_" or "-"');

export const AdminAccountInput = z.strictObject({
  email: z.string().min(3).max(256),
  role: z.enum(['operator', 'tenant_admin', 'auditor']),
  /** Required for tenant admins and auditors; operators belong to no tenant. */
  tenantId: id.optional(),
  secondFactor: z.enum(['totp', 'sms']).default('totp'),
  /** For SMS codes: the user whose phone and rule chain carry them. */
  smsUsername: z.string().min(1).max(256).optional(),
  /** For an operator's SMS codes: the tenant of that user. */
  smsTenantId: id.optional(),
});

export const AdminAccountReset = z.strictObject({
  secondFactor: z.enum(['totp', 'sms']).optional(),
  smsUsername: z.string().min(1).max(256).optional(),
  smsTenantId: id.optional(),
});
