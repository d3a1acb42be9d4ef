/**
 * Request/response between the cloud and one edge agent (DESIGN.md "MQTT topics"):
 * cloud → agent on `t/{tenant}/a/{agent}/rpc/req`, agent → cloud on `…/rpc/res`, both QoS 1.
 *
 * Version 1 is the contract. A request carries a correlation id and an expiry; the agent refuses an expired
 * request, an unknown method or an unknown version with a reply whose error code says so, and the cloud accepts
 * one reply per request, only from the agent it asked, and only before the expiry.
 *
 * Secrets (a password to check or to set) never travel in clear: they are sealed for the agent's enrolled key
 * (see sealed.ts), bound to the request id and method, so a captured blob cannot be replayed into another request.
 */
import * as z from 'zod';
import { Sealed } from './sealed.ts';

export const RPC_VERSION = 1;

const isoTime = z.iso.datetime({ offset: true });
export const RpcId = z.string().regex(/^[A-Za-z0-9_-]{8,64}$/, 'must be 8-64 characters of [A-Za-z0-9_-]');

/** The AD domain a request is about: its DNS name as configured in the agent's `ad.domains[].name`. */
const domainName = z.string().min(1).max(253);
const username = z.string().min(1).max(256);

export const RpcMethods = {
  /** Start an AD sync now (the console's "sync now"); the run itself reports through the sync API. */
  'ad.sync': {
    params: z.object({ mode: z.enum(['delta', 'full']) }).strict(),
    result: z
      .object({
        /** False when a run was already under way; that run is the answer. */
        started: z.boolean(),
      })
      .strict(),
  },
  /** An LDAP bind as the user: the first factor for the RADIUS front and the portal. */
  'ad.checkPassword': {
    params: z.object({ domain: domainName.optional(), username, password: Sealed }).strict(),
    result: z.object({ valid: z.boolean() }).strict(),
  },
  /** Sets `unicodePwd` over LDAPS as the service account (an administrative reset). */
  'ad.setPassword': {
    params: z.object({ domain: domainName.optional(), username, newPassword: Sealed }).strict(),
    result: z.object({ changed: z.literal(true) }).strict(),
  },
} as const;
export type RpcMethod = keyof typeof RpcMethods;
export const RPC_METHODS = Object.keys(RpcMethods) as RpcMethod[];

export type RpcParams<M extends RpcMethod> = z.infer<(typeof RpcMethods)[M]['params']>;
export type RpcResult<M extends RpcMethod> = z.infer<(typeof RpcMethods)[M]['result']>;

/**
 * The loose first read of a request: enough to answer it (id) and to refuse it with a precise code
 * (version, method, expiry) before its params are looked at.
 */
export const RpcEnvelope = z
  .object({
    v: z.number().int(),
    id: RpcId,
    method: z.string().min(1).max(64),
    expiresAt: isoTime,
    params: z.unknown(),
  })
  .strict();
export type RpcEnvelope = z.infer<typeof RpcEnvelope>;

export interface RpcRequest<M extends RpcMethod = RpcMethod> {
  v: typeof RPC_VERSION;
  id: string;
  method: M;
  expiresAt: string;
  params: RpcParams<M>;
}

/** Stable error codes of a reply. The `message` beside it is for people and may change. */
export const RpcErrorCode = z.enum([
  'unsupported_version', // the agent does not speak this request's `v`
  'unknown_method',
  'invalid_params',
  'expired', // the request reached the agent after its expiresAt
  'busy', // the agent will not take this now (too many of these under way)
  'not_configured', // the agent has no AD configuration (or none for this domain)
  'ad_unavailable', // no domain controller answered
  'user_not_found',
  'invalid_credentials', // ad.checkPassword: a wrong password is `valid:false`, this is for a refused bind of the service account
  'account_disabled',
  'account_locked',
  'password_policy', // AD refused the new password; `reason` says which rule
  'internal',
]);
export type RpcErrorCode = z.infer<typeof RpcErrorCode>;

