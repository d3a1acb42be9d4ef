/**
 * A tenant's own settings, as its admin sets them (`/v1/settings`): the default passcode and message, the
 * login page host for origin-bound codes, and the abuse defences (personal passcodes, IP binding, lockout, rate
 * limits, allowed countries). Each value must lie within the ceilings the operator set for the tenant; what the
 * tenant did not set shows the product default. Every change is audited with the settings before and after.
 */
import type { TenantCeilings, TenantSettingsUpdate } from '../contracts/admin.ts';
import type { TenantSecurity } from './abuse-policy.ts';
import { AboveCeilingError } from './admin-errors.ts';
import type { Clock } from './clock.ts';
import { NotFoundError } from './errors.ts';
import type { Tenant } from './model.ts';
import type { AuditLog } from './ports/audit.ts';
import type { ConfigStore } from './ports/tenant-config.ts';
import type { TenantStore } from './ports/tenants.ts';
import {
  assertPasscodeWithinCeilings,
  assertStrongPasscode,
  passcodeOf,
  resolveSettings,
} from './settings.ts';

export interface TenantSettingsDeps {
  tenants: TenantStore;
  config: Pick<ConfigStore, 'list'>;
  audit: AuditLog;
  clock: Clock;
}

/** The tenant's settings as resolved (with where each comes from) and the operator's bounds on them. */
export function tenantSettingsView(tenant: Tenant) {
  return {
    settings: resolveSettings(tenant, undefined, undefined),
    ceilings: tenant.ceilings ?? {},
    /** The countries the operator allows; `security.allowedCountries` may name only these. */
    operatorAllowedCountries: tenant.allowedCountries,
  };
}

/** Refuses abuse defences more lenient than the operator's ceilings allow, naming each. */
export function assertSecurityWithinCeilings(
  security: NonNullable<TenantSettingsUpdate['security']>,
  ceilings: TenantCeilings | undefined,
  operatorCountries: readonly string[],
): void {
  const over: string[] = [];
  const c = ceilings ?? {};
  const more = (field: string, value: number | undefined, max: number | undefined) => {
    if (value !== undefined && max !== undefined && value > max)
      over.push(`${field} ${value} is over the operator's maximum of ${max}`);
  };
  const less = (field: string, value: number | undefined, min: number | undefined) => {
    if (value !== undefined && min !== undefined && value < min)
      over.push(`${field} ${value} is under the operator's minimum of ${min}`);
  };
  more('lockout.maxFailures', security.lockout?.maxFailures, c.lockout?.maxFailures);
  less('lockout.lockSeconds', security.lockout?.lockSeconds, c.lockout?.minLockSeconds);
  less('limits.windowSeconds', security.limits?.windowSeconds, c.limits?.minWindowSeconds);
  more('limits.perUser', security.limits?.perUser, c.limits?.perUser);
  more('limits.perDestination', security.limits?.perDestination, c.limits?.perDestination);
  more('limits.perClientIp', security.limits?.perClientIp, c.limits?.perClientIp);
  more('limits.perTenant', security.limits?.perTenant, c.limits?.perTenant);
  if (security.pin?.required === false && c.pin?.required === true)
    over.push('pin.required: the operator requires a PIN for this tenant');
  less('pin.minLength', security.pin?.minLength, c.pin?.minLength);
  if (security.allowPersonalPasscode === true && c.allowPersonalPasscode === false)
    over.push('allowPersonalPasscode: the operator does not allow personal passcodes for this tenant');
  const outside = (security.allowedCountries ?? []).filter((country) => !operatorCountries.includes(country));
  if (outside.length > 0)
    over.push(
      `allowedCountries: ${outside.join(', ')} ${outside.length === 1 ? 'is' : 'are'} not among the operator's (${operatorCountries.join(', ')})`,
    );
  if (over.length > 0)
    throw new AboveCeilingError(`The settings go beyond the operator's ceilings: ${over.join('; ')}.`, over);
}

/** The fields that hold a value: an absent field in a patch leaves the stored one as it is. */
function defined<T extends object>(value: T | undefined): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value ?? {}).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]?: Exclude<T[K], undefined>;
  };
}

/** The stored security with the patch merged in: nested objects merge, the rest replaces. */
function mergeSecurity(
  stored: TenantSecurity | undefined,
  patch: NonNullable<TenantSettingsUpdate['security']>,
): TenantSecurity {
  const base = stored ?? {};
  const { lockout, limits, pin, ...flat } = patch;
  return {
    ...base,
    ...defined(flat),
    ...(lockout && { lockout: { ...base.lockout, ...defined(lockout) } }),
    ...(limits && { limits: { ...base.limits, ...defined(limits) } }),
    ...(pin && { pin: { ...base.pin, ...defined(pin) } }),
  };
}

export class TenantSettingsService {
  constructor(private readonly deps: TenantSettingsDeps) {}

  async view(tenantId: string) {
    return tenantSettingsView(await this.tenant(tenantId));
  }

  async update(tenantId: string, actor: string, patch: TenantSettingsUpdate) {
    const before = await this.tenant(tenantId);
    const passcode = { ...before.passcode, ...defined(patch.passcode) };
    if (patch.passcode) {
      assertPasscodeWithinCeilings(patch.passcode, before.ceilings, 'The default passcode');
      assertStrongPasscode(passcode, 'The default passcode');
      // Group policies override single fields; the new defaults must not make any combination weak.
      const candidate = { ...before, passcode };
      for (const group of await this.deps.config.list(tenantId, 'group'))
        assertStrongPasscode(
          passcodeOf(resolveSettings(candidate, group, undefined)),
          `With these defaults, user group policy "${group.name}" gives a passcode that`,
        );
    }
    if (patch.security)
      assertSecurityWithinCeilings(patch.security, before.ceilings, before.allowedCountries);
    const after = await this.deps.tenants.update(tenantId, {
      ...(patch.passcode && { passcode }),
      ...(patch.messageTemplate !== undefined && { messageTemplate: patch.messageTemplate }),
      ...(patch.webOtpOrigin !== undefined && { webOtpOrigin: patch.webOtpOrigin }),
      ...(patch.security && { security: mergeSecurity(before.security, patch.security) }),
      updatedAt: this.now(),
    });
    if (!after) throw new NotFoundError('The tenant');
    const shown = tenantSettingsView(after);
    await this.deps.audit.record({
      tenantId,
      at: this.now(),
      actor,
      action: 'tenant.settings.updated',
      target: `tenant:${tenantId}`,
      before: tenantSettingsView(before),
      after: shown,
    });
    return shown;
  }

  private async tenant(tenantId: string) {
    const tenant = await this.deps.tenants.get(tenantId);
    if (!tenant || tenant.status === 'deleted') throw new NotFoundError('The tenant');
    return tenant;
  }

  private now() {
    return new Date(this.deps.clock.now()).toISOString();
  }
}
