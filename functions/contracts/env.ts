/**
 * The environment variables the Lambda functions read their wiring from. cdk/stack.ts sets them by these
 * names and functions/aws-env.ts reads them by the same names, so a rename on one side cannot leave the other
 * reading a variable nobody sets.
 */
export const ENV = {
  tableName: 'TABLE_NAME',
  dispatchQueueUrl: 'DISPATCH_QUEUE_URL',
  iotEndpoint: 'IOT_ENDPOINT',
  secretArn: 'SECRET_ARN',
  /** The KMS key that seals provider credentials and TOTP secrets. */
  credentialKeyArn: 'CREDENTIAL_KEY_ARN',
  /** The IoT policy enrolment attaches to each agent's certificate. */
  agentPolicyName: 'AGENT_POLICY_NAME',
  /** The operator's background jobs (tenant purges), consumed by the operator function itself. */
  jobsQueueUrl: 'JOBS_QUEUE_URL',
  /** The stage (`dev`, `prod`, …): the agents' topics and thing names carry it (contracts/topics.ts). */
  stage: 'STAGE',
  /** The portal's base URL (`…/portal`): the admin API's enrolment links lead there. */
  portalUrl: 'PORTAL_URL',
  /** The logger's threshold; the stack leaves it unset, which means `info`. */
  logLevel: 'LOG_LEVEL',
} as const;

export type EnvName = (typeof ENV)[keyof typeof ENV];
