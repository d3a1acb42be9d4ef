/**
 * The password APIs (version 1): the check an auth client (the RADIUS front, the portal) makes of a user's AD
 * password, and the end user's self-service password reset. Both reach AD only through the tenant's edge agent
 * (contracts/rpc.ts); the password itself travels sealed for that agent's key.
 */
import * as z from 'zod';

const printable = /^[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}]+$/u;
const username = z.string().min(1).max(256).regex(printable, 'must not contain control characters');
/** AD allows 256 characters; the sealed value holds up to 1 KiB. */
const password = z.string().min(1).max(256);

export const PasswordCheckRequest = z
  .object({
    username,
    password,
    client: z
      .object({
        ip: z.union([z.ipv4(), z.ipv6()]).optional(),
        name: z.string().min(1).max(128).regex(printable, 'must not contain control characters').optional(),
      })
      .strict()
      .optional(),
  })
  .strict();
export type PasswordCheckRequest = z.infer<typeof PasswordCheckRequest>;

export const PasswordCheckReply = z.union([
  z.object({ result: z.literal('valid') }).strict(),
  z.object({ result: z.literal('invalid'), attemptsLeft: z.number().int().nonnegative() }).strict(),
]);
export type PasswordCheckReply = z.infer<typeof PasswordCheckReply>;

/** How long a password check waits for the agent's answer before `503 directory_unavailable`. */
export const PASSWORD_CHECK_TIMEOUT_MS = 5000;

/** Self-service reset: `start` → `verify` → `password`. Tenant ids are topic-safe ids (contracts/topics.ts). */
export const ResetStartRequest = z
  .object({
    tenant: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be a tenant id'),
    username,
    personalPasscode: z.string().min(1).max(64),
  })
  .strict();
export const ResetVerifyRequest = z.object({ passcode: z.string().min(1).max(64) }).strict();
export const ResetPasswordRequest = z.object({ newPassword: password }).strict();

/** `{tenantId}.{random}`: the tenant scopes every read; the random part is 128 bits. */
export const RESET_ID = /^[A-Za-z0-9_-]{1,64}\.[A-Za-z0-9_-]{22}$/;

/** Stable codes of an AD refusal of the new password, with the message the user is shown. */
export const RESET_REFUSALS = {
  too_short: 'The new password is too short for your organisation’s password policy.',
  complexity:
    'The new password is not complex enough: use upper- and lower-case letters, digits and symbols, and avoid your name.',
  history: 'The new password was used before; choose one you have not used.',
  min_age: 'Your password was changed too recently to be changed again; try again later.',
  unknown: 'Your organisation’s password policy refused the new password; choose another one.',
} as const;
