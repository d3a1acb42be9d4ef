/**
 * The console's first accounts on the local stack: an operator and the demo tenant's admin, each with a
 * generated password and TOTP seed written to `.local/stack.json` (`console`), as the demo keys are. A second
 * start keeps them while `stack.json` still holds their passwords; otherwise they start afresh.
 * In AWS the first operator comes from `npm run admin -- create-operator` (functions/cli/admin.ts), which writes
 * it with the deployer's credentials and prints a one-time set-up link.
 */
import type { AdminAccountService } from '../core/admin-accounts.ts';
import type { AdminRole } from '../core/ports/admin-accounts.ts';

export interface ConsoleLogin {
  email: string;
  password: string;
  /** Base32, for an authenticator app (or a script computing the current code). */
  totpSecret: string;
}

export interface ConsoleLogins {
  operator: ConsoleLogin;
  tenantAdmin: ConsoleLogin;
}

export const DEMO_OPERATOR = 'operator@smspass.example.test';
export const demoTenantAdmin = (tenantId: string) => `admin@${tenantId}.example.test`;

export async function seedConsoleAccounts(
  accounts: AdminAccountService,
  tenantId: string,
  previous: Partial<ConsoleLogins> | undefined,
): Promise<ConsoleLogins> {
  const one = async (email: string, role: AdminRole, prior: ConsoleLogin | undefined) => {
    if (prior?.email === email && (await accounts.exists(email))) return prior;
    const made = await accounts.create('system', { email, role, tenantId }, { replace: true });
    return { email, password: made.password, totpSecret: made.totp.secret };
  };
  return {
    operator: await one(DEMO_OPERATOR, 'operator', previous?.operator),
    tenantAdmin: await one(demoTenantAdmin(tenantId), 'tenant_admin', previous?.tenantAdmin),
  };
}
