import { SQSClient } from '@aws-sdk/client-sqs';
import { handle } from 'hono/aws-lambda';
import { awsContext, requireEnv } from '../aws-env.ts';
import { buildAuthApp } from '../deps.ts';

const app = buildAuthApp({
  ...(await awsContext('auth')),
  sqs: new SQSClient({}),
  dispatchQueueUrl: requireEnv('DISPATCH_QUEUE_URL'),
});

export const handler = handle(app);
