import { DispatchMessage } from '../contracts/queue.ts';
import { type Dispatcher, PoisonMessageError } from '../core/dispatch.ts';
import type { Logger } from '../core/ports/log.ts';
import type { UsageMeter } from '../core/usage-meter.ts';
import { type BatchOptions, batchHandler } from '../queue/batch.ts';

/**
 * The dispatch queue consumer. A message that can never be processed is failed like any other, so that
 * after the queue's maxReceiveCount it lands in the dead-letter queue instead of looping.
 */
export function createDispatchHandler(
  dispatcher: Dispatcher,
  log: Logger,
  usage?: UsageMeter,
  batch: Pick<BatchOptions, 'retry' | 'onBatch'> = {},
) {
  return batchHandler(
    async (record) => {
      let message: DispatchMessage;
      try {
        message = DispatchMessage.parse(JSON.parse(record.body));
      } catch (cause) {
        throw new PoisonMessageError('the dispatch message is malformed', { cause });
      }
      await dispatcher.dispatch(message, {
        redelivered: Number(record.attributes?.ApproximateReceiveCount ?? '1') > 1,
      });
    },
    log,
    { ...batch, ...(usage && { afterBatch: () => usage.flush() }) },
  );
}
