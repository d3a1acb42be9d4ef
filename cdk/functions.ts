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
  /** Challenge API (hono behind API Gateway). Later: the sync, admin and operator APIs get their own functions. */
  auth: { entry: 'functions/auth/lambda.ts', memoryMiB: 512, timeoutSeconds: 10 },
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

/**
 * Every route of the HTTP API. Later issues add theirs here:
 * sync (`/v1/sync/...`), admin (`/admin/...`), operator (`/operator/...`), self-service portal.
 */
export const HTTP_ROUTES: readonly HttpRouteSpec[] = [
  { method: 'POST', path: '/v1/challenges', fn: 'auth' },
  { method: 'POST', path: '/v1/challenges/{id}/verify', fn: 'auth' },
  { method: 'GET', path: '/v1/challenges/{id}', fn: 'auth' },
];

/** Environment variable names the functions read their wiring from. */
export const ENV = {
  tableName: 'TABLE_NAME',
  dispatchQueueUrl: 'DISPATCH_QUEUE_URL',
  iotEndpoint: 'IOT_ENDPOINT',
  secretArn: 'SECRET_ARN',
} as const;

export const EDGE_AGENT = {
  entry: 'edge-agent/cli.ts',
  /** systemd unit shipped inside the agent folder. */
  serviceUnit: 'edge-agent/packaging/smspass-edge-agent.service',
  /** Native modules: they stay outside the bundle and are installed on the box by `npm install`. */
  nativeDependencies: ['serialport'],
} as const;
