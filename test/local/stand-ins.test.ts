import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { localDynamo, localSqs } from '../../functions/local/aws-local.ts';
import { ensureTable } from '../../functions/local/dynamo.ts';
import { createQueueWithDlq } from '../../functions/local/sqs.ts';
import { startStandIns } from '../../functions/local/stand-ins.ts';

describe('the DynamoDB and SQS stand-ins', () => {
  for (const worker of [false, true]) {
    it(`serve the table and queues ${worker ? 'from a worker thread' : 'in this thread'}`, async () => {
      const standIns = await startStandIns({ worker });
      const dynamo = localDynamo(standIns.dynamoEndpoint);
      const sqs = localSqs(standIns.sqsEndpoint);
      try {
        expect(standIns.dynamoEndpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
        await ensureTable(dynamo, 'smspass');
        expect((await dynamo.send(new ListTablesCommand({}))).TableNames).toEqual(['smspass']);
        const { url } = await createQueueWithDlq(sqs, 'q');
        expect((await sqs.send(new GetQueueUrlCommand({ QueueName: 'q' }))).QueueUrl).toBe(url);
      } finally {
        dynamo.destroy();
        sqs.destroy();
        await standIns.close();
      }
    });
  }
});
