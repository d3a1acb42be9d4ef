/**
 * The OpenAPI document, generated from the very zod schemas that validate requests, so it cannot drift.
 *
 * The registry: every module in CONTRACT_MODULES contributes each zod schema it exports as a component, and
 * the routes in its exported `ROUTES` (a `RouteDoc[]`), if it has any. A new API joins by adding one line here.
 * Every route of the deployment's route table (routes.ts `HTTP_ROUTES`, passed in by the caller) is described too,
 * with a bare entry when no module documents it yet, so the document never leaves a served route out.
 */
import * as z from 'zod';
import * as admin from './admin.ts';
import * as adminAccounts from './admin-accounts.ts';
import * as agents from './agents.ts';
import * as api from './api.ts';
import * as keys from './keys.ts';
import * as lockout from './lockout.ts';
import * as messageLog from './message-log.ts';
import * as password from './password.ts';
import * as rpc from './rpc.ts';
import * as sealed from './sealed.ts';
import * as serviceEvents from './service-events.ts';
import * as sync from './sync.ts';
import * as tokens from './tokens.ts';
import * as usernames from './usernames.ts';

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface RouteDoc {
  method: Method;
  /** OpenAPI path syntax: `{param}` segments. */
  path: string;
  summary: string;
  tag: string;
  /** Which key kind the route takes, or none. */
  auth: 'auth' | 'sync' | 'admin' | 'operator' | 'none';
  body?: z.ZodType;
  query?: z.ZodObject;
  /** Reply schemas by status; errors are added from `errors`. */
  replies: Record<number, { description: string; schema?: z.ZodType }>;
  errors?: number[];
}

export const AUTH_ROUTES: RouteDoc[] = [
  {
    method: 'post',
    path: '/v1/challenges',
    summary: 'Make a passcode for one login attempt and send it to the user',
    tag: 'challenges',
    auth: 'auth',
    body: api.ChallengeRequest,
    replies: { 201: { description: 'The challenge', schema: api.ChallengeCreated } },
    errors: [400, 401, 413, 422, 423, 429],
  },
  {
    method: 'post',
    path: '/v1/challenges/{id}/verify',
    summary: 'Check a passcode: accepted once, never again',
    tag: 'challenges',
    auth: 'auth',
    body: api.VerifyRequest,
    replies: { 200: { description: 'accept or reject', schema: api.VerifyReply } },
    errors: [400, 401, 404, 423],
  },
  {
    method: 'post',
    path: '/v1/challenges/{id}/resend',
    summary: 'A new code for the same login; the old challenge dies',
    tag: 'challenges',
    auth: 'auth',
    replies: { 201: { description: 'The new challenge', schema: api.ChallengeCreated } },
    errors: [401, 404, 422, 423, 429],
  },
  {
    method: 'get',
    path: '/v1/challenges/{id}',
    summary: 'Status of a challenge and its deliveries',
    tag: 'challenges',
    auth: 'auth',
    replies: { 200: { description: 'The status', schema: api.ChallengeStatusReply } },
    errors: [401, 404],
  },
];

AUTH_ROUTES.push({
  method: 'get',
  path: '/v1/openapi.json',
  summary: 'This document',
  tag: 'docs',
  auth: 'none',
  replies: { 200: { description: 'OpenAPI 3.1' } },
});

