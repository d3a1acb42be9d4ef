/**
 * The one settings resolver. Every value a login depends on resolves here, tenant → user group policy → user,
 * the most specific level winning, and then held to the operator's ceilings. `effective-settings` shows exactly
 * what this returns, and the challenge path runs on exactly what this returns: nothing reads `tenant.*`
 * settings anywhere else. Each value says where it came from, so an admin can see why a user gets what they get.
 */
import type {
  Channel,
  PasscodeOverrides,
  Rule,
  SelfServiceField,
  TenantCeilings,
} from '../contracts/admin.ts';
import { DEFAULT_LIMITS, DEFAULT_LOCKOUT, MAX_LOCK_SECONDS, NIST_MAX_FAILURES } from './abuse-policy.ts';
import { AboveCeilingError, WeakPasscodeError } from './admin-errors.ts';
import type { Tenant } from './model.ts';
import { assertPasscodeSettings, PasscodeConfigError, type PasscodeSettings } from './passcode.ts';
import type { GroupPolicy } from './ports/tenant-config.ts';

/** `default`: the product's; `operator`: held to the operator's ceiling; then the levels an admin sets. */
export type SettingLevel = 'default' | 'operator' | 'tenant' | 'group' | 'user';
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
  /** The host of the origin-bound code line; null: no such line. */
  'passcode.webOtpOrigin': Resolved<string | null>;
  /** null: SMS through the tenant's default modem group. */
  loadBalancingPolicyId: Resolved<string | null>;
  defaultModemGroup: Resolved<string>;
  /** The channels the user's chain may use; rules of any other channel are skipped. */
  channels: Resolved<Channel[]>;
  /** Whether rules that target the secondary number run. */
  secondaryPhone: Resolved<boolean>;
  /** Whether the self-service portal signs the user in, and what it lets them change. */
  selfService: Resolved<{ enabled: boolean; fields: SelfServiceField[] }>;
  'security.allowPersonalPasscode': Resolved<boolean>;
  'security.bindClientIp': Resolved<boolean>;
  'security.allowedCountries': Resolved<string[]>;
  /** Whether the user types their PIN before the passcode at login (`PIN + passcode` in the one field). */
  'pin.required': Resolved<boolean>;
  /** The shortest PIN the user may set. */
  'pin.minLength': Resolved<number>;
  'lockout.maxFailures': Resolved<number>;
  'lockout.lockSeconds': Resolved<number>;
  'limits.windowSeconds': Resolved<number>;
  'limits.perUser': Resolved<number>;
  'limits.perDestination': Resolved<number>;
  'limits.perClientIp': Resolved<number>;
  'limits.perTenant': Resolved<number>;
  /** The RADIUS Access-Accept's Class and Filter-Id (the gateway's policy); null: none sent. */
  'radius.class': Resolved<string | null>;
  'radius.filterId': Resolved<string | null>;
}

export type SettingName = keyof EffectiveSettings;

/** What a tenant without group policies gets: SMS through its default modem group. */
export const TENANT_DEFAULTS = {
  flash: false,
  channels: ['sms_modem'] as Channel[],
  secondaryPhone: true,
  selfService: { enabled: false, fields: [] as SelfServiceField[] },
};

/** Four digits, as bank cards: the PIN only adds to a passcode that already went to the user's phone. */
export const DEFAULT_PIN_MIN_LENGTH = 4;

const pick = <T>(tenantValue: T | undefined, fallback: T, groupValue?: T, userValue?: T): Resolved<T> => {
  if (userValue !== undefined) return { value: userValue, from: 'user' };
  if (groupValue !== undefined) return { value: groupValue, from: 'group' };
  if (tenantValue !== undefined) return { value: tenantValue, from: 'tenant' };
  return { value: fallback, from: 'default' };
};

/** Only numbers count: a null or NaN in a hand-edited item is a gap, never a zero. */
const num = (v: unknown): number | undefined => (typeof v === 'number' && !Number.isNaN(v) ? v : undefined);
/** Only a real boolean switches a defence: `"true"` or `1` in a hand-edited item is a gap. */
const bool = (v: unknown): boolean | undefined => (typeof v === 'boolean' ? v : undefined);

/** A value may be at most `ceiling` (counts, attempts, validity): a higher one is held to it. */
const atMost = (r: Resolved<number>, ceiling: number | undefined): Resolved<number> =>
  ceiling !== undefined && r.value > ceiling ? { value: ceiling, from: 'operator' } : r;
