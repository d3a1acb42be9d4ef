import { SQSClient } from '@aws-sdk/client-sqs';
import { handle } from 'hono/aws-lambda';
import { awsBaseContext, requireEnv } from '../aws-env.ts';
import { ENV } from '../contracts/env.ts';
import { buildSyncFunction } from '../directory-deps.ts';
import { operatorJobSender } from '../operator/jobs.ts';

const sendJob = operatorJobSender(new SQSClient({}), requireEnv(ENV.jobsQueueUrl));

// A large `complete` removes its users from the jobs queue (the operator function runs it): work left running
// after the response would stall whenever Lambda froze this function between requests.
export const handler = handle(
  buildSyncFunction({
    ...awsBaseContext('sync'),
    scheduleRemoval: (tenantId, runId, actor) => sendJob({ kind: 'sync.complete', tenantId, runId, actor }),
  }).app,
);
