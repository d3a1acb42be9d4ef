/** Request and reply schemas of tenant key management (`/v1/keys` on the admin API). */
import * as z from 'zod';

/** The kinds a tenant admin may mint for its own tenant; operator keys are the operator's alone. */
export const TenantKeyKind = z.enum(['auth', 'sync', 'admin']);

export const KeyCreateRequest = z.object({ kind: TenantKeyKind }).strict();

/** The one reply that carries the whole key: it is never shown again. */
export const KeyCreated = z.object({
  key: z.string(),
  prefix: z.string(),
  kind: TenantKeyKind,
  createdAt: z.string(),
});

export const KeySummary = z.object({
  prefix: z.string(),
  kind: TenantKeyKind,
  createdAt: z.string(),
  revokedAt: z.string().optional(),
});

export const KeyList = z.object({ keys: z.array(KeySummary) });

export const KeyListQuery = z
  .object({
    kind: TenantKeyKind.optional(),
    /** Lists only keys whose prefix starts with this, e.g. `sp.auth.` */
    prefix: z.string().min(1).max(64).optional(),
    includeRevoked: z.enum(['true', 'false']).optional(),
  })
  .strict();

export const KeyRevoked = z.object({ prefix: z.string(), revokedAt: z.string() });

/** Listing prefixes: `sp.<kind>.<tenant>.` and four characters of the secret. */
export const KEY_PREFIX = /^sp\.(auth|sync|admin)\.[A-Za-z0-9_-]{1,64}\.[A-Za-z0-9_-]{4}$/;
