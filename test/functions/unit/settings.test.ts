/**
 * Settings resolution without HTTP: tenant → group policy → user, the most specific defined value wins, and
 * each value says which level it came from (what an admin sees when asking why a user gets what they get).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type PasscodeOverrides, SELF_SERVICE_FIELDS } from '../../../functions/contracts/admin.ts';
import { CHANNEL_KINDS } from '../../../functions/contracts/channels.ts';
import { WeakPasscodeError } from '../../../functions/core/admin-errors.ts';
import type { Tenant } from '../../../functions/core/model.ts';
import { entropyBits, MIN_ENTROPY_BITS, type PasscodeAlphabet } from '../../../functions/core/passcode.ts';
import type { GroupPolicy } from '../../../functions/core/ports/tenant-config.ts';
import {
  assertStrongPasscode,
  type EffectiveSettings,
  passcodeOf,
  resolveSettings,
  type SettingLevel,
  TENANT_DEFAULTS,
} from '../../../functions/core/settings.ts';

const arbAlphabet = fc.constantFrom<PasscodeAlphabet>('numeric', 'alphanumeric', 'memo');
const arbLength = fc.integer({ min: 4, max: 12 });
const arbValidity = fc.integer({ min: 30, max: 3600 });
const arbAttempts = fc.integer({ min: 1, max: 10 });
const arbTemplate = fc.string({ minLength: 0, maxLength: 20 }).map((s) => `${s} {code}`);

const arbTenant: fc.Arbitrary<Tenant> = fc.record({
  id: fc.constant('t1'),
  name: fc.constant('Tenant'),
  status: fc.constant('active' as const),
  defaultCountry: fc.constant('DK'),
  allowedCountries: fc.constant(['DK']),
  userLimit: fc.integer({ min: 1, max: 1000 }),
  passcode: fc.record(
    { length: arbLength, validitySeconds: arbValidity, maxAttempts: arbAttempts, alphabet: arbAlphabet },
    // Tenants stored before alphabets existed have none: they read as numeric.
    { requiredKeys: ['length', 'validitySeconds', 'maxAttempts'] },
  ),
  messageTemplate: arbTemplate,
  defaultModemGroup: fc.constantFrom('default', 'dk-modems'),
});

/** Absent keys and keys holding `undefined` must both mean "inherit". */
const arbOverrides: fc.Arbitrary<PasscodeOverrides> = fc.record(
  {
    length: fc.option(arbLength, { nil: undefined }),
    validitySeconds: fc.option(arbValidity, { nil: undefined }),
    maxAttempts: fc.option(arbAttempts, { nil: undefined }),
    alphabet: fc.option(arbAlphabet, { nil: undefined }),
    flash: fc.option(fc.boolean(), { nil: undefined }),
    messageTemplate: fc.option(arbTemplate, { nil: undefined }),
  },
  { requiredKeys: [] },
);

const arbGroup: fc.Arbitrary<GroupPolicy> = fc
  .record(
    {
      id: fc.constant('g1'),
      name: fc.constant('Group'),
      createdAt: fc.constant('2026-01-01T00:00:00.000Z'),
      updatedAt: fc.constant('2026-01-01T00:00:00.000Z'),
      loadBalancingPolicyId: fc.option(fc.constantFrom('lb-a', 'lb-b'), { nil: null }),
      channels: fc.uniqueArray(fc.constantFrom(...CHANNEL_KINDS), { minLength: 1 }),
      passcode: arbOverrides,
      selfService: fc.record({
        enabled: fc.boolean(),
        fields: fc.uniqueArray(fc.constantFrom(...SELF_SERVICE_FIELDS)),
      }),
      secondaryPhone: fc.boolean(),
    },
    { requiredKeys: ['id', 'name', 'createdAt', 'updatedAt', 'loadBalancingPolicyId', 'channels'] },
  )
  .map((g) => ({
    ...g,
    selfService: g.selfService ?? {
      enabled: true,
      fields: ['mobile'] as GroupPolicy['selfService']['fields'],
    },
    secondaryPhone: g.secondaryPhone ?? false,
  }));

const arbUser = fc.option(arbOverrides, { nil: undefined });

