import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { DispatchMessage, DispatchQueue } from '../../core/ports/queue.ts';

/** SQS allows at most 15 minutes of delay on one message; longer timers are chained by the consumer. */
export const MAX_DELAY_SECONDS = 900;

export class SqsDispatchQueue implements DispatchQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async send(message: DispatchMessage, delaySeconds = 0): Promise<void> {
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: JSON.stringify(message),
        DelaySeconds: Math.min(MAX_DELAY_SECONDS, Math.max(0, Math.round(delaySeconds))),
      }),
    );
  }
}
