/**
 * AWS list prices, us-east-1 (N. Virginia), on-demand, first pricing tier, in USD. Written from the 2025 price
 * pages, then checked on 2026-11-30 against the stored copies of public pages the project's search tool holds
 * (this machine reaches no public host). Each price says what it was checked against; "unverified" means no
 * page found states it. Third-party pages quote AWS's tables but are not AWS's word: check the AWS pricing pages
 * before quoting a figure outside the project.
 */
export const PRICES = {
  readOn: '2026-11-30 (2025 list prices; see test/bench/prices.ts for what each was checked against)',
  region: 'us-east-1',
  /**
   * HTTP API, per million requests, first 300 M a month (each request metered in 512 KB steps). Checked:
   * third-party summaries of aws.amazon.com/api-gateway/pricing (apigatewaycost.com, awsforengineers.com,
   * amnic.com) and AWS's whitepaper on private APIs (512 KB increments).
   */
  apiGatewayHttpPerMillion: 1.0,
  /**
   * Application Load Balancer: per hour, and per LCU-hour (an LCU: 25 new connections/s, 3,000 active
   * connections, 1 GB processed an hour or 1,000 rule evaluations/s, whichever is most). Checked: a 2026
   * third-party FinOps page (cloud-horizons.com). A Lambda function URL adds no charge to the invocation
   * (unverified here).
   */
  albHour: 0.0225,
  albLcuHour: 0.008,
  /** Checked: a 2026 third-party table (arm64 and x86 alike $0.20 per 1M). */
  lambdaRequestPerMillion: 0.2,
  /** arm64 (the stack's architecture), per GB-second, billed per 1 ms. Checked: the same 2026 table. */
  lambdaArmGbSecond: 0.0000133334,
  /**
   * On-demand, since the November 2024 price cut. Checked: airbyte.com's DynamoDB pricing guide (US East,
   * $0.625 WRU, $0.125 RRU). Older copies of third-party pages still show the pre-cut $1.25 / $0.25 (some
   * regions higher): the cut is AWS's announcement, not re-read here.
   */
  dynamoWriteUnitPerMillion: 0.625,
  dynamoReadUnitPerMillion: 0.125,
  /** Table and index storage, per GB-month (each item and index entry counts 100 bytes). Unverified. */
  dynamoStorageGbMonth: 0.25,
  /** Standard queue, per million requests; each 64 KB of a payload is one request. Unverified. */
  sqsRequestPerMillion: 0.4,
  /**
   * Messages published to or delivered by the broker, each 5 KB step one message. The 5 KB metering of both
   * directions is checked (aws.amazon.com/iot-core/pricing/additional-details); the $1.00 per million is
   * unverified (the stored pricing page shows the free tier, not the rate).
   */
  iotMessagePerMillion: 1.0,
  /** Unverified. */
  iotRuleTriggeredPerMillion: 0.15,
  /** Unverified. */
  iotRuleActionPerMillion: 0.15,
  /** Amazon SES, per 1,000 e-mails sent from an AWS service (outbound, no dedicated IP). Unverified. */
  sesPerThousandEmails: 0.1,
  /** Ingestion, per GB. Checked: a third-party API Gateway cost guide quotes CloudWatch Logs at $0.50/GB. */
  logsIngestedPerGb: 0.5,
  /** Unverified. */
  logsStoredGbMonth: 0.03,
} as const;