/** A value must be at least `floor` (length, lock time, window): a lower one is held to it. */
const atLeast = (r: Resolved<number>, floor: number | undefined): Resolved<number> =>
  floor !== undefined && r.value < floor ? { value: floor, from: 'operator' } : r;

export function resolveSettings(
  tenant: Tenant,
  group: GroupPolicy | undefined,
  user: PasscodeOverrides | undefined,
): EffectiveSettings {
  const gp = group?.passcode;
  const ceil: TenantCeilings = tenant.ceilings ?? {};
  const sec = tenant.security ?? {};
  const limit = (name: keyof typeof DEFAULT_LIMITS) => pick(num(sec.limits?.[name]), DEFAULT_LIMITS[name]);
  const operatorCountries = tenant.allowedCountries;
  const chosen = (Array.isArray(sec.allowedCountries) ? sec.allowedCountries : undefined)?.filter((c) =>
    operatorCountries.includes(c),
  );
  const personal = pick(bool(sec.allowPersonalPasscode), false);
  const pinRequired = pick(bool(sec.pin?.required), false, bool(group?.pin?.required));
  return {
    'passcode.length': atLeast(
      pick(tenant.passcode.length, tenant.passcode.length, gp?.length, user?.length),
      ceil.passcode?.minLength,
    ),
    'passcode.alphabet': pick(tenant.passcode.alphabet, 'numeric', gp?.alphabet, user?.alphabet),
    'passcode.validitySeconds': atMost(
      pick(
        tenant.passcode.validitySeconds,
        tenant.passcode.validitySeconds,
        gp?.validitySeconds,
        user?.validitySeconds,
      ),
      ceil.passcode?.maxValiditySeconds,
    ),
    'passcode.maxAttempts': atMost(
      pick(tenant.passcode.maxAttempts, tenant.passcode.maxAttempts, gp?.maxAttempts, user?.maxAttempts),
      ceil.passcode?.maxAttempts,
    ),
    'passcode.flash': pick(undefined, TENANT_DEFAULTS.flash, gp?.flash, user?.flash),
    'passcode.messageTemplate': pick(
      tenant.messageTemplate,
      tenant.messageTemplate,
      gp?.messageTemplate,
      user?.messageTemplate,
    ),
    'passcode.webOtpOrigin': pick<string | null>(tenant.webOtpOrigin ?? undefined, null, group?.webOtpOrigin),
    loadBalancingPolicyId: pick<string | null>(undefined, null, group?.loadBalancingPolicyId ?? undefined),
    defaultModemGroup: pick(tenant.defaultModemGroup, tenant.defaultModemGroup),
    channels: pick(undefined, TENANT_DEFAULTS.channels, group?.channels),
    secondaryPhone: pick(undefined, TENANT_DEFAULTS.secondaryPhone, group?.secondaryPhone),
    selfService: pick(undefined, TENANT_DEFAULTS.selfService, group?.selfService),
    'security.allowPersonalPasscode':
      personal.value && ceil.allowPersonalPasscode === false ? { value: false, from: 'operator' } : personal,
    'security.bindClientIp': pick(bool(sec.bindClientIp), false),
    'security.allowedCountries':
      chosen && chosen.length > 0
        ? { value: chosen, from: 'tenant' }
        : { value: operatorCountries, from: 'operator' },
    'pin.required':
      !pinRequired.value && ceil.pin?.required === true ? { value: true, from: 'operator' } : pinRequired,
    'pin.minLength': atLeast(
      pick(num(sec.pin?.minLength), DEFAULT_PIN_MIN_LENGTH, num(group?.pin?.minLength)),
      ceil.pin?.minLength,
    ),
    'lockout.maxFailures': atMost(
      atMost(pick(num(sec.lockout?.maxFailures), DEFAULT_LOCKOUT.maxFailures), NIST_MAX_FAILURES),
      ceil.lockout?.maxFailures,
    ),
    'lockout.lockSeconds': atMost(
      atLeast(pick(num(sec.lockout?.lockSeconds), DEFAULT_LOCKOUT.lockSeconds), ceil.lockout?.minLockSeconds),
      MAX_LOCK_SECONDS,
    ),
    'limits.windowSeconds': atLeast(limit('windowSeconds'), ceil.limits?.minWindowSeconds),
    'limits.perUser': atMost(limit('perUser'), ceil.limits?.perUser),
    'limits.perDestination': atMost(limit('perDestination'), ceil.limits?.perDestination),
    'limits.perClientIp': atMost(limit('perClientIp'), ceil.limits?.perClientIp),
    'limits.perTenant': atMost(limit('perTenant'), ceil.limits?.perTenant),
    'radius.class': pick<string | null>(undefined, null, group?.radius?.class),
    'radius.filterId': pick<string | null>(undefined, null, group?.radius?.filterId),
  };
}

