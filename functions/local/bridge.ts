/**
 * The local stand-in for the IoT topic rules: everything agents publish on their events and `rpc/res` topics,
 * and the broker's lifecycle events (connected/disconnected, see iot-rules.ts), go to the events queue, wrapped
 * with the topic it arrived on, exactly as the rules' SQL shapes them.
 * The broker gets its PUBACK only once SQS has the message, so a crash here loses nothing.
 */
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { MqttClient } from 'mqtt';
import type { Logger } from '../adapters/log.ts';
import {
  ALL_EVENTS_FILTER,
  ALL_PRESENCE_FILTER,
  ALL_RPC_RESPONSES_FILTER,
  type BridgedMessage,
} from '../contracts/index.ts';

export interface EventsBridge {
  readonly forwarded: number;
}

export async function startEventsBridge(options: {
  mqtt: MqttClient;
  sqs: SQSClient;
  queueUrl: string;
  log: Logger;
}): Promise<EventsBridge> {
  const { mqtt, sqs, queueUrl, log } = options;
  let forwarded = 0;
  mqtt.handleMessage = (packet, callback) => {
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
  await mqtt.subscribeAsync([ALL_EVENTS_FILTER, ALL_PRESENCE_FILTER, ALL_RPC_RESPONSES_FILTER], { qos: 1 });
  return {
    get forwarded() {
      return forwarded;
    },
  };
}
