/**
 * Request and reply schemas of OATH token management on the admin API: authenticator-app enrolment, PSKC
 * (RFC 6030) import of hardware tokens, assignment, revocation and HOTP resynchronisation. No reply but the
 * enrolment's carries a seed, and that one only once.
 */
import * as z from 'zod';

/** A serial as PSKC carries it and URLs can hold: letters, digits, `.`, `_`, `:` and `-`. */
export const SERIAL_PATTERN = /^[A-Za-z0-9._:-]{1,64}$/;
/** `app.<random>` for app enrolments, `hw.<serial>` for imported tokens. */
export const TOKEN_ID_PATTERN = /^(app\.[A-Za-z0-9_-]{1,32}|hw\.[A-Za-z0-9._:-]{1,64})$/;

export const TOKEN_STATES = ['pending', 'active', 'unassigned', 'revoked'] as const;
export const TokenState = z.enum(TOKEN_STATES);

/** The largest PSKC document one import takes, and the most KeyPackages in it. */
export const PSKC_MAX_BYTES = 1024 * 1024;
export const PSKC_MAX_KEYS = 1000;
/** The header that carries the pre-shared transport key (hex) of an encrypted PSKC document. */
export const TRANSPORT_KEY_HEADER = 'x-pskc-transport-key';

export const TotpEnrolRequest = z
  .object({
    /** Needed to enrol while the user has an active app: the active one keeps working until the new one is confirmed. */
    replace: z.boolean().optional(),
  })
  .strict();

export const TokenConfirmRequest = z.object({ code: z.string().min(1).max(32) }).strict();

export const TokenAssignRequest = z
  .object({ serial: z.string().regex(SERIAL_PATTERN, 'must be 1–64 letters, digits, ".", "_", ":" or "-"') })
  .strict();

export const TokenResyncRequest = z
  .object({ code1: z.string().min(1).max(32), code2: z.string().min(1).max(32) })
  .strict();

export const TokenListQuery = z
  .object({
    state: TokenState.optional(),
    limit: z
      .string()
      .regex(/^\d{1,3}$/)
      .optional(),
    cursor: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,1024}$/)
      .optional(),
  })
  .strict();

/** What every listing shows of a token: never the seed, never a counter value a code could be guessed from. */
export const TokenView = z.object({
  tokenId: z.string(),
  kind: z.enum(['totp', 'hotp']),
  source: z.enum(['app', 'pskc']),
  state: TokenState,
  serial: z.string().optional(),
  manufacturer: z.string().optional(),
  username: z.string().optional(),
  algorithm: z.enum(['sha1', 'sha256', 'sha512']),
  digits: z.int(),
  period: z.int().optional(),
  createdAt: z.string(),
  assignedAt: z.string().optional(),
  confirmedAt: z.string().optional(),
  revokedAt: z.string().optional(),
});

export const TokenList = z.object({ items: z.array(TokenView), cursor: z.string().optional() });

/** The enrolment reply, shown once: the secret, the URI an app reads and its QR code. */
export const TotpEnrolled = TokenView.extend({
  secret: z.string(),
  uri: z.string(),
  qrSvg: z.string(),
});

export const TokensImported = z.object({
  imported: z.int(),
  tokens: z.array(TokenView),
});