export const ADMIN_SECURITY_ROUTES: RouteDoc[] = [
  {
    method: 'post',
    path: '/v1/keys',
    summary: "Mint an auth, sync or admin key for the caller's tenant; the key is shown only here",
    tag: 'keys',
    auth: 'admin',
    body: keys.KeyCreateRequest,
    replies: { 201: { description: 'The new key', schema: keys.KeyCreated } },
    errors: [400, 401],
  },
  {
    method: 'get',
    path: '/v1/keys',
    summary: "List the tenant's keys by prefix",
    tag: 'keys',
    auth: 'admin',
    query: keys.KeyListQuery,
    replies: { 200: { description: 'The keys, newest first', schema: keys.KeyList } },
    errors: [400, 401],
  },
  {
    method: 'delete',
    path: '/v1/keys/{prefix}',
    summary: 'Revoke a key at once',
    tag: 'keys',
    auth: 'admin',
    replies: { 200: { description: 'Revoked', schema: keys.KeyRevoked } },
    errors: [401, 404, 409],
  },
  {
    method: 'get',
    path: '/v1/lockouts/{username}',
    summary: "A user's lockout state",
    tag: 'lockouts',
    auth: 'admin',
    replies: { 200: { description: 'The state', schema: lockout.LockoutState } },
    errors: [400, 401],
  },
  {
    method: 'delete',
    path: '/v1/lockouts/{username}',
    summary: 'Lift a lock before it lifts by itself',
    tag: 'lockouts',
    auth: 'admin',
    replies: { 204: { description: 'Unlocked' } },
    errors: [401, 404],
  },
  {
    method: 'put',
    path: '/v1/personal-passcodes/{username}',
    summary: "Set a user's personal passcode and the window it is valid in",
    tag: 'lockouts',
    auth: 'admin',
    body: lockout.PersonalPasscodeRequest,
    replies: { 200: { description: 'Set', schema: lockout.PersonalPasscodeSet } },
    errors: [400, 401],
  },
  {
    method: 'delete',
    path: '/v1/personal-passcodes/{username}',
    summary: "Clear a user's personal passcode",
    tag: 'lockouts',
    auth: 'admin',
    replies: { 204: { description: 'Cleared' } },
    errors: [401],
  },
];

const SYNC_ROUTES: RouteDoc[] = [
  {
    method: 'post',
    path: '/v1/sync/runs',
    summary: 'Start a sync run',
    tag: 'sync',
    auth: 'sync',
    body: sync.StartRunRequest,
    replies: {
      201: {
        description: 'The run, and the mode the cloud took it as',
        schema: z.object({ runId: z.string(), mode: sync.SyncMode }),
      },
    },
    errors: [400, 401],
  },
  {
    method: 'put',
    path: '/v1/sync/runs/{runId}/users',
    summary: 'Send a batch of users; every user not taken is reported back',
    tag: 'sync',
    auth: 'sync',
    body: sync.SyncBatch,
    replies: {
      200: {
        description: 'What was taken and what was not',
        schema: z.object({
          accepted: z.int(),
          rejected: z.array(z.object({ id: z.string(), reason: z.string() })),
        }),
      },
    },
    errors: [400, 401, 404, 413],
  },
  {
    method: 'post',
    path: '/v1/sync/runs/{runId}/complete',
    summary:
      'Complete a run: a full run removes the users it did not see (nobody when a batch did not finish); a delta run removes nobody',
    tag: 'sync',
    auth: 'sync',
    replies: {
      200: {
        description: 'The counts',
        schema: z.object({ created: z.int(), updated: z.int(), removed: z.int(), rejected: z.int() }),
      },
      202: {
        description:
          'The removal is large: it runs in the background; poll statusUrl (GET /v1/sync/runs/{runId}) until status is completed',
        schema: z.object({ runId: z.string(), status: z.literal('completing'), statusUrl: z.string() }),
      },
    },
    errors: [401, 404, 409],
  },
  {
    method: 'get',
    path: '/v1/sync/runs',
    summary: 'Sync run history, newest first (admin or sync key)',
    tag: 'sync',
    auth: 'admin',
    query: z.object({ limit: z.int().min(1).max(100).optional(), cursor: z.string().optional() }),
    replies: { 200: { description: 'Runs with mode, status and counts' } },
    errors: [400, 401],
  },
  {
    method: 'get',
    path: '/v1/sync/runs/{runId}',
    summary:
      'One run: status (open, completing, completed), counts, and its newest rejected users with reasons',
    tag: 'sync',
    auth: 'admin',
    replies: { 200: { description: 'The run' } },
    errors: [401, 404],
  },
];