/** Which AD rule refused a new password, as far as AD's answer tells. */
export const PasswordPolicyReason = z.enum(['too_short', 'complexity', 'history', 'min_age', 'unknown']);
export type PasswordPolicyReason = z.infer<typeof PasswordPolicyReason>;

export const RpcError = z
  .object({
    code: RpcErrorCode,
    message: z.string().max(300),
    reason: PasswordPolicyReason.optional(),
  })
  .strict();
export type RpcError = z.infer<typeof RpcError>;

export const RpcReply = z.discriminatedUnion('ok', [
  z.object({ v: z.literal(RPC_VERSION), id: RpcId, ok: z.literal(true), result: z.unknown() }).strict(),
  z.object({ v: z.literal(RPC_VERSION), id: RpcId, ok: z.literal(false), error: RpcError }).strict(),
]);
export type RpcReply = z.infer<typeof RpcReply>;

/** Builds a request, checking its params against the method's schema. */
export function rpcRequest<M extends RpcMethod>(
  method: M,
  id: string,
  expiresAt: Date,
  params: RpcParams<M>,
): RpcRequest<M> {
  RpcId.parse(id);
  const checked = RpcMethods[method].params.parse(params) as RpcParams<M>;
  return { v: RPC_VERSION, id, method, expiresAt: expiresAt.toISOString(), params: checked };
}

export type ParsedRpcRequest =
  | { ok: true; request: RpcRequest }
  /** `id` is undefined when the message is too broken to answer at all: the agent then drops it. */
  | { ok: false; id: string | undefined; error: RpcError };

/** The agent's reading of one rpc/req message, in the order that decides which error wins. */
export function parseRpcRequest(raw: unknown, now: Date): ParsedRpcRequest {
  const env = RpcEnvelope.safeParse(raw);
  if (!env.success) {
    const id = RpcId.safeParse((raw as { id?: unknown } | null)?.id);
    return {
      ok: false,
      id: id.success ? id.data : undefined,
      error: { code: 'invalid_params', message: 'not an RPC request' },
    };
  }
  const { v, id, method, expiresAt, params } = env.data;
  if (v !== RPC_VERSION)
    return {
      ok: false,
      id,
      error: { code: 'unsupported_version', message: `version ${v} is not supported (1 is)` },
    };
  if (!Object.hasOwn(RpcMethods, method))
    return {
      ok: false,
      id,
      error: { code: 'unknown_method', message: `unknown method ${JSON.stringify(method)}` },
    };
  if (Date.parse(expiresAt) <= now.getTime())
    return { ok: false, id, error: { code: 'expired', message: 'the request expired before it arrived' } };
  const p = RpcMethods[method as RpcMethod].params.safeParse(params);
  if (!p.success) {
    const field = p.error.issues[0]?.path.join('.') || 'params';
    return {
      ok: false,
      id,
      error: { code: 'invalid_params', message: `params.${field}: ${p.error.issues[0]?.message}` },
    };
  }
  return {
    ok: true,
    request: { v: RPC_VERSION, id, method: method as RpcMethod, expiresAt, params: p.data } as RpcRequest,
  };
}

export function rpcOk<M extends RpcMethod>(id: string, result: RpcResult<M>): RpcReply {
  return { v: RPC_VERSION, id, ok: true, result };
}

export function rpcFail(id: string, error: RpcError): RpcReply {
  return { v: RPC_VERSION, id, ok: false, error };
}

/** The cloud's check of a successful reply's result against the method it asked for. */
export function parseRpcResult<M extends RpcMethod>(method: M, result: unknown): RpcResult<M> | undefined {
  const r = RpcMethods[method].result.safeParse(result);
  return r.success ? (r.data as RpcResult<M>) : undefined;
}

/** AAD that binds a sealed secret to the one request that carries it. */
export function rpcSealContext(id: string, method: RpcMethod, field: string): string {
  return `smspass-rpc/v1/${method}/${field}/${id}`;
}
