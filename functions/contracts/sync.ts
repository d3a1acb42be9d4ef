/** Request and reply schemas of the AD sync API (DESIGN.md "AD sync API", version 1). */
import * as z from 'zod';

/** The most users one `PUT …/users` may carry; more is refused whole, so the connector splits its batches. */
export const SYNC_BATCH_MAX_USERS = 1000;
/** The largest batch body: under Lambda's 6 MB synchronous payload, room for 1,000 users with many groups. */
export const SYNC_BATCH_MAX_BYTES = 5 * 1024 * 1024;

const printable = /^[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}]+$/u;
const text = (max: number) =>
  z.string().min(1).max(max).regex(printable, 'must not contain control characters');

export const SyncUser = z
  .object({
    /** The AD objectGUID (or any id stable across renames). */
    id: z
      .string()
      .min(1)
      .max(128)
      .regex(/^[A-Za-z0-9{}_.:=+/-]+$/, 'must be an objectGUID-like id'),
    /** The sAMAccountName. */
    username: text(256),
    /** The DNS name of the user's AD domain. */
    domain: text(255),
    /** The userPrincipalName; without it `username@domain`. Used when the tenant's usernames are UPNs. */
    upn: text(320)
      .regex(/^[^@\\]+@[^@\\]+$/, 'must be a userPrincipalName such as dave@corp.example.test')
      .nullable()
      .optional(),
    /** The domain's NetBIOS name (not derivable from the DNS name); without it the first DNS label, upper-cased. */
    netbiosDomain: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_!#$%&'()^{}~-]{0,14}$/, 'must be a NetBIOS domain name such as CORP')
      .nullable()
      .optional(),
    displayName: text(256).nullable().optional(),
    mobile: z.string().max(64).nullable().optional(),
    secondaryMobile: z.string().max(64).nullable().optional(),
    email: z.string().max(320).nullable().optional(),
    /** Distinguished names of every group the user is in, nested membership already resolved. */
    groups: z.array(text(1024)).max(1000).optional(),
  })
  .strict();
export type SyncUser = z.infer<typeof SyncUser>;

export const SyncBatch = z
  .object({
    users: z
      .array(SyncUser)
      .max(SYNC_BATCH_MAX_USERS, `at most ${SYNC_BATCH_MAX_USERS} users per batch; send more batches`),
  })
  .strict();

export const RUN_ID = /^[A-Za-z0-9_-]{16,64}$/;

/**
 * `full` (the default): the run sends every user, and `complete` removes the users it did not see. `delta`: the
 * run sends only users that changed (uSNChanged), and its `complete` never removes anyone.
 */
export const SyncMode = z.enum(['full', 'delta']);
export type SyncMode = z.infer<typeof SyncMode>;
export const StartRunRequest = z.object({ mode: SyncMode.default('full') }).strict();

/** `202` from `complete` when the removal is too large for one request: poll `statusUrl` until `completed`. */
export interface CompleteAccepted {
  runId: string;
  status: 'completing';
  statusUrl: string;
}

export type RejectReason =
  | 'user_limit_reached'
  | 'invalid_phone'
  | 'invalid_email'
  | 'username_conflict'
  | 'duplicate_in_batch'
  | 'no_matching_group'
  /** The name the tenant's username format gives is too long, or could not be typed back at login. */
  | 'invalid_username'
  | 'temporarily_unavailable';

export interface BatchReply {
  accepted: number;
  rejected: Array<{ id: string; reason: RejectReason }>;
}

export interface CompleteReply {
  created: number;
  updated: number;
  removed: number;
  rejected: number;
}
