/**
 * A record that failed on a passing error comes back in seconds, not after the queue's visibility timeout
 * (180 s for dispatch in AWS: a passcode minutes late). The queues here keep the stack's 180 s, so a record
 * that waited for it would time the test out: it passes only because the handler shortened the wait.
 */
import { randomBytes } from 'node:crypto';
import { GetQueueAttributesCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../functions/adapters/log.ts';
import { buildDispatchHandler } from '../../functions/deps.ts';
import { localSqs } from '../../functions/local/aws-local.ts';
import { SqsPoller } from '../../functions/local/poller.ts';
import { createQueueWithDlq, type LocalSqs, startFauxqs } from '../../functions/local/sqs.ts';
import { batchHandler, defaultBackoffSeconds } from '../../functions/queue/batch.ts';
import { emfLine } from '../../functions/queue/metrics.ts';
import { type CloudFixture, startCloud, TABLE } from '../support/cloud.ts';

const STACK_VISIBILITY_SECONDS = 180;
const log = createLogger({}, { write: () => {} });

let fauxqs: LocalSqs;
let sqs: SQSClient;
beforeAll(async () => {
  fauxqs = await startFauxqs();
  sqs = localSqs(fauxqs.endpoint);
});
afterAll(async () => {
  sqs?.destroy();
  await fauxqs?.close();
});

/** Polls `queueUrl` as Lambda's event source mapping would, with the ARN as the records' source. */
async function consume(queueUrl: string, handler: (event: SQSEvent) => Promise<SQSBatchResponse>) {
  const attrs = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
  );
  return new SqsPoller({
    client: sqs,
    queueUrl,
    queueArn: attrs.Attributes!.QueueArn!,
    handler,
    log,
    waitSeconds: 1,
    concurrency: 1,
  }).start();
}

describe('a failed queue record', () => {
  it('is retried within seconds after a transient failure, then succeeds', async () => {
    const { url } = await createQueueWithDlq(sqs, `retry-${randomBytes(4).toString('hex')}`, {
      visibilityTimeoutSeconds: STACK_VISIBILITY_SECONDS,
    });
    const receives: number[] = [];
    let done!: () => void;
    const finished = new Promise<void>((resolve) => {
      done = resolve;
    });
    const counts: Array<{ records: number; failed: number }> = [];
    const handler = batchHandler(
      async (record) => {
        const receive = Number(record.attributes.ApproximateReceiveCount);
        receives.push(receive);
        // The provider or IoT Core refused once: the next try works.
        if (receive === 1) throw new Error('ECONNRESET');
        done();
      },
      log,
      { retry: { sqs }, onBatch: (c) => counts.push(c) },
    );
    const poller = await consume(url, handler);
    try {
      await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: '{"n":1}' }));
      await finished;
    } finally {
      await poller.stop();
    }
    expect(receives).toEqual([1, 2]);
    // Each batch's counts go to the metric line, failed ones included.
    expect(counts).toEqual([
      { records: 1, failed: 1 },
      { records: 1, failed: 0 },
    ]);
  });

  it('comes back in seconds to the real dispatch handler too', async () => {
    const cloud: CloudFixture = await startCloud();
    const { url } = await createQueueWithDlq(cloud.sqs, `dispatch-${randomBytes(4).toString('hex')}`, {
      visibilityTimeoutSeconds: STACK_VISIBILITY_SECONDS,
    });
    const seen: number[] = [];
    let twice!: () => void;
    const second = new Promise<void>((resolve) => {
      twice = resolve;
    });
    const { handler } = buildDispatchHandler({
      dynamo: cloud.dynamo,
      table: TABLE,
      keys: cloud.keys,
      log,
      sqs: cloud.sqs,
      dispatchQueueUrl: url,
      publisher: { publishJob: async () => {} },
    });
    const arn = (
      await cloud.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }))
    ).Attributes!.QueueArn!;
    const poller = new SqsPoller({
      client: cloud.sqs,
      queueUrl: url,
      queueArn: arn,
      handler: async (event) => {
        seen.push(...event.Records.map((r) => Number(r.attributes.ApproximateReceiveCount)));
        const result = await handler(event);
        if (seen.length >= 2) twice();
        return result;
      },
      log,
      waitSeconds: 1,
      concurrency: 1,
    }).start();
    try {
      // A message the handler cannot take fails like a passing error would.
      await cloud.sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'not json' }));
      await second;
    } finally {
      await poller.stop();
      await cloud.close();
    }
    expect(seen.slice(0, 2)).toEqual([1, 2]);
  });

  it('waits longer on each receive, and the queue dead-letters it within half a minute', () => {
    const waits = [1, 2, 3, 4].map(defaultBackoffSeconds);
    expect(waits).toEqual([2, 4, 8, 16]);
    expect(waits.reduce((a, b) => a + b, 0)).toBeLessThan(STACK_VISIBILITY_SECONDS);
  });
});

describe('the failed-records metric line', () => {
  it('is an Embedded Metric Format document CloudWatch turns into FailedRecords by function', () => {
    const line = JSON.parse(emfLine('smspass-prod-dispatch', { records: 10, failed: 3 }, 1_700_000_000_000));
    expect(line).toEqual({
      _aws: {
        Timestamp: 1_700_000_000_000,
        CloudWatchMetrics: [
          {
            Namespace: 'SmsPass',
            Dimensions: [['FunctionName']],
            Metrics: [
              { Name: 'FailedRecords', Unit: 'Count' },
              { Name: 'Records', Unit: 'Count' },
            ],
          },
        ],
      },
      FunctionName: 'smspass-prod-dispatch',
      FailedRecords: 3,
      Records: 10,
    });
  });
});
