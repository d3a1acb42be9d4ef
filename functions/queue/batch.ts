/**
 * SQS consumer plumbing shared by every queue function: each record is handled on its own, and only the
 * ones that failed are reported back, so SQS redelivers those alone (ReportBatchItemFailures).
 */
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { Logger } from '../core/ports/log.ts';

export type RecordHandler = (record: SQSRecord) => Promise<void>;

export function batchHandler(
  handle: RecordHandler,
  log: Logger,
  options: { afterBatch?: () => Promise<void> } = {},
) {
  return async (event: SQSEvent): Promise<SQSBatchResponse> => {
    const results = await Promise.allSettled(event.Records.map((record) => handle(record)));
    await options.afterBatch?.();
    const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
    results.forEach((result, i) => {
      if (result.status === 'rejected') {
        const record = event.Records[i]!;
        log.warn('record failed; SQS will redeliver it', {
          messageId: record.messageId,
          error: result.reason,
        });
        batchItemFailures.push({ itemIdentifier: record.messageId });
      }
    });
    return { batchItemFailures };
  };
}
