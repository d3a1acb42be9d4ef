/**
 * The one list of deployable code: every Lambda function, its entry, its sizing and its HTTP routes, plus the
 * edge agent bundle. The build (cdk/build.ts), the stack (cdk/stack.ts) and the bundle benchmark all read it,
 * so a function added by a later issue is added here first.
 */

export interface FunctionSpec {
  /** Entry module, relative to the repository root; it exports `handler`. */
  entry: string;
  memoryMiB: number;
  timeoutSeconds: number;
}

export const FUNCTIONS = {
  /** Challenge API (hono behind API Gateway). */
  auth: { entry: 'functions/auth/lambda.ts', memoryMiB: 512, timeoutSeconds: 10 },
  /** AD sync API: batches of up to 1,000 users, each a few hundred conditional writes. */
  sync: { entry: 'functions/sync/lambda.ts', memoryMiB: 1024, timeoutSeconds: 60 },
  /** Tenant admin API: policies, modem groups, providers, users, audit log. */
  admin: { entry: 'functions/admin/lambda.ts', memoryMiB: 512, timeoutSeconds: 30 },
  /** Operator API: tenants, limits, usage, suspension. Deleting a tenant purges its partition. */
  operator: { entry: 'functions/operator/lambda.ts', memoryMiB: 512, timeoutSeconds: 300 },
  /** Consumer of the dispatch queue: runs rule chains and publishes jobs to agents over IoT Core. */
  dispatch: { entry: 'functions/dispatch/lambda.ts', memoryMiB: 256, timeoutSeconds: 30 },
  /** Consumer of the events queue: job receipts, modem health, RPC replies from agents. */
  events: { entry: 'functions/events/lambda.ts', memoryMiB: 256, timeoutSeconds: 30 },
} as const satisfies Record<string, FunctionSpec>;

export type FunctionName = keyof typeof FUNCTIONS;

export const FUNCTION_NAMES = Object.keys(FUNCTIONS) as FunctionName[];

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface HttpRouteSpec {
  method: HttpMethod;
  /** API Gateway path syntax: `{param}` segments. */
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

/**
 * Every route of the HTTP API; the local stack serves exactly these too. Later issues add theirs here
 * (self-service portal, admin console pages).
 */
export const HTTP_ROUTES: readonly HttpRouteSpec[] = [
  { method: 'POST', path: '/v1/challenges', fn: 'auth' },
  { method: 'POST', path: '/v1/challenges/{id}/verify', fn: 'auth' },
  { method: 'GET', path: '/v1/challenges/{id}', fn: 'auth' },
  { method: 'POST', path: '/v1/challenges/{id}/resend', fn: 'auth' },

  { method: 'POST', path: '/v1/sync/runs', fn: 'sync' },
  { method: 'PUT', path: '/v1/sync/runs/{runId}/users', fn: 'sync' },
  { method: 'POST', path: '/v1/sync/runs/{runId}/complete', fn: 'sync' },

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
  { method: 'GET', path: '/v1/users/{id}/effective-settings', fn: 'admin' },
  { method: 'GET', path: '/v1/audit', fn: 'admin' },
  // The message log (issue 5): functions/admin/message-log-routes.ts.
  { method: 'GET', path: '/v1/message-log', fn: 'admin' },
  { method: 'PUT', path: '/v1/message-log/retention', fn: 'admin' },
  // Keys, lockouts and personal passcodes (issue 3): functions/admin/key-routes.ts and lockout-routes.ts.
  { method: 'GET', path: '/v1/openapi.json', fn: 'admin' },
  { method: 'GET', path: '/v1/keys', fn: 'admin' },
  { method: 'POST', path: '/v1/keys', fn: 'admin' },
  { method: 'DELETE', path: '/v1/keys/{prefix}', fn: 'admin' },
  { method: 'GET', path: '/v1/lockouts/{username}', fn: 'admin' },
  { method: 'DELETE', path: '/v1/lockouts/{username}', fn: 'admin' },
  { method: 'PUT', path: '/v1/personal-passcodes/{username}', fn: 'admin' },
  { method: 'DELETE', path: '/v1/personal-passcodes/{username}', fn: 'admin' },

  { method: 'GET', path: '/v1/operator/tenants', fn: 'operator' },
  { method: 'POST', path: '/v1/operator/tenants', fn: 'operator' },
  { method: 'GET', path: '/v1/operator/tenants/{id}', fn: 'operator' },
  { method: 'PATCH', path: '/v1/operator/tenants/{id}', fn: 'operator' },
  { method: 'DELETE', path: '/v1/operator/tenants/{id}', fn: 'operator' },
  { method: 'POST', path: '/v1/operator/tenants/{id}/suspend', fn: 'operator' },
  { method: 'POST', path: '/v1/operator/tenants/{id}/resume', fn: 'operator' },
  { method: 'GET', path: '/v1/operator/tenants/{id}/usage', fn: 'operator' },
  { method: 'GET', path: '/v1/operator/audit', fn: 'operator' },
];

/** Environment variable names the functions read their wiring from. */
export const ENV = {
  tableName: 'TABLE_NAME',
  dispatchQueueUrl: 'DISPATCH_QUEUE_URL',
  iotEndpoint: 'IOT_ENDPOINT',
  secretArn: 'SECRET_ARN',
  /** The KMS key that seals provider credentials and TOTP secrets (issue 5). */
  credentialKeyArn: 'CREDENTIAL_KEY_ARN',
} as const;

export const EDGE_AGENT = {
  entry: 'edge-agent/cli.ts',
  /** systemd unit shipped inside the agent folder. */
  serviceUnit: 'edge-agent/packaging/smspass-edge-agent.service',
  /** Native modules: they stay outside the bundle and are installed on the box by `npm install`. */
  nativeDependencies: ['serialport'],
} as const;