const PASSWORD_ROUTES: RouteDoc[] = [
  {
    method: 'post',
    path: '/v1/password-checks',
    summary:
      "Check a user's AD password through an edge agent (sealed for the agent's key); counted in the user's lockout",
    tag: 'passwords',
    auth: 'auth',
    body: password.PasswordCheckRequest,
    replies: {
      200: { description: 'valid, or invalid with attemptsLeft', schema: password.PasswordCheckReply },
    },
    errors: [400, 401, 423, 429, 503],
  },
  {
    method: 'post',
    path: '/v1/agents/{id}/sync',
    summary: 'Sync now: an ad.sync RPC to the agent; the run reports through the sync API',
    tag: 'agents',
    auth: 'admin',
    body: z.object({ mode: sync.SyncMode.optional() }),
    replies: {
      200: {
        description: "The agent's answer",
        schema: z.object({ agentId: z.string(), started: z.boolean() }),
      },
    },
    errors: [401, 403, 404, 503],
  },
  {
    method: 'post',
    path: '/v1/self/password-reset',
    summary: 'Start a self-service password reset: a passcode goes out through the user’s rule chain',
    tag: 'passwords',
    auth: 'none',
    body: password.ResetStartRequest,
    replies: {
      201: {
        description: 'The reset (the same shape for every name)',
        schema: z.object({
          resetId: z.string(),
          expiresAt: z.string(),
          channel: z.string(),
          destination: z.string(),
        }),
      },
    },
    errors: [400, 401, 423, 429],
  },
  {
    method: 'post',
    path: '/v1/self/password-reset/{resetId}/verify',
    summary: 'Verify the passcode of a reset',
    tag: 'passwords',
    auth: 'none',
    body: password.ResetVerifyRequest,
    replies: { 200: { description: 'accept or reject', schema: api.VerifyReply } },
    errors: [400, 404, 409, 423],
  },
  {
    method: 'post',
    path: '/v1/self/password-reset/{resetId}/password',
    summary:
      'Set the new AD password (once); 422 password_policy carries a reason and a message for the user',
    tag: 'passwords',
    auth: 'none',
    body: password.ResetPasswordRequest,
    replies: { 200: { description: 'Changed', schema: z.object({ result: z.literal('changed') }) } },
    errors: [400, 404, 409, 422, 503],
  },
];

/** Request bodies of the admin collections, by route path and method. */
const ADMIN_BODIES: Array<[Method, string, z.ZodType]> = [
  ['post', '/v1/modem-groups', admin.ModemGroupInput],
  ['put', '/v1/modem-groups/{id}', admin.ModemGroupUpdate],
  ['post', '/v1/providers', admin.ProviderInput],
  ['put', '/v1/providers/{id}', admin.ProviderUpdate],
  ['post', '/v1/load-balancing-policies', admin.LoadBalancingPolicyInput],
  ['put', '/v1/load-balancing-policies/{id}', admin.LoadBalancingPolicyInput],
  ['post', '/v1/group-policies', admin.GroupPolicyInput],
  ['put', '/v1/group-policies/{id}', admin.GroupPolicyInput],
  ['post', '/v1/integration-policies', admin.IntegrationPolicyInput],
  ['put', '/v1/integration-policies/{id}', admin.IntegrationPolicyInput],
  ['patch', '/v1/users/{id}', admin.UserUpdate],
  ['patch', '/v1/settings', admin.TenantSettingsUpdate],
  ['post', '/v1/operator/tenants', admin.TenantInput],
  ['patch', '/v1/operator/tenants/{id}', admin.TenantUpdate],
  ['post', '/v1/operator/admin-accounts', adminAccounts.AdminAccountInput],
  ['post', '/v1/operator/admin-accounts/{email}/reset', adminAccounts.AdminAccountReset],
];

const ADMIN_ROUTES: RouteDoc[] = ADMIN_BODIES.map(([method, path, body]) => ({
  method,
  path,
  summary: `${method.toUpperCase()} ${path}`,
  tag: path.startsWith('/v1/operator') ? 'operator' : 'admin',
  auth: path.startsWith('/v1/operator') ? 'operator' : 'admin',
  body,
  replies: { [method === 'post' ? 201 : 200]: { description: 'The stored object' } },
  errors: [400, 401, 404, 409, 422],
}));

ADMIN_ROUTES.push({
  method: 'get',
  path: '/v1/settings',
  summary:
    "The tenant's own settings, each with where its value comes from (default, operator, tenant), and the operator's ceilings",
  tag: 'admin',
  auth: 'admin',
  replies: { 200: { description: '{"settings":{…},"ceilings":{…},"operatorAllowedCountries":[…]}' } },
  errors: [401, 403],
});

ADMIN_ROUTES.push({
  method: 'get',
  path: '/v1/provider-kinds',
  summary: 'The provider kinds and the parameters each asks for (secret ones are sealed and shown masked)',
  tag: 'admin',
  auth: 'admin',
  replies: { 200: { description: '{"items":[{"kind","channel","title","parameters":[…]}]}' } },
  errors: [401, 403],
});

