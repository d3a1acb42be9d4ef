/**
 * The local stand-in for one stage's IoT topic rules: everything the stage's agents publish on their events and
 * `rpc/res` topics, and the broker's lifecycle events (connected/disconnected, see iot-rules.ts) of the stage's
 * clients, go to the events queue, wrapped with the topic it arrived on, exactly as the rules' SQL shapes and
 * filters them.
 * The broker gets its PUBACK only once SQS has the message, so a crash here loses nothing.
 */
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { MqttClient } from 'mqtt';
import type { Logger } from '../adapters/log.ts';
import {
  ALL_PRESENCE_FILTER,
  allEventsFilter,
  allRpcResponsesFilter,
  type BridgedMessage,
  isStagePresence,
} from '../contracts/index.ts';

export interface EventsBridge {
  readonly forwarded: number;
}

export async function startEventsBridge(options: {
  mqtt: MqttClient;
  sqs: SQSClient;
  queueUrl: string;
  log: Logger;
  /** The stage whose rules this stands for. */
  stage: string;
}): Promise<EventsBridge> {
  const { mqtt, sqs, queueUrl, log, stage } = options;
  let forwarded = 0;
  mqtt.handleMessage = (packet, callback) => {
    // the presence rule's WHERE: lifecycle events are the whole account's, and only this stage's are taken
    if (packet.topic.startsWith('$') && !isStagePresence(stage, packet.topic)) return callback();
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
    const body: BridgedMessage = {
      topic: packet.topic,
      payload: payload.toString('base64'),
      receivedAt: Date.now(),
    };
    sqs
      .send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(body) }))
      .then(() => {
        forwarded++;
        callback();
      })
      .catch((error: unknown) => {
        log.error('bridge could not forward an agent message; the broker will redeliver it', {
          topic: packet.topic,
          error,
        });
        callback(error instanceof Error ? error : new Error(String(error)));
      });
  };
  await mqtt.subscribeAsync([allEventsFilter(stage), ALL_PRESENCE_FILTER, allRpcResponsesFilter(stage)], {
    qos: 1,
  });
  return {
    get forwarded() {
      return forwarded;
    },
  };
}