type PasscodeKey = 'length' | 'alphabet' | 'validitySeconds' | 'maxAttempts' | 'flash' | 'messageTemplate';
const PASSCODE_KEYS: PasscodeKey[] = [
  'length',
  'alphabet',
  'validitySeconds',
  'maxAttempts',
  'flash',
  'messageTemplate',
];

/** What each level says about one passcode setting, from the least to the most specific. */
function levelsOf(
  tenant: Tenant,
  group: GroupPolicy | undefined,
  user: PasscodeOverrides | undefined,
  key: PasscodeKey,
) {
  const defaultValue = key === 'flash' ? TENANT_DEFAULTS.flash : key === 'alphabet' ? 'numeric' : undefined;
  const tenantValue =
    key === 'flash' ? undefined : key === 'messageTemplate' ? tenant.messageTemplate : tenant.passcode[key];
  return [
    ['default', defaultValue],
    ['tenant', tenantValue],
    ['group', group?.passcode?.[key]],
    ['user', user?.[key]],
  ] as [SettingLevel, unknown][];
}

function catching(run: () => void): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  return undefined;
}

const valuesOf = (settings: EffectiveSettings) =>
  Object.fromEntries(Object.entries(settings).map(([k, r]) => [k, r.value]));

describe('resolveSettings', () => {
  it('takes every passcode setting from the most specific level that defines it, and says which', () => {
    fc.assert(
      fc.property(arbTenant, fc.option(arbGroup, { nil: undefined }), arbUser, (tenant, group, user) => {
        const settings = resolveSettings(tenant, group, user);
        for (const key of PASSCODE_KEYS) {
          const levels = levelsOf(tenant, group, user, key);
          const [level, value] = levels.filter(([, v]) => v !== undefined).at(-1)!;
          expect(settings[`passcode.${key}`]).toEqual({ value, from: level });
        }
      }),
      { numRuns: 500 },
    );
  });

  it('reports as source a level whose value is the one used, with nothing more specific defined', () => {
    fc.assert(
      fc.property(arbTenant, fc.option(arbGroup, { nil: undefined }), arbUser, (tenant, group, user) => {
        const settings = resolveSettings(tenant, group, user);
        for (const key of PASSCODE_KEYS) {
          const levels = levelsOf(tenant, group, user, key);
          const { value, from } = settings[`passcode.${key}`];
          const at = levels.findIndex(([level]) => level === from);
          expect(levels[at]![1]).toEqual(value);
          for (const [, moreSpecific] of levels.slice(at + 1)) expect(moreSpecific).toBeUndefined();
        }
      }),
      { numRuns: 300 },
    );
  });

  it('treats an empty override, or one of only undefined values, as no override at all', () => {
    const allUndefined: PasscodeOverrides = {
      length: undefined,
      alphabet: undefined,
      validitySeconds: undefined,
      maxAttempts: undefined,
      flash: undefined,
      messageTemplate: undefined,
    };
    fc.assert(
      fc.property(arbTenant, fc.option(arbGroup, { nil: undefined }), arbUser, (tenant, group, user) => {
        const plain = resolveSettings(tenant, group, undefined);
        expect(resolveSettings(tenant, group, {})).toEqual(plain);
        expect(resolveSettings(tenant, group, allUndefined)).toEqual(plain);
        if (group) {
          const withUser = resolveSettings(tenant, group, user);
          expect(resolveSettings(tenant, { ...group, passcode: {} }, user)).toEqual(
            resolveSettings(tenant, { ...group, passcode: undefined }, user),
          );
          expect(resolveSettings(tenant, { ...group, passcode: allUndefined }, user)).toEqual(
            resolveSettings(tenant, { ...group, passcode: undefined }, user),
          );
          expect(withUser).toEqual(resolveSettings(tenant, group, { ...allUndefined, ...user }));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('gives the same values when the overrides are applied again on top of their own result', () => {
    fc.assert(
      fc.property(arbTenant, fc.option(arbGroup, { nil: undefined }), arbUser, (tenant, group, user) => {
        const once = resolveSettings(tenant, group, user);
        const asTenant: Tenant = {
          ...tenant,
          passcode: passcodeOf(once),
          messageTemplate: once['passcode.messageTemplate'].value,
        };
        const twice = resolveSettings(asTenant, group, user);
        expect(valuesOf(twice)).toEqual(valuesOf(once));
        // Overriding with the effective values themselves changes no value either.
        const asUser: PasscodeOverrides = { ...passcodeOf(once), flash: once['passcode.flash'].value };
        expect(valuesOf(resolveSettings(tenant, group, { ...user, ...asUser }))).toEqual(valuesOf(once));
      }),
      { numRuns: 300 },
    );
  });

  it('lets a user override only passcode settings: routing comes from the group', () => {
    fc.assert(
      fc.property(arbTenant, arbGroup, arbUser, (tenant, group, user) => {
        const settings = resolveSettings(tenant, group, user);
        expect(settings.channels).toEqual({ value: group.channels, from: 'group' });
        expect(settings.secondaryPhone).toEqual({ value: group.secondaryPhone, from: 'group' });
        expect(settings.defaultModemGroup).toEqual({ value: tenant.defaultModemGroup, from: 'tenant' });
        // A group without a load-balancing policy sends through the tenant's default modem group.
        expect(settings.loadBalancingPolicyId).toEqual(
          group.loadBalancingPolicyId === null
            ? { value: null, from: 'default' }
            : { value: group.loadBalancingPolicyId, from: 'group' },
        );
      }),
    );
  });

  it('gives a user without a group policy the tenant defaults: SMS through the default modem group', () => {
    fc.assert(
      fc.property(arbTenant, (tenant) => {
        const settings = resolveSettings(tenant, undefined, undefined);
        // Nothing comes from a group or a user; what the tenant did not set is the product's default.
        for (const resolved of Object.values(settings))
          expect(['tenant', 'default', 'operator']).toContain(resolved.from);
        expect(settings.channels.value).toEqual(['sms_modem']);
        expect(settings['passcode.flash'].value).toBe(false);
        expect(settings.loadBalancingPolicyId.value).toBeNull();
        expect(passcodeOf(settings)).toEqual({ alphabet: 'numeric', ...tenant.passcode });
      }),
    );
  });
});

describe('assertStrongPasscode', () => {
  it('accepts exactly the settings at or above the entropy floor and within range', () => {
    fc.assert(
      fc.property(
        fc.record({
          length: fc.integer({ min: 0, max: 16 }),
          alphabet: arbAlphabet,
          validitySeconds: fc.integer({ min: 0, max: 7200 }),
          maxAttempts: fc.integer({ min: -1, max: 20 }),
        }),
        (settings) => {
          const ok =
            settings.length >= 4 &&
            settings.length <= 12 &&
            entropyBits(settings) >= MIN_ENTROPY_BITS - 1e-9 &&
            settings.validitySeconds >= 30 &&
            settings.validitySeconds <= 3600 &&
            settings.maxAttempts >= 1 &&
            settings.maxAttempts <= 10;
          if (ok) expect(() => assertStrongPasscode(settings, 'group policy "g1"')).not.toThrow();
          else expect(() => assertStrongPasscode(settings, 'group policy "g1"')).toThrow(WeakPasscodeError);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('names the level that made a resolved passcode weak', () => {
    const tenant: Tenant = {
      id: 't1',
      name: 'Tenant',
      status: 'active',
      defaultCountry: 'DK',
      allowedCountries: ['DK'],
      userLimit: 10,
      passcode: { length: 8, alphabet: 'memo', validitySeconds: 300, maxAttempts: 3 },
      messageTemplate: 'Code {code}',
      defaultModemGroup: 'default',
    };
    // Eight memo letters are strong; a user override to numeric makes them 8 digits, still strong; to four
    // digits it is not, and the error says where.
    expect(() =>
      assertStrongPasscode(passcodeOf(resolveSettings(tenant, undefined, {})), 'tenant'),
    ).not.toThrow();
    const weak = passcodeOf(resolveSettings(tenant, undefined, { length: 4, alphabet: 'numeric' }));
    const caught = catching(() => assertStrongPasscode(weak, 'user "alice"'));
    expect(caught).toBeInstanceOf(WeakPasscodeError);
    expect(caught).toMatchObject({
      code: 'weak_passcode',
      message: expect.stringMatching(/^user "alice": .*20 bits/),
    });
  });
});
