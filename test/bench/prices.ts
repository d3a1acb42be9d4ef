/**
 * AWS list prices, us-east-1 (N. Virginia), on-demand, first pricing tier, in USD. Read from the AWS pricing
 * pages as known in 2025 and written down here on 2026-11-30 without a live check (this machine reaches no
 * public host): check them against the pricing pages before quoting a figure outside the project.
 */
export const PRICES = {
  readOn: '2026-11-30 (2025 list prices, not re-checked live)',
  region: 'us-east-1',
  /** HTTP API, per million requests (each request metered in 512 KB steps). */
  apiGatewayHttpPerMillion: 1.0,
  lambdaRequestPerMillion: 0.2,
  /** arm64 (the stack's architecture), per GB-second, billed per 1 ms. */
  lambdaArmGbSecond: 0.0000133334,
  /** On-demand, since the November 2024 price cut. */
  dynamoWriteUnitPerMillion: 0.625,
  dynamoReadUnitPerMillion: 0.125,
  /** Table and index storage, per GB-month (each item and index entry counts 100 bytes of overhead). */
  dynamoStorageGbMonth: 0.25,
  /** Standard queue, per million requests; each 64 KB of a payload is one request. */
  sqsRequestPerMillion: 0.4,
  /** Messages published to or delivered by the broker, each 5 KB step one message. */
  iotMessagePerMillion: 1.0,
  iotRuleTriggeredPerMillion: 0.15,
  iotRuleActionPerMillion: 0.15,
  logsIngestedPerGb: 0.5,
  logsStoredGbMonth: 0.03,
} as const;
