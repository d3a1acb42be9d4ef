/** The IoT topic rule, locally: a service client of the broker that forwards agents' messages to the events queue. */
import type { Logger } from '../../adapters/log.ts';
import { startEventsBridge } from '../bridge.ts';
import type { AwsStandIns } from './aws-stand-ins.ts';
import type { LocalBroker } from './mqtt-broker.ts';
import { type Part, startPart } from './part.ts';

export function startBridge(options: {
  mqtt: Pick<LocalBroker, 'connectService'>;
  aws: Pick<AwsStandIns, 'sqs' | 'queues'>;
  log: Logger;
  stage: string;
}): Promise<Part> {
  const { mqtt, aws, log, stage } = options;
  return startPart(log, async (stops) => {
    const client = await mqtt.connectService('cloud-events-bridge');
    stops.push(() => client.endAsync(true));
    await startEventsBridge({ mqtt: client, sqs: aws.sqs, queueUrl: aws.queues.events.url, log, stage });
    return {};
  });
}
