import { SQSClient } from '@aws-sdk/client-sqs';
import { awsBaseContext, requireEnv } from '../aws-env.ts';
import { ENV } from '../contracts/env.ts';
import { buildEventsHandler } from '../deps.ts';

export const { handler } = buildEventsHandler({
  ...awsBaseContext('events'),
  // A failed job moves the rule chain on by queueing the next step.
  sqs: new SQSClient({}),
  dispatchQueueUrl: requireEnv(ENV.dispatchQueueUrl),
});
