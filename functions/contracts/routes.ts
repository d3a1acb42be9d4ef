/**
 * The HTTP route table: which function answers each route. API Gateway is configured from it (cdk/stack.ts),
 * the local stack routes by it (functions/local/http-router.ts) and the OpenAPI document lists it, so the
 * three cannot disagree about what is served.
 */

/**
 * Every deployable function. cdk/functions.ts gives each its entry and sizing; the route table below names
 * the HTTP ones.
 */
export const FUNCTION_NAMES = [
  'auth',
  'sync',
  'admin',
  'operator',
  'selfservice',
  'dispatch',
  'events',
  'web',
] as const;

export type FunctionName = (typeof FUNCTION_NAMES)[number];

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface HttpRouteSpec {
  method: HttpMethod;
  /** API Gateway path syntax: `{param}` segments; a last `{proxy+}` takes the rest of the path. */
  path: string;
  fn: FunctionName;
}

/** List, create, view, replace and delete: the routes of one admin collection. */
const collection = (base: string): HttpRouteSpec[] => [
  { method: 'GET', path: base, fn: 'admin' },
  { method: 'POST', path: base, fn: 'admin' },
  { method: 'GET', path: `${base}/{id}`, fn: 'admin' },
  { method: 'PUT', path: `${base}/{id}`, fn: 'admin' },
  { method: 'DELETE', path: `${base}/{id}`, fn: 'admin' },
];

/** A section of pages: its root and everything under it, read and posted. */
const pages = (base: string): HttpRouteSpec[] =>
  [base, `${base}/{proxy+}`].flatMap((path) => [
    { method: 'GET', path, fn: 'web' } as const,
    { method: 'POST', path, fn: 'web' } as const,
  ]);

/**
 * Every route of the HTTP API; the local stack serves exactly these too. A route an app serves but this table
 * lacks is unreachable in AWS: test/functions/routes.test.ts keeps the two in step.
 */
