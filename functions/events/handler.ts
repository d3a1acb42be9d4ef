import type { EventProcessor } from '../core/events.ts';
import type { Logger } from '../core/ports/log.ts';
import type { UsageMeter } from '../core/usage-meter.ts';
import { type BatchOptions, batchHandler } from '../queue/batch.ts';

/**
 * The events queue consumer. Bad or foreign agent messages are dropped and counted by the processor
 * (retrying them would never help); only store failures make SQS redeliver.
 */
export function createEventsHandler(
  processor: EventProcessor,
  log: Logger,
  usage?: UsageMeter,
  batch: Pick<BatchOptions, 'retry' | 'onBatch'> = {},
) {
  return batchHandler(
    async (record) => {
      await processor.process(record.body, {
        redelivered: Number(record.attributes?.ApproximateReceiveCount ?? '1') > 1,
      });
    },
    log,
    { ...batch, ...(usage && { afterBatch: () => usage.flush() }) },
  );
}
