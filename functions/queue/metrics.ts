/**
 * Queue handlers' counts as CloudWatch metrics through the Embedded Metric Format: one JSON log line that
 * CloudWatch Logs turns into metrics, so no PutMetricData call (and no permission for it) is needed. Written
 * straight to stdout, not through console.log: with the functions' JSON log format, console.log would wrap
 * the line in its own JSON and CloudWatch would not see the metric.
 */
import type { BatchCounts } from './batch.ts';

/** The namespace the stack's alarms read (cdk/stack.ts). */
export const METRIC_NAMESPACE = 'SmsPass';
export const FAILED_RECORDS_METRIC = 'FailedRecords';
export const RECORDS_METRIC = 'Records';

export function emfLine(functionName: string, counts: BatchCounts, at = Date.now()): string {
  return JSON.stringify({
    _aws: {
      Timestamp: at,
      CloudWatchMetrics: [
        {
          Namespace: METRIC_NAMESPACE,
          Dimensions: [['FunctionName']],
          Metrics: [
            { Name: FAILED_RECORDS_METRIC, Unit: 'Count' },
            { Name: RECORDS_METRIC, Unit: 'Count' },
          ],
        },
      ],
    },
    FunctionName: functionName,
    [FAILED_RECORDS_METRIC]: counts.failed,
    [RECORDS_METRIC]: counts.records,
  });
}

/** The `onBatch` of a Lambda queue handler: one metric line per batch, under the function's own name. */
export function publishBatchMetrics(write: (line: string) => void = (l) => process.stdout.write(`${l}\n`)) {
  const functionName = process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'local';
  return (counts: BatchCounts) => write(emfLine(functionName, counts));
}
