/** The tenant admin's username setting (`/v1/settings/usernames`): read, replace, audited with before and after. */
import type { UsernameForm, UsernamePolicy } from '../contracts/usernames.ts';
import type { Clock } from './clock.ts';
import { NotFoundError } from './errors.ts';
import type { Tenant } from './model.ts';
import type { AuditLog } from './ports/audit.ts';
import type { TenantStore } from './ports/tenants.ts';
import type { StoredUsernamePolicy } from './usernames.ts';

export interface UsernameSettingsDeps {
  tenants: Pick<TenantStore, 'get' | 'update'>;
  audit: AuditLog;
  clock: Clock;
}

/** The setting as the API shows it; a tenant that never set one reads as the sAMAccountName default. */
export function usernameSettingsView(tenant: Pick<Tenant, 'usernames' | 'adDomains'>) {
  const policy = tenant.usernames;
  const format = policy?.format ?? 'sAMAccountName';
  return {
    format,
    accept: policy?.accept ?? [format],
    defaultDomain: policy?.defaultDomain ?? null,
    netbiosDomains: policy?.netbiosDomains ?? {},
    knownDomains: tenant.adDomains ?? {},
    formerFormats: policy?.formerFormats ?? [],
  };
}

export class UsernameSettingsService {
  constructor(private readonly deps: UsernameSettingsDeps) {}

  async get(tenantId: string) {
    const tenant = await this.deps.tenants.get(tenantId);
    if (!tenant) throw new NotFoundError('The tenant');
    return usernameSettingsView(tenant);
  }

  /**
   * Replaces the policy. A new format renames nobody at once: the next sync run stores each user under its new
   * name (carrying the admin's settings over) and `complete` removes what is left under old names. Until then
   * the formats users may still be stored in are kept, so the sync knows which old names to look for.
   */
  async put(tenantId: string, actor: string, policy: UsernamePolicy) {
    const before = await this.deps.tenants.get(tenantId);
    if (!before) throw new NotFoundError('The tenant');
    const oldFormat = before.usernames?.format ?? 'sAMAccountName';
    const former = new Set<UsernameForm>(before.usernames?.formerFormats ?? []);
    if (oldFormat !== policy.format) former.add(oldFormat);
    former.delete(policy.format);
    const stored: StoredUsernamePolicy = {
      ...policy,
      accept: policy.accept ?? [policy.format],
      ...(former.size > 0 && { formerFormats: [...former] }),
    };
    const after = await this.deps.tenants.update(tenantId, { usernames: stored });
    if (!after) throw new NotFoundError('The tenant');
    await this.deps.audit.record({
      tenantId,
      at: new Date(this.deps.clock.now()).toISOString(),
      actor,
      action: 'username_policy.updated',
      target: 'settings:usernames',
      before: usernameSettingsView(before),
      after: usernameSettingsView(after),
    });
    return usernameSettingsView(after);
  }
}
