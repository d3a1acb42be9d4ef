/**
 * SQS consumer plumbing shared by every queue function: each record is handled on its own, and only the
 * ones that failed are reported back, so SQS redelivers those alone (ReportBatchItemFailures).
 */
import { ChangeMessageVisibilityBatchCommand, GetQueueUrlCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { Logger } from '../core/ports/log.ts';

export type RecordHandler = (record: SQSRecord) => Promise<void>;

export interface BatchCounts {
  records: number;
  failed: number;
}

export interface BatchOptions {
  afterBatch?: () => Promise<void>;
  /**
   * Brings failed records back after a short backoff instead of the queue's visibility timeout (six times the
   * consumer's timeout: minutes), so a passcode whose send failed on a passing error goes out seconds later.
   */
  retry?: { sqs: SQSClient; backoffSeconds?: (receiveCount: number) => number };
  /** Told each batch's counts; the Lambda entries publish them as metrics (the Errors metric misses them). */
  onBatch?: (counts: BatchCounts) => void;
}

/** 2, 4, 8, 16 s: the queue's maxReceiveCount (5) dead-letters a record that keeps failing within half a minute. */
export const defaultBackoffSeconds = (receiveCount: number) => Math.min(2 ** Math.max(1, receiveCount), 60);

/**
 * The queue's URL from a record's event source: Lambda gives the ARN, the local poller may give the URL.
 * Looked up once per queue and kept (the URL of a queue never changes).
 */
function queueUrls(sqs: SQSClient) {
  const known = new Map<string, Promise<string>>();
  return (source: string): Promise<string> => {
    if (/^https?:\/\//.test(source)) return Promise.resolve(source);
    let url = known.get(source);
    if (!url) {
      const [, , , , account, name] = source.split(':');
      url = sqs
        .send(
          new GetQueueUrlCommand({ QueueName: name, ...(account && { QueueOwnerAWSAccountId: account }) }),
        )
        .then((out) => {
          if (!out.QueueUrl) throw new Error(`no URL for queue ${source}`);
          return out.QueueUrl;
        });
      url.catch(() => known.delete(source));
      known.set(source, url);
    }
    return url;
  };
}

export function batchHandler(handle: RecordHandler, log: Logger, options: BatchOptions = {}) {
  const urlOf = options.retry && queueUrls(options.retry.sqs);
  const backoff = options.retry?.backoffSeconds ?? defaultBackoffSeconds;

  const retrySoon = async (failed: SQSRecord[]) => {
    if (!options.retry || !urlOf) return;
    const bySource = new Map<string, SQSRecord[]>();
    for (const record of failed)
      bySource.set(record.eventSourceARN, [...(bySource.get(record.eventSourceARN) ?? []), record]);
    for (const [source, records] of bySource) {
      try {
        const queueUrl = await urlOf(source);
        for (let i = 0; i < records.length; i += 10) {
          const out = await options.retry.sqs.send(
            new ChangeMessageVisibilityBatchCommand({
              QueueUrl: queueUrl,
              Entries: records.slice(i, i + 10).map((r, j) => ({
                Id: String(j),
                ReceiptHandle: r.receiptHandle,
                VisibilityTimeout: backoff(Number(r.attributes?.ApproximateReceiveCount ?? '1')),
              })),
            }),
          );
          if (out.Failed?.length)
            log.warn('some failed records keep the queue visibility timeout', { failed: out.Failed.length });
        }
      } catch (error) {
        // They still come back, only after the queue's visibility timeout.
        log.warn('could not shorten the retry of failed records', { error });
      }
    }
  };

  return async (event: SQSEvent): Promise<SQSBatchResponse> => {
    const results = await Promise.allSettled(event.Records.map((record) => handle(record)));
    await options.afterBatch?.();
    const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
    const failed: SQSRecord[] = [];
    results.forEach((result, i) => {
      if (result.status === 'rejected') {
        const record = event.Records[i]!;
        log.warn('record failed; SQS will redeliver it', {
          messageId: record.messageId,
          receiveCount: Number(record.attributes?.ApproximateReceiveCount ?? '1'),
          error: result.reason,
        });
        batchItemFailures.push({ itemIdentifier: record.messageId });
        failed.push(record);
      }
    });
    await retrySoon(failed);
    options.onBatch?.({ records: event.Records.length, failed: failed.length });
    return { batchItemFailures };
  };
}