const TOKEN_ROUTES: RouteDoc[] = [
  {
    method: 'get',
    path: '/v1/tokens',
    summary: "The tenant's OATH tokens (apps and hardware), by state; never a seed",
    tag: 'tokens',
    auth: 'admin',
    query: tokens.TokenListQuery,
    replies: { 200: { description: 'A page of tokens', schema: tokens.TokenList } },
    errors: [400, 401],
  },
  {
    method: 'post',
    path: '/v1/tokens/import',
    summary:
      'Import hardware HOTP/TOTP tokens from a PSKC (RFC 6030) document (Content-Type: application/pskc+xml, at most 1 MiB and 1,000 KeyPackages; X-PSKC-Transport-Key: the pre-shared key in hex when encrypted). All or nothing.',
    tag: 'tokens',
    auth: 'admin',
    replies: { 201: { description: 'The tokens imported, unassigned', schema: tokens.TokensImported } },
    errors: [400, 401, 409, 413, 422],
  },
  {
    method: 'get',
    path: '/v1/users/{username}/tokens',
    summary: "A user's pending and active tokens",
    tag: 'tokens',
    auth: 'admin',
    replies: { 200: { description: 'The tokens', schema: tokens.TokenList } },
    errors: [401, 404],
  },
  {
    method: 'post',
    path: '/v1/users/{username}/tokens',
    summary: 'Assign an unassigned hardware token to the user by serial; it is active at once',
    tag: 'tokens',
    auth: 'admin',
    body: tokens.TokenAssignRequest,
    replies: { 200: { description: 'The token', schema: tokens.TokenView } },
    errors: [400, 401, 404, 409],
  },
  {
    method: 'post',
    path: '/v1/users/{username}/tokens/totp',
    summary:
      'Enrol an authenticator app: the secret, otpauth URI and QR code (SVG) are shown once; pending until confirmed',
    tag: 'tokens',
    auth: 'admin',
    body: tokens.TotpEnrolRequest,
    replies: { 201: { description: 'The enrolment', schema: tokens.TotpEnrolled } },
    errors: [400, 401, 404, 409],
  },
  {
    method: 'post',
    path: '/v1/users/{username}/tokens/{tokenId}/confirm',
    summary: 'Confirm a pending enrolment with its first code',
    tag: 'tokens',
    auth: 'admin',
    body: tokens.TokenConfirmRequest,
    replies: { 200: { description: 'The token, active', schema: tokens.TokenView } },
    errors: [400, 401, 404, 409, 422],
  },
  {
    method: 'post',
    path: '/v1/users/{username}/tokens/{tokenId}/resync',
    summary: 'Resynchronise an HOTP token from two consecutive codes (within 1,000 presses)',
    tag: 'tokens',
    auth: 'admin',
    body: tokens.TokenResyncRequest,
    replies: { 200: { description: 'The token', schema: tokens.TokenView } },
    errors: [400, 401, 404, 422],
  },
  {
    method: 'delete',
    path: '/v1/users/{username}/tokens/{tokenId}',
    summary: 'Revoke a token: its seed is erased; it never verifies or gets assigned again',
    tag: 'tokens',
    auth: 'admin',
    replies: { 204: { description: 'Revoked' } },
    errors: [401, 404],
  },
];

/** The registry: name → module. Exported zod schemas become components; `ROUTES` become paths. */
export const CONTRACT_MODULES: Record<string, Record<string, unknown>> = {
  auth: { ...api, ROUTES: AUTH_ROUTES },
  sync: { ...sync, ROUTES: SYNC_ROUTES },
  admin: { ...admin, ROUTES: ADMIN_ROUTES },
  agents,
  keys: { ...keys, ROUTES: ADMIN_SECURITY_ROUTES },
  lockout,
  messageLog,
  password: { ...password, ROUTES: PASSWORD_ROUTES },
  // The agent RPC's shapes (rpc/req and rpc/res on MQTT, not HTTP): envelopes, replies, errors, sealed secrets.
  rpc: {
    RpcEnvelope: rpc.RpcEnvelope,
    RpcReply: rpc.RpcReply,
    RpcError: rpc.RpcError,
    RpcErrorCode: rpc.RpcErrorCode,
    PasswordPolicyReason: rpc.PasswordPolicyReason,
    Sealed: sealed.Sealed,
  },
  serviceEvents,
  tokens: { ...tokens, ROUTES: TOKEN_ROUTES },
  usernames,
};

/** A served route as the route table lists it (routes.ts `HTTP_ROUTES`). */
export interface ServedRoute {
  method: string;
  path: string;
  fn: string;
}

