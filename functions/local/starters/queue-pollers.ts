/** Lambda's SQS event source mappings, locally: one poller per queue hands batches to its handler. */
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Logger } from '../../adapters/log.ts';
import { SqsPoller } from '../poller.ts';
import type { AwsStandIns } from './aws-stand-ins.ts';
import type { CloudFunctions } from './cloud-functions.ts';
import { type Part, startPart } from './part.ts';

export interface QueuePollers extends Part {
  pollers: { dispatch: SqsPoller; events: SqsPoller };
}

export function startQueuePollers(options: {
  aws: Pick<AwsStandIns, 'sqs' | 'queues'>;
  handlers: CloudFunctions['handlers'];
  log: Logger;
}): Promise<QueuePollers> {
  const { aws, handlers, log } = options;
  return startPart(log, async (stops) => {
    const poller = async (queueUrl: string, handler: CloudFunctions['handlers']['dispatch']) => {
      const started = new SqsPoller({
        client: aws.sqs,
        queueUrl,
        queueArn: await arnOf(aws.sqs, queueUrl),
        handler,
        log,
        concurrency: 4,
      }).start();
      stops.push(() => started.stop());
      return started;
    };
    return {
      pollers: {
        dispatch: await poller(aws.queues.dispatch.url, handlers.dispatch),
        events: await poller(aws.queues.events.url, handlers.events),
      },
    };
  });
}

async function arnOf(sqs: SQSClient, url: string): Promise<string | undefined> {
  const out = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
  return out.Attributes?.QueueArn;
}
