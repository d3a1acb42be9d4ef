import { IoTClient } from '@aws-sdk/client-iot';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSEvent } from 'aws-lambda';
import { handle } from 'hono/aws-lambda';
import { DynamoDirectoryStore } from '../adapters/dynamo/directory-store.ts';
import { IotAgentSessions } from '../adapters/iot/iot-identities.ts';
import { awsBaseContext, requireEnv } from '../aws-env.ts';
import { ENV } from '../contracts/env.ts';
import { buildOperatorFunction } from '../deps.ts';
import { batchHandler } from '../queue/batch.ts';
import { publishBatchMetrics } from '../queue/metrics.ts';
import { operatorJobHandler, operatorJobSender } from './jobs.ts';

const ctx = awsBaseContext('operator');
const sqs = new SQSClient({});
const sendJob = operatorJobSender(sqs, requireEnv(ENV.jobsQueueUrl));

// A tenant purge can take longer than API Gateway waits (30 s): the delete queues it, this function runs it,
// as it runs the removals of large sync `complete`s that the sync function queues.
const { app, tenants, sync } = buildOperatorFunction({
  ...ctx,
  // Suspension deactivates the tenant's agents' certificates (IoT Core then drops them); resume reactivates.
  agentSessions: new IotAgentSessions(new IoTClient({}), new DynamoDirectoryStore(ctx.dynamo, ctx.table)),
  schedulePurge: (tenantId) => sendJob({ kind: 'tenant.purge', tenantId }),
});

const http = handle(app);
const jobs = batchHandler(operatorJobHandler({ tenants, sync }), ctx.log, {
  retry: { sqs },
  onBatch: publishBatchMetrics(),
});

type HttpEvent = Parameters<typeof http>[0];

export const handler = (event: HttpEvent | SQSEvent, context: Context) =>
  'Records' in event ? jobs(event) : http(event, context);
