/** The dispatch queue's message: one challenge step to carry out. Internal to the cloud, versioned all the same. */
import * as z from 'zod';

export const DispatchMessage = z
  .object({
    v: z.literal(1),
    tenantId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
    challengeId: z.string().regex(/^[A-Za-z0-9_-]{16,64}$/),
    step: z.number().int().min(0).max(99),
    expiresAt: z.iso.datetime({ offset: true }),
    /** Destination and text, sealed with the deployment key, because the text holds the passcode. */
    sealed: z.string().min(1).max(8192),
    modemGroup: z.string().min(1).max(64),
    flash: z.boolean(),
  })
  .strict();
export type DispatchMessage = z.infer<typeof DispatchMessage>;
