/**
 * A tenant's abuse defences as the auth path reads them: absent parts take the defaults, and the lockout is
 * held within NIST SP 800-63B (at most 100 failures) and a lock that lifts within a day, whatever is stored.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_LIMITS,
  DEFAULT_LOCKOUT,
  MAX_LOCK_SECONDS,
  NIST_MAX_FAILURES,
  type RateLimits,
  type TenantSecurity,
} from '../../../functions/core/abuse-policy.ts';
import type { Tenant } from '../../../functions/core/model.ts';
import { resolveSettings, securityOf } from '../../../functions/core/settings.ts';

const TENANT: Tenant = {
  id: 't',
  name: 'T',
  status: 'active',
  defaultCountry: 'DK',
  allowedCountries: ['DK'],
  userLimit: 10,
  passcode: { length: 6, validitySeconds: 300, maxAttempts: 3 },
  messageTemplate: '{code}',
  defaultModemGroup: 'default',
};

/** The defences exactly as the challenge path reads them: through the one settings resolver. */
function resolveSecurity(security: TenantSecurity | undefined) {
  const { allowedCountries: _countries, ...rest } = securityOf(
    resolveSettings({ ...TENANT, security }, undefined, undefined),
  );
  return rest;
}

/** Whatever a tenant item might hold: numbers of any size, and gaps written as absent, undefined or null. */
const arbStoredNumber = fc.oneof(
  fc.integer({ min: -1_000_000, max: 1_000_000 }),
  fc.double(),
  fc.constantFrom(undefined, null, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY),
) as fc.Arbitrary<number>;

const LIMIT_KEYS = Object.keys(DEFAULT_LIMITS) as (keyof RateLimits)[];

const arbSecurity: fc.Arbitrary<TenantSecurity | undefined> = fc.option(
  fc.record(
    {
      limits: fc.record(Object.fromEntries(LIMIT_KEYS.map((k) => [k, arbStoredNumber])), {
        requiredKeys: [],
      }) as fc.Arbitrary<Partial<RateLimits>>,
      lockout: fc.record(
        { maxFailures: arbStoredNumber, lockSeconds: arbStoredNumber },
        { requiredKeys: [] },
      ),
      allowPersonalPasscode: fc.oneof(
        fc.boolean(),
        fc.constantFrom(undefined, null, 'true', 1),
      ) as fc.Arbitrary<boolean | undefined>,
      bindClientIp: fc.oneof(fc.boolean(), fc.constantFrom(undefined, null, 'yes', 1)) as fc.Arbitrary<
        boolean | undefined
      >,
    },
    { requiredKeys: [] },
  ),
  { nil: undefined },
  // The stored item may hold anything, so the arbitrary is wider than the type says.
) as fc.Arbitrary<TenantSecurity | undefined>;

const isGap = (v: unknown) => v === undefined || v === null || Number.isNaN(v);

describe('resolveSecurity', () => {
  it('gives a tenant that set nothing the defaults: 10 failures lock for 15 minutes, extras off', () => {
    for (const security of [undefined, {}, { limits: {}, lockout: {} }]) {
      expect(resolveSecurity(security)).toEqual({
        limits: DEFAULT_LIMITS,
        lockout: DEFAULT_LOCKOUT,
        allowPersonalPasscode: false,
        bindClientIp: false,
        pinRequired: false,
      });
    }
    expect(DEFAULT_LOCKOUT).toEqual({ maxFailures: 10, lockSeconds: 900 });
  });

  it('keeps every lockout inside 1–100 failures and 1 second–1 day, for any stored input', () => {
    fc.assert(
      fc.property(arbSecurity, (security) => {
        const { lockout } = resolveSecurity(security);
        expect(lockout.maxFailures).toBeGreaterThanOrEqual(1);
        expect(lockout.maxFailures).toBeLessThanOrEqual(NIST_MAX_FAILURES);
        expect(lockout.lockSeconds).toBeGreaterThanOrEqual(1);
        expect(lockout.lockSeconds).toBeLessThanOrEqual(MAX_LOCK_SECONDS);
      }),
      { numRuns: 3000 },
    );
    expect(NIST_MAX_FAILURES).toBe(100);
    expect(MAX_LOCK_SECONDS).toBe(86_400);
  });

  it('clamps a lockout set beyond the bounds to the bounds', () => {
    expect(resolveSecurity({ lockout: { maxFailures: 1000, lockSeconds: 7 * 86_400 } }).lockout).toEqual({
      maxFailures: 100,
      lockSeconds: 86_400,
    });
    expect(resolveSecurity({ lockout: { maxFailures: 0, lockSeconds: -5 } }).lockout).toEqual({
      maxFailures: 1,
      lockSeconds: 1,
    });
    expect(
      resolveSecurity({
        lockout: { maxFailures: Number.POSITIVE_INFINITY, lockSeconds: Number.NEGATIVE_INFINITY },
      }).lockout,
    ).toEqual({ maxFailures: 100, lockSeconds: 1 });
  });

  it('keeps what the tenant set inside the bounds, and fills every gap with the default', () => {
    fc.assert(
      fc.property(arbSecurity, (security) => {
        const resolved = resolveSecurity(security);
        const { maxFailures, lockSeconds } = security?.lockout ?? {};
        if (isGap(maxFailures)) expect(resolved.lockout.maxFailures).toBe(DEFAULT_LOCKOUT.maxFailures);
        else if (maxFailures! >= 1 && maxFailures! <= 100)
          expect(resolved.lockout.maxFailures).toBe(maxFailures);
        if (isGap(lockSeconds)) expect(resolved.lockout.lockSeconds).toBe(DEFAULT_LOCKOUT.lockSeconds);
        else if (lockSeconds! >= 1 && lockSeconds! <= 86_400)
          expect(resolved.lockout.lockSeconds).toBe(lockSeconds);
        for (const key of LIMIT_KEYS) {
          const set = security?.limits?.[key];
          expect(resolved.limits[key], key).toBe(isGap(set) ? DEFAULT_LIMITS[key] : set);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('turns personal passcodes and IP binding on only when set to true', () => {
    fc.assert(
      fc.property(arbSecurity, (security) => {
        const resolved = resolveSecurity(security);
        expect(resolved.allowPersonalPasscode).toBe(security?.allowPersonalPasscode === true);
        expect(resolved.bindClientIp).toBe(security?.bindClientIp === true);
      }),
    );
  });

  it('does not change the stored policy it reads', () => {
    fc.assert(
      fc.property(arbSecurity, (security) => {
        const before = structuredClone(security);
        resolveSecurity(security);
        expect(security).toEqual(before);
      }),
    );
  });
});
