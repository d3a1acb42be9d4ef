/** Request and reply schemas of the auth client API (DESIGN.md "Auth client API", version 1). */
import * as z from 'zod';

/** Control characters never belong in a username; they would end up in logs and SMS templates. */
const printable = /^[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}]+$/u;

export const ChallengeRequest = z
  .object({
    username: z.string().min(1).max(256).regex(printable, 'must not contain control characters'),
    client: z
      .object({
        ip: z.union([z.ipv4(), z.ipv6()]).optional(),
        name: z.string().min(1).max(128).regex(printable, 'must not contain control characters').optional(),
      })
      .strict()
      .optional(),
  })
  .strict();
export type ChallengeRequest = z.infer<typeof ChallengeRequest>;

export const VerifyRequest = z
  .object({
    passcode: z.string().min(1).max(64),
    /** Needed only when the tenant binds challenges to the client IP that made them. */
    client: z
      .object({ ip: z.union([z.ipv4(), z.ipv6()]).optional() })
      .strict()
      .optional(),
  })
  .strict();

export const ChallengeCreated = z.object({
  challengeId: z.string(),
  expiresAt: z.string(),
  channel: z.literal('sms'),
  destination: z.string(),
});

export const VerifyReply = z.union([
  z.object({
    result: z.literal('accept'),
    /** Only where the user's group policy sets them: the RADIUS front sends them as Class and Filter-Id. */
    radius: z.object({ class: z.string().optional(), filterId: z.string().optional() }).optional(),
  }),
  z.object({
    result: z.literal('reject'),
    reason: z.enum(['wrong', 'expired', 'used', 'locked']),
    attemptsLeft: z.number().int(),
  }),
]);

export const ErrorReply = z.object({
  error: z.object({ code: z.string(), message: z.string() }),
});

export const ChallengeStatusReply = z.object({
  status: z.enum(['pending', 'sent', 'delivered', 'failed', 'accepted', 'rejected', 'expired']),
  deliveries: z.array(z.object({ step: z.int(), channel: z.string(), status: z.string(), at: z.string() })),
});

/** Challenge ids are our own base64url ids; anything else cannot name a challenge. */
export const CHALLENGE_ID = /^[A-Za-z0-9_-]{16,64}$/;
