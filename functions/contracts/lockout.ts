/** Request and reply schemas of lockout and personal passcode management (admin API). */
import * as z from 'zod';

export const LockoutState = z.object({
  username: z.string(),
  locked: z.boolean(),
  lockedUntil: z.string().optional(),
  failures: z.int(),
});

/** A static last-resort code; long enough that, with the lockout, it cannot be guessed in its window. */
export const PersonalPasscodeRequest = z
  .object({
    passcode: z.string().regex(/^[A-Za-z0-9]{8,32}$/, 'must be 8–32 letters or digits'),
    validFrom: z.iso.datetime({ offset: true }),
    validUntil: z.iso.datetime({ offset: true }),
  })
  .strict()
  .refine((p) => Date.parse(p.validUntil) > Date.parse(p.validFrom), {
    message: 'validUntil must be after validFrom',
    path: ['validUntil'],
  })
  .refine((p) => Date.parse(p.validUntil) - Date.parse(p.validFrom) <= 30 * 24 * 3600 * 1000, {
    message: 'the window may be at most 30 days',
    path: ['validUntil'],
  })
  .refine((p) => Date.parse(p.validFrom) <= Date.now() + 30 * 24 * 3600 * 1000, {
    message: 'the window must start within 30 days',
    path: ['validFrom'],
  });

export const PersonalPasscodeSet = z.object({
  username: z.string(),
  validFrom: z.string(),
  validUntil: z.string(),
  /** False while the tenant's settings (`security.allowPersonalPasscode`) do not accept personal passcodes. */
  acceptedAtLogin: z.boolean(),
});

export const USERNAME_PARAM = /^[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}/]{1,256}$/u;
