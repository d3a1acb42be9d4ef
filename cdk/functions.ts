/**
 * The one list of deployable code: every Lambda function, its entry and its sizing, plus the edge agent
 * bundle. The build (cdk/build.ts), the stack (cdk/stack.ts) and the bundle benchmark all read it. The route
 * table and the environment variable names are shared with the runtime, so they live in functions/contracts/
 * (the runtime never imports cdk/) and are re-exported here for the deployment code.
 */
import type { FunctionName } from '../functions/contracts/routes.ts';

export { ENV, type EnvName } from '../functions/contracts/env.ts';
export {
  FUNCTION_NAMES,
  type FunctionName,
  HTTP_ROUTES,
  type HttpMethod,
  type HttpRouteSpec,
} from '../functions/contracts/routes.ts';

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
  /**
   * Self-service JSON API: portal sign-in by passcode, the user's own numbers, passcode and app, and the AD
   * password reset, which waits up to 15 s for the agent: the function must outlive that wait (API Gateway's
   * own limit is 30 s), or a slow DC leaves the reset stuck mid-way with no answer to the user.
   */
  selfservice: { entry: 'functions/selfservice/lambda.ts', memoryMiB: 512, timeoutSeconds: 30 },
  /** Consumer of the dispatch queue: runs rule chains and publishes jobs to agents over IoT Core. */
  dispatch: { entry: 'functions/dispatch/lambda.ts', memoryMiB: 256, timeoutSeconds: 30 },
  /** Consumer of the events queue: job receipts, modem health, RPC replies from agents. */
  events: { entry: 'functions/events/lambda.ts', memoryMiB: 256, timeoutSeconds: 30 },
  /**
   * Server-rendered console and portal pages with their bundled scripts and styles. The memory is for scrypt at
   * sign-in (32 MiB a hash) and the CPU share that comes with it.
   */
  web: { entry: 'functions/web/lambda.ts', memoryMiB: 512, timeoutSeconds: 30 },
} as const satisfies Record<FunctionName, FunctionSpec>;

export const EDGE_AGENT = {
  entry: 'edge-agent/cli.ts',
  /** systemd unit shipped inside the agent folder. */
  serviceUnit: 'edge-agent/packaging/smspass-edge-agent.service',
  /** Native modules: they stay outside the bundle and are installed on the box by `npm install`. */
  nativeDependencies: ['serialport'],
} as const;
