/**
 * DynamoDB and SQS for the local stack: dynalite and fauxqs (in this thread or a worker), the SDK clients the
 * functions use against them, the table and the queues the CDK stack makes, and, with a data folder, the
 * dispatch outbox that makes up for fauxqs keeping messages in memory only.
 */
import { join } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Logger } from '../../adapters/log.ts';
import { localDynamo, localSqs } from '../aws-local.ts';
import type { DataFolder } from '../data-folder.ts';
import { DispatchOutbox } from '../dispatch-outbox.ts';
import { ensureTable } from '../dynamo.ts';
import { createQueueWithDlq, type QueuePair } from '../sqs.ts';
import { startStandIns } from '../stand-ins.ts';
import { type Part, startPart } from './part.ts';

export interface AwsStandIns extends Part {
  dynamo: DynamoDBClient;
  sqs: SQSClient;
  dynamoEndpoint: string;
  sqsEndpoint: string;
  queues: { dispatch: QueuePair; events: QueuePair };
  /** Only with a persistent data folder. */
  dispatchOutbox: DispatchOutbox | undefined;
}

export function startAwsStandIns(options: {
  folder: DataFolder;
  table: string;
  ports: { dynamo: number; sqs: number };
  worker: boolean;
  queues: { visibilityTimeoutSeconds?: number; maxReceiveCount?: number } | undefined;
  log: Logger;
}): Promise<AwsStandIns> {
  const { folder } = options;
  return startPart(options.log, async (stops) => {
    const standIns = await startStandIns({
      dynamoPort: options.ports.dynamo,
      sqsPort: options.ports.sqs,
      ...(folder.persistent && { dynamoPath: join(folder.dir, 'dynamo') }),
      worker: options.worker,
    });
    stops.push(() => standIns.close());
    const dynamo = localDynamo(standIns.dynamoEndpoint);
    stops.push(async () => dynamo.destroy());
    await ensureTable(dynamo, options.table);

    const sqs = localSqs(standIns.sqsEndpoint);
    stops.push(async () => sqs.destroy());
    const dispatch = await createQueueWithDlq(sqs, 'smspass-dispatch', options.queues);
    const events = await createQueueWithDlq(sqs, 'smspass-events', options.queues);
    // fauxqs forgets its messages when the process dies: a copy on disk lets a restart send them again.
    const dispatchOutbox = folder.persistent ? DispatchOutbox.open(folder.dir) : undefined;
    if (dispatchOutbox) {
      dispatchOutbox.attach(sqs, dispatch.url);
      stops.push(async () => dispatchOutbox.close());
    }
    return {
      dynamo,
      sqs,
      dynamoEndpoint: standIns.dynamoEndpoint,
      sqsEndpoint: standIns.sqsEndpoint,
      queues: { dispatch, events },
      dispatchOutbox,
    };
  });
}
