/** fauxqs on 127.0.0.1 (its own starter binds every interface), with the queues the CDK stack makes. */
import type { AddressInfo } from 'node:net';
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { buildApp } from 'fauxqs';

export interface LocalSqs {
  endpoint: string;
  close(): Promise<void>;
}

export async function startFauxqs(options: { port?: number } = {}): Promise<LocalSqs> {
  const app = buildApp({ logger: false, host: '127.0.0.1' });
  await app.listen({ port: options.port ?? 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  return { endpoint: `http://127.0.0.1:${port}`, close: () => app.close() };
}

export interface QueuePair {
  url: string;
  dlqUrl: string;
}

/** A queue with its dead-letter queue; after `maxReceiveCount` failed receives a message moves to the DLQ. */
export async function createQueueWithDlq(
  sqs: SQSClient,
  name: string,
  options: { maxReceiveCount?: number; visibilityTimeoutSeconds?: number } = {},
): Promise<QueuePair> {
  const dlq = await sqs.send(
    new CreateQueueCommand({ QueueName: `${name}-dlq`, Attributes: { MessageRetentionPeriod: '1209600' } }),
  );
  const dlqUrl = dlq.QueueUrl!;
  const attrs = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }),
  );
  const queue = await sqs.send(
    new CreateQueueCommand({
      QueueName: name,
      Attributes: {
        VisibilityTimeout: String(options.visibilityTimeoutSeconds ?? 5),
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: attrs.Attributes!.QueueArn,
          maxReceiveCount: options.maxReceiveCount ?? 5,
        }),
      },
    }),
  );
  return { url: queue.QueueUrl!, dlqUrl };
}
