/**
 * Requests of the self-service JSON API (`/v1/self/…`): what a user sends to sign in with a passcode, change
 * what their group policy lets them change, and take an enrolment link. The portal pages send the same.
 */
import * as z from 'zod';
import { PersonalPasscodeRequest } from './lockout.ts';
import { ID_PATTERN } from './topics.ts';

const printable = /^[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}]+$/u;
const Tenant = z.string().regex(ID_PATTERN, 'must be a tenant id');

export const SignInStart = z
  .object({
    tenant: Tenant,
    username: z.string().min(1).max(256).regex(printable, 'must not contain control characters'),
  })
  .strict();
export type SignInStart = z.infer<typeof SignInStart>;

export const SignInVerify = z.object({ tenant: Tenant, passcode: z.string().min(1).max(64) }).strict();

export const ProfileUpdate = z.object({ smsType: z.enum(['normal', 'flash']) }).strict();

export const NUMBER_FIELDS = ['mobile', 'secondaryMobile'] as const;
export const NumberChangeStart = z
  .object({
    field: z.enum(NUMBER_FIELDS),
    /** As people type it: `+45 20 12 34 56`, `0045…`, or national digits read in the tenant's country. */
    number: z.string().min(3).max(40).regex(printable, 'must not contain control characters'),
  })
  .strict();

export const NumberChangeConfirm = z.object({ passcode: z.string().min(1).max(64) }).strict();

export const SelfPersonalPasscode = PersonalPasscodeRequest;

/** `PUT /v1/self/pin`: the current PIN is needed to change one that is set. */
export const SelfPin = z
  .object({
    pin: z.string().regex(/^[0-9]{4,12}$/, 'must be 4 to 12 digits'),
    currentPin: z.string().max(64).optional(),
  })
  .strict();

export const AuthenticatorEnrol = z.object({ replace: z.boolean().optional() }).strict();
export const AuthenticatorConfirm = z
  .object({ code: z.string().regex(/^\d{6,8}$/, 'must be 6–8 digits') })
  .strict();

export const LinkRedeem = z
  .object({ tenant: Tenant, token: z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'is not an enrolment link') })
  .strict();

/** The admin's request for an enrolment link; the days it stays valid (default 7). */
export const EnrolmentLinkRequest = z.object({ validDays: z.int().min(1).max(30).optional() }).strict();

export const SIGN_IN_ID = /^[A-Za-z0-9_-]{16,64}$/;
