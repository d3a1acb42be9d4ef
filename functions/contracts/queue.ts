/** The dispatch queue's message: one challenge step to carry out. Internal to the cloud, versioned all the same. */
import * as z from 'zod';
import { Rule } from './admin.ts';

export const DispatchMessage = z
  .object({
    v: z.literal(1),
    /**
     * `step` carries out one rule of the chain; `timer` fires when that rule's timeout ran out and moves the
     * chain on if the step has not succeeded by then.
     */
    kind: z.enum(['step', 'timer']),
    tenantId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
    challengeId: z.string().regex(/^[A-Za-z0-9_-]{16,64}$/),
    step: z.number().int().min(0).max(99),
    expiresAt: z.iso.datetime({ offset: true }),
    /** Destination(s) and text, sealed with the deployment key, because the text holds the passcode. */
    sealed: z.string().min(1).max(8192),
    modemGroup: z.string().min(1).max(64),
    flash: z.boolean(),
    /** The rule this step runs. */
    rule: Rule,
    /** The agent chosen when the step was queued: a redelivered message goes to the same agent, same job id. */
    agentId: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/)
      .optional(),
    /** Whether a later rule exists, so the step arms a failover timer only when there is somewhere to go. */
    hasNext: z.boolean().optional(),
    /** For timers: when the timeout ends. A timer further away than SQS can delay is re-queued until then. */
    dueAt: z.iso.datetime({ offset: true }).optional(),
  })
  .strict();
export type DispatchMessage = z.infer<typeof DispatchMessage>;

/** What the sealed part of a dispatch message holds: the challenge's text and the user's destinations. */
export const SealedPayload = z
  .object({
    text: z.string().min(1).max(1600),
    targets: z
      .object({
        primary: z.string().nullable(),
        secondary: z.string().nullable(),
        email: z.string().nullable(),
      })
      .strict(),
    username: z.string().min(1).max(256),
  })
  .strict();
export type SealedPayload = z.infer<typeof SealedPayload>;
