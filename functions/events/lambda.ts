import { SQSClient } from '@aws-sdk/client-sqs';
import { awsBaseContext, requireEnv } from '../aws-env.ts';
import { ENV } from '../contracts/env.ts';
import { buildEventsHandler } from '../deps.ts';
import { publishBatchMetrics } from '../queue/metrics.ts';

export const { handler } = buildEventsHandler({
  ...awsBaseContext('events'),
  stage: requireEnv(ENV.stage),
  // A failed job moves the rule chain on by queueing the next step.
  sqs: new SQSClient({}),
  dispatchQueueUrl: requireEnv(ENV.dispatchQueueUrl),
  // Failed records are answered in batchItemFailures, which the Lambda Errors metric never counts.
  onBatch: publishBatchMetrics(),
});
