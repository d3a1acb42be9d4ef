/**
 * The local stand-in for Lambda's SQS event source mapping: long-polls a queue, hands batches to the real
 * handler as an SQSEvent, deletes what succeeded, and leaves reported failures to come back after the
 * visibility timeout (and to reach the dead-letter queue after maxReceiveCount).
 */
import {
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { Logger } from '../adapters/log.ts';

export interface PollerOptions {
  client: SQSClient;
  queueUrl: string;
  queueArn?: string | undefined;
  handler: (event: SQSEvent) => Promise<SQSBatchResponse>;
  log: Logger;
  batchSize?: number | undefined;
  waitSeconds?: number | undefined;
  /** Parallel receive loops, like the event source mapping's concurrent pollers. */
  concurrency?: number | undefined;
}

function toRecord(message: Message, queueArn: string): SQSRecord {
  const attrs = message.Attributes ?? {};
  return {
    messageId: message.MessageId!,
    receiptHandle: message.ReceiptHandle!,
    body: message.Body ?? '',
    attributes: {
      ApproximateReceiveCount: attrs.ApproximateReceiveCount ?? '1',
      SentTimestamp: attrs.SentTimestamp ?? String(Date.now()),
      SenderId: attrs.SenderId ?? 'local',
      ApproximateFirstReceiveTimestamp: attrs.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: 'us-east-1',
  };
}

export class SqsPoller {
  private running = false;
  private readonly loops: Promise<void>[] = [];
  private readonly abort = new AbortController();
  /** Records handed to the handler, for tests and benchmarks. */
  invocations = 0;

  constructor(private readonly options: PollerOptions) {}

  start(): this {
    if (this.running) return this;
    this.running = true;
    for (let i = 0; i < (this.options.concurrency ?? 2); i++) this.loops.push(this.loop());
    return this;
  }

  async stop(): Promise<void> {
    this.running = false;
    this.abort.abort();
    await Promise.allSettled(this.loops);
  }

  private async loop(): Promise<void> {
    const { client, queueUrl, handler, log } = this.options;
    while (this.running) {
      let messages: Message[] = [];
      try {
        const out = await client.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: this.options.batchSize ?? 10,
            WaitTimeSeconds: this.options.waitSeconds ?? 20,
            MessageSystemAttributeNames: ['All'],
          }),
          { abortSignal: this.abort.signal },
        );
        messages = out.Messages ?? [];
      } catch (error) {
        if (!this.running) return;
        log.warn('receive failed; retrying', { queueUrl, error });
        await new Promise((r) => setTimeout(r, 500));
        continue;
      }
      if (messages.length === 0) continue;
      const records = messages.map((m) => toRecord(m, this.options.queueArn ?? queueUrl));
      this.invocations++;
      let failed = new Set<string>();
      try {
        const result = await handler({ Records: records });
        failed = new Set(result.batchItemFailures.map((f) => f.itemIdentifier));
      } catch (error) {
        // A thrown handler fails the whole batch, as Lambda does.
        log.error('handler threw; the whole batch will be redelivered', { queueUrl, error });
        failed = new Set(records.map((r) => r.messageId));
      }
      const done = records.filter((r) => !failed.has(r.messageId));
      if (done.length > 0) {
        try {
          await client.send(
            new DeleteMessageBatchCommand({
              QueueUrl: queueUrl,
              Entries: done.map((r, i) => ({ Id: String(i), ReceiptHandle: r.receiptHandle })),
            }),
          );
        } catch (error) {
          log.warn('delete failed; messages will be redelivered and handled idempotently', {
            queueUrl,
            error,
          });
        }
      }
    }
  }
}
