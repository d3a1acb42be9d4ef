/**
 * Settings resolve tenant → user group policy → user; the most specific value wins. Each resolved value says
 * which level it came from, so an admin can see why a user gets what they get.
 */
import type { Channel, PasscodeOverrides } from '../contracts/admin.ts';
import { WeakPasscodeError } from './admin-errors.ts';
import type { Tenant } from './model.ts';
import { assertPasscodeSettings, PasscodeConfigError, type PasscodeSettings } from './passcode.ts';
import type { GroupPolicy } from './ports/tenant-config.ts';

export type SettingLevel = 'tenant' | 'group' | 'user';
export interface Resolved<T> {
  value: T;
  from: SettingLevel;
}

export interface EffectiveSettings {
  'passcode.length': Resolved<number>;
  'passcode.alphabet': Resolved<NonNullable<PasscodeSettings['alphabet']>>;
  'passcode.validitySeconds': Resolved<number>;
  'passcode.maxAttempts': Resolved<number>;
  'passcode.flash': Resolved<boolean>;
  'passcode.messageTemplate': Resolved<string>;
  /** null: SMS through the tenant's default modem group. */
  loadBalancingPolicyId: Resolved<string | null>;
  defaultModemGroup: Resolved<string>;
  channels: Resolved<Channel[]>;
  'selfService.enabled': Resolved<boolean>;
  'selfService.fields': Resolved<string[]>;
  secondaryPhone: Resolved<boolean>;
}

/** What a tenant without group policies gets: SMS through its default modem group, no self-service. */
export const TENANT_DEFAULTS = {
  flash: false,
  channels: ['sms_modem'] as Channel[],
  selfService: { enabled: false, fields: [] as string[] },
  secondaryPhone: true,
};

export function resolveSettings(
  tenant: Tenant,
  group: GroupPolicy | undefined,
  user: PasscodeOverrides | undefined,
): EffectiveSettings {
  const pick = <T>(tenantValue: T, groupValue: T | undefined, userValue?: T | undefined): Resolved<T> => {
    if (userValue !== undefined) return { value: userValue, from: 'user' };
    if (groupValue !== undefined) return { value: groupValue, from: 'group' };
    return { value: tenantValue, from: 'tenant' };
  };
  const gp = group?.passcode;
  return {
    'passcode.length': pick(tenant.passcode.length, gp?.length, user?.length),
    'passcode.alphabet': pick(tenant.passcode.alphabet ?? 'numeric', gp?.alphabet, user?.alphabet),
    'passcode.validitySeconds': pick(
      tenant.passcode.validitySeconds,
      gp?.validitySeconds,
      user?.validitySeconds,
    ),
    'passcode.maxAttempts': pick(tenant.passcode.maxAttempts, gp?.maxAttempts, user?.maxAttempts),
    'passcode.flash': pick(TENANT_DEFAULTS.flash, gp?.flash, user?.flash),
    'passcode.messageTemplate': pick(tenant.messageTemplate, gp?.messageTemplate, user?.messageTemplate),
    loadBalancingPolicyId: pick<string | null>(null, group?.loadBalancingPolicyId ?? undefined),
    defaultModemGroup: pick(tenant.defaultModemGroup, undefined),
    channels: pick(TENANT_DEFAULTS.channels, group?.channels),
    'selfService.enabled': pick(TENANT_DEFAULTS.selfService.enabled, group?.selfService.enabled),
    'selfService.fields': pick(TENANT_DEFAULTS.selfService.fields, group?.selfService.fields),
    secondaryPhone: pick(TENANT_DEFAULTS.secondaryPhone, group?.secondaryPhone),
  };
}

export function passcodeOf(settings: EffectiveSettings): PasscodeSettings {
  return {
    length: settings['passcode.length'].value,
    alphabet: settings['passcode.alphabet'].value,
    validitySeconds: settings['passcode.validitySeconds'].value,
    maxAttempts: settings['passcode.maxAttempts'].value,
  };
}

/** Refuses passcode settings under the entropy floor, saying which level made them so. */
export function assertStrongPasscode(settings: PasscodeSettings, where: string): void {
  try {
    assertPasscodeSettings(settings);
  } catch (error) {
    if (error instanceof PasscodeConfigError)
      throw new WeakPasscodeError(`${where}: ${error.message}.`, { cause: error });
    throw error;
  }
}