const ERROR_TEXT: Record<number, string> = {
  400: 'invalid_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  413: 'payload_too_large',
  422: 'no_delivery_route (or another unprocessable request)',
  423: 'user_locked',
  429: 'rate_limited, with Retry-After',
  503: 'directory_unavailable (no agent of the domain online, or no reply before the deadline), with Retry-After',
};

const isSchema = (value: unknown): value is z.ZodType => value instanceof z.ZodType;
const isRoutes = (value: unknown): value is RouteDoc[] =>
  Array.isArray(value) && value.every((r) => r && typeof r === 'object' && 'path' in r && 'method' in r);

function jsonSchema(schema: z.ZodType, io: 'input' | 'output') {
  // `unrepresentable: 'any'` keeps transforms and refinements from failing the whole document.
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  return rest;
}

const KEY_OF_FUNCTION: Record<string, RouteDoc['auth']> = {
  auth: 'auth',
  sync: 'sync',
  admin: 'admin',
  operator: 'operator',
};

export function openApiDocument(
  served: readonly ServedRoute[] = [],
  modules: Record<string, Record<string, unknown>> = CONTRACT_MODULES,
) {
  const schemas: Record<string, unknown> = {};
  const paths: Record<string, Record<string, unknown>> = {};
  const documented = new Set(
    Object.values(modules).flatMap((m) =>
      isRoutes(m.ROUTES) ? m.ROUTES.map((r) => `${r.method} ${r.path}`) : [],
    ),
  );
  const bare: RouteDoc[] = served
    .filter((r) => !documented.has(`${r.method.toLowerCase()} ${r.path}`))
    .map((r) => ({
      method: r.method.toLowerCase() as Method,
      path: r.path,
      summary: `${r.method} ${r.path}`,
      tag: r.fn,
      auth: KEY_OF_FUNCTION[r.fn] ?? 'none',
      replies: { [r.method === 'POST' ? 201 : 200]: { description: 'Success' } },
      errors: [400, 401, 404],
    }));
  modules = { ...modules, served: { ROUTES: bare } };
  for (const [moduleName, mod] of Object.entries(modules)) {
    for (const [exportName, value] of Object.entries(mod)) {
      if (isSchema(value))
        schemas[schemas[exportName] ? `${moduleName}.${exportName}` : exportName] = jsonSchema(
          value,
          'input',
        );
    }
    const routes = mod.ROUTES;
    if (!isRoutes(routes)) continue;
    for (const route of routes) {
      const params = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => ({
        name: m[1],
        in: 'path',
        required: true,
        schema: { type: 'string' },
      }));
      const query = route.query
        ? Object.entries(route.query.shape).map(([name, field]) => ({
            name,
            in: 'query',
            required: !(field as z.ZodType).safeParse(undefined).success,
            schema: jsonSchema(field as z.ZodType, 'input'),
          }))
        : [];
      const responses: Record<string, unknown> = {};
      for (const [status, reply] of Object.entries(route.replies))
        responses[status] = {
          description: reply.description,
          ...(reply.schema && {
            content: { 'application/json': { schema: jsonSchema(reply.schema, 'output') } },
          }),
        };
      for (const status of route.errors ?? [])
        responses[String(status)] = {
          description: ERROR_TEXT[status] ?? 'error',
          content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorReply' } } },
        };
      paths[route.path] ??= {};
      paths[route.path]![route.method] = {
        summary: route.summary,
        tags: [route.tag],
        ...(route.auth !== 'none' && { security: [{ [`${route.auth}Key`]: [] }] }),
        ...((params.length > 0 || query.length > 0) && { parameters: [...params, ...query] }),
        ...(route.body && {
          requestBody: {
            required: true,
            content: { 'application/json': { schema: jsonSchema(route.body, 'input') } },
          },
        }),
        responses,
      };
    }
  }
  const bearer = (kind: string) => ({
    type: 'http',
    scheme: 'bearer',
    description: `A tenant ${kind} key: sp.${kind}.<tenantId>.<secret>`,
  });
  return {
    openapi: '3.1.0',
    info: {
      title: 'smspass',
      version: '1',
      description: 'SMS one-time passcodes: challenge, sync and admin APIs.',
    },
    paths,
    components: {
      schemas,
      securitySchemes: {
        authKey: bearer('auth'),
        syncKey: bearer('sync'),
        adminKey: bearer('admin'),
        operatorKey: bearer('operator'),
      },
    },
  };
}