/** The RADIUS reply attributes a login's accept carries, if its settings name any. */
export function radiusOf(settings: EffectiveSettings): { class?: string; filterId?: string } | undefined {
  const cls = settings['radius.class'].value;
  const filterId = settings['radius.filterId'].value;
  if (cls === null && filterId === null) return undefined;
  return { ...(cls !== null && { class: cls }), ...(filterId !== null && { filterId }) };
}

/** The settings of a login's passcode. */
export function passcodeOf(settings: EffectiveSettings): PasscodeSettings {
  return {
    length: settings['passcode.length'].value,
    alphabet: settings['passcode.alphabet'].value,
    validitySeconds: settings['passcode.validitySeconds'].value,
    maxAttempts: settings['passcode.maxAttempts'].value,
  };
}

/** The abuse defences of a login, as the challenge defences apply them. */
export function securityOf(settings: EffectiveSettings) {
  return {
    limits: {
      windowSeconds: settings['limits.windowSeconds'].value,
      perUser: settings['limits.perUser'].value,
      perDestination: settings['limits.perDestination'].value,
      perClientIp: settings['limits.perClientIp'].value,
      perTenant: settings['limits.perTenant'].value,
    },
    lockout: {
      maxFailures: Math.max(1, settings['lockout.maxFailures'].value),
      lockSeconds: Math.max(1, settings['lockout.lockSeconds'].value),
    },
    allowPersonalPasscode: settings['security.allowPersonalPasscode'].value,
    bindClientIp: settings['security.bindClientIp'].value,
    allowedCountries: settings['security.allowedCountries'].value,
    pinRequired: settings['pin.required'].value,
  };
}
export type ResolvedSecurity = ReturnType<typeof securityOf>;

/**
 * The rules of a chain that the user's settings let run: only the allowed channels, and the secondary number
 * only where the policy allows it. An empty result means no rule may reach the user.
 */
export function allowedRules(rules: readonly Rule[], settings: EffectiveSettings): Rule[] {
  const channels = new Set<string>(settings.channels.value);
  const secondary = settings.secondaryPhone.value;
  return rules.filter((r) => channels.has(r.channel) && (secondary || r.target !== 'secondary'));
}

/** Refuses PIN settings (of the tenant or a group policy) more lenient than the operator allows. */
export function assertPinWithinCeilings(
  pin: { required?: boolean | undefined; minLength?: number | undefined } | undefined,
  ceilings: TenantCeilings | undefined,
  where: string,
): void {
  const c = ceilings?.pin;
  const over: string[] = [];
  if (pin?.required === false && c?.required === true)
    over.push('pin.required: the operator requires a PIN for this tenant');
  if (pin?.minLength !== undefined && c?.minLength !== undefined && pin.minLength < c.minLength)
    over.push(`pin.minLength ${pin.minLength} is under the operator's minimum of ${c.minLength}`);
  if (over.length > 0) throw new AboveCeilingError(`${where}: ${over.join('; ')}.`, over);
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

/**
 * Refuses passcode values (of the tenant, a group policy or a user) more lenient than the operator allows:
 * stored, they would only be held to the ceiling, and the admin would see a setting that does not apply.
 */
export function assertPasscodeWithinCeilings(
  values: { [K in keyof PasscodeSettings]?: PasscodeSettings[K] | undefined },
  ceilings: TenantCeilings | undefined,
  where: string,
): void {
  const c = ceilings?.passcode;
  const over: string[] = [];
  if (c?.minLength !== undefined && values.length !== undefined && values.length < c.minLength)
    over.push(`length ${values.length} is under the operator's minimum of ${c.minLength}`);
  if (
    c?.maxValiditySeconds !== undefined &&
    values.validitySeconds !== undefined &&
    values.validitySeconds > c.maxValiditySeconds
  )
    over.push(
      `validitySeconds ${values.validitySeconds} is over the operator's maximum of ${c.maxValiditySeconds}`,
    );
  if (c?.maxAttempts !== undefined && values.maxAttempts !== undefined && values.maxAttempts > c.maxAttempts)
    over.push(`maxAttempts ${values.maxAttempts} is over the operator's maximum of ${c.maxAttempts}`);
  if (over.length > 0) throw new AboveCeilingError(`${where}: ${over.join('; ')}.`, over);
}