export const HTTP_ROUTES: readonly HttpRouteSpec[] = [
  { method: 'POST', path: '/v1/challenges', fn: 'auth' },
  { method: 'POST', path: '/v1/challenges/{id}/verify', fn: 'auth' },
  { method: 'GET', path: '/v1/challenges/{id}', fn: 'auth' },
  { method: 'POST', path: '/v1/challenges/{id}/resend', fn: 'auth' },
  // AD password checks through an edge agent: functions/auth/password-check-routes.ts.
  { method: 'POST', path: '/v1/password-checks', fn: 'auth' },

  { method: 'POST', path: '/v1/sync/runs', fn: 'sync' },
  { method: 'PUT', path: '/v1/sync/runs/{runId}/users', fn: 'sync' },
  { method: 'POST', path: '/v1/sync/runs/{runId}/complete', fn: 'sync' },
  // Run history (admin or sync key) and a large complete's status: functions/sync/app.ts.
  { method: 'GET', path: '/v1/sync/runs', fn: 'sync' },
  { method: 'GET', path: '/v1/sync/runs/{runId}', fn: 'sync' },

  ...collection('/v1/modem-groups'),
  ...collection('/v1/providers'),
  { method: 'GET', path: '/v1/provider-kinds', fn: 'admin' },
  ...collection('/v1/load-balancing-policies'),
  ...collection('/v1/group-policies'),
  ...collection('/v1/integration-policies'),
  { method: 'GET', path: '/v1/users', fn: 'admin' },
  { method: 'GET', path: '/v1/users/{id}', fn: 'admin' },
  { method: 'PATCH', path: '/v1/users/{id}', fn: 'admin' },
  { method: 'DELETE', path: '/v1/users/{id}', fn: 'admin' },
  { method: 'POST', path: '/v1/users/{id}/lock', fn: 'admin' },
  { method: 'POST', path: '/v1/users/{id}/unlock', fn: 'admin' },
  { method: 'DELETE', path: '/v1/users/{id}/pin', fn: 'admin' },
  // Enrolment links to the self-service portal: functions/admin/enrolment-link-routes.ts.
  { method: 'POST', path: '/v1/users/{id}/enrolment-links', fn: 'admin' },
  { method: 'GET', path: '/v1/users/{id}/effective-settings', fn: 'admin' },
  { method: 'GET', path: '/v1/audit', fn: 'admin' },
  // The tenant's own settings: functions/admin/settings-routes.ts.
  { method: 'GET', path: '/v1/settings', fn: 'admin' },
  { method: 'PATCH', path: '/v1/settings', fn: 'admin' },
  // The message log: functions/admin/message-log-routes.ts.
  { method: 'GET', path: '/v1/message-log', fn: 'admin' },
  { method: 'PUT', path: '/v1/message-log/retention', fn: 'admin' },
  // The service-status log: functions/admin/service-event-routes.ts.
  { method: 'GET', path: '/v1/service-events', fn: 'admin' },
  // The username setting: functions/admin/username-routes.ts.
  { method: 'GET', path: '/v1/settings/usernames', fn: 'admin' },
  { method: 'PUT', path: '/v1/settings/usernames', fn: 'admin' },
  // The OpenAPI document, keys, lockouts and personal passcodes: functions/http/openapi-route.ts,
  // functions/admin/key-routes.ts and lockout-routes.ts.
  { method: 'GET', path: '/v1/openapi.json', fn: 'admin' },
  { method: 'GET', path: '/v1/keys', fn: 'admin' },
  { method: 'POST', path: '/v1/keys', fn: 'admin' },
  { method: 'DELETE', path: '/v1/keys/{prefix}', fn: 'admin' },
  { method: 'GET', path: '/v1/lockouts/{username}', fn: 'admin' },
  { method: 'DELETE', path: '/v1/lockouts/{username}', fn: 'admin' },
  { method: 'PUT', path: '/v1/personal-passcodes/{username}', fn: 'admin' },
  { method: 'DELETE', path: '/v1/personal-passcodes/{username}', fn: 'admin' },
  // OATH tokens: functions/admin/token-routes.ts.
  { method: 'GET', path: '/v1/tokens', fn: 'admin' },
  { method: 'POST', path: '/v1/tokens/import', fn: 'admin' },
  { method: 'GET', path: '/v1/users/{username}/tokens', fn: 'admin' },
  { method: 'POST', path: '/v1/users/{username}/tokens', fn: 'admin' },
  { method: 'POST', path: '/v1/users/{username}/tokens/totp', fn: 'admin' },
  { method: 'POST', path: '/v1/users/{username}/tokens/{tokenId}/confirm', fn: 'admin' },
  { method: 'POST', path: '/v1/users/{username}/tokens/{tokenId}/resync', fn: 'admin' },
  { method: 'DELETE', path: '/v1/users/{username}/tokens/{tokenId}', fn: 'admin' },

  // Edge agents and their enrolment: functions/admin/agent-routes.ts.
  { method: 'GET', path: '/v1/agents', fn: 'admin' },
  { method: 'POST', path: '/v1/agents', fn: 'admin' },
  { method: 'GET', path: '/v1/agents/{id}', fn: 'admin' },
  { method: 'PATCH', path: '/v1/agents/{id}', fn: 'admin' },
  { method: 'DELETE', path: '/v1/agents/{id}', fn: 'admin' },
  { method: 'POST', path: '/v1/agents/{id}/enrolment', fn: 'admin' },
  // Sync now through the agent's RPC topic: functions/admin/sync-now-routes.ts.
  { method: 'POST', path: '/v1/agents/{id}/sync', fn: 'admin' },
  { method: 'POST', path: '/v1/enrolments', fn: 'admin' },

  { method: 'GET', path: '/v1/operator/tenants', fn: 'operator' },
  { method: 'POST', path: '/v1/operator/tenants', fn: 'operator' },
  { method: 'GET', path: '/v1/operator/tenants/{id}', fn: 'operator' },
  { method: 'PATCH', path: '/v1/operator/tenants/{id}', fn: 'operator' },
  { method: 'DELETE', path: '/v1/operator/tenants/{id}', fn: 'operator' },
  { method: 'GET', path: '/v1/operator/tenants/{id}/deletion', fn: 'operator' },
  { method: 'POST', path: '/v1/operator/tenants/{id}/suspend', fn: 'operator' },
  { method: 'POST', path: '/v1/operator/tenants/{id}/resume', fn: 'operator' },
  { method: 'GET', path: '/v1/operator/tenants/{id}/usage', fn: 'operator' },
  { method: 'GET', path: '/v1/operator/audit', fn: 'operator' },
  // Console accounts: functions/operator/admin-account-routes.ts.
  { method: 'GET', path: '/v1/operator/admin-accounts', fn: 'operator' },
  { method: 'POST', path: '/v1/operator/admin-accounts', fn: 'operator' },
  { method: 'POST', path: '/v1/operator/admin-accounts/{email}/disable', fn: 'operator' },
  { method: 'POST', path: '/v1/operator/admin-accounts/{email}/enable', fn: 'operator' },
  { method: 'POST', path: '/v1/operator/admin-accounts/{email}/reset', fn: 'operator' },

  // The self-service JSON API: functions/selfservice/app.ts.
  { method: 'POST', path: '/v1/self/sign-in', fn: 'selfservice' },
  { method: 'POST', path: '/v1/self/sign-in/{id}/verify', fn: 'selfservice' },
  { method: 'POST', path: '/v1/self/enrolment-links/redeem', fn: 'selfservice' },
  { method: 'DELETE', path: '/v1/self/session', fn: 'selfservice' },
  { method: 'GET', path: '/v1/self/profile', fn: 'selfservice' },
  { method: 'PATCH', path: '/v1/self/profile', fn: 'selfservice' },
  { method: 'POST', path: '/v1/self/number-changes', fn: 'selfservice' },
  { method: 'POST', path: '/v1/self/number-changes/{id}/confirm', fn: 'selfservice' },
  { method: 'PUT', path: '/v1/self/personal-passcode', fn: 'selfservice' },
  { method: 'DELETE', path: '/v1/self/personal-passcode', fn: 'selfservice' },
  { method: 'PUT', path: '/v1/self/pin', fn: 'selfservice' },
  { method: 'POST', path: '/v1/self/authenticator', fn: 'selfservice' },
  { method: 'POST', path: '/v1/self/authenticator/{tokenId}/confirm', fn: 'selfservice' },
  // The AD password reset: functions/selfservice/password-reset-routes.ts.
  { method: 'POST', path: '/v1/self/password-reset', fn: 'selfservice' },
  { method: 'POST', path: '/v1/self/password-reset/{resetId}/verify', fn: 'selfservice' },
  { method: 'POST', path: '/v1/self/password-reset/{resetId}/password', fn: 'selfservice' },

  // Server-rendered pages and their bundled scripts and styles: functions/web/app.tsx. Forms post to the page
  // that shows them, so each page path takes GET and POST.
  ...pages('/admin'),
  ...pages('/portal'),
  { method: 'GET', path: '/assets/{proxy+}', fn: 'web' },
];
