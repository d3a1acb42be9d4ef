/**
 * With a data folder, what the start does about steps the previous run left waiting (see ../recovery.ts).
 * It runs once the agents are up, so the steps it sends again can be delivered.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Logger } from '../../adapters/log.ts';
import type { Clock } from '../../core/clock.ts';
import { type RestartRecovery, recoverAfterRestart } from '../recovery.ts';
import type { AwsStandIns } from './aws-stand-ins.ts';
import { finished, type Part } from './part.ts';

export async function sweepAfterRestart(options: {
  aws: Pick<AwsStandIns, 'sqs' | 'queues' | 'dispatchOutbox'> & { dynamo: DynamoDBClient };
  table: string;
  log: Logger;
  clock: Clock | undefined;
}): Promise<{ recovery: RestartRecovery | undefined } & Part> {
  const { aws, log } = options;
  const recovery = aws.dispatchOutbox
    ? await recoverAfterRestart({
        dynamo: aws.dynamo,
        table: options.table,
        sqs: aws.sqs,
        dispatchQueueUrl: aws.queues.dispatch.url,
        outbox: aws.dispatchOutbox,
        log,
        ...(options.clock && { clock: options.clock }),
      })
    : undefined;
  if (recovery && recovery.waiting > 0) log.warn('steps the previous run left waiting', { ...recovery });
  return finished({ recovery });
}
