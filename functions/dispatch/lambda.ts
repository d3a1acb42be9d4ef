import { IoTDataPlaneClient } from '@aws-sdk/client-iot-data-plane';
import { KMSClient } from '@aws-sdk/client-kms';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { SQSClient } from '@aws-sdk/client-sqs';
import { KmsCredentialCipher } from '../adapters/credentials/kms-cipher.ts';
import { FetchHttpTransport } from '../adapters/http/fetch-transport.ts';
import { SesMailTransport } from '../adapters/mail/ses-transport.ts';
import { pooledSmtpTransports } from '../adapters/mail/smtp-transport-factory.ts';
import { IotJobPublisher } from '../adapters/mqtt/iot-publisher.ts';
import { awsContext, requireEnv } from '../aws-env.ts';
import { ENV } from '../contracts/env.ts';
import { CachingCredentialCipher } from '../core/credential-cipher.ts';
import { buildDispatchHandler } from '../deps.ts';
import { publishBatchMetrics } from '../queue/metrics.ts';

const publisher = new IotJobPublisher(
  new IoTDataPlaneClient({ endpoint: `https://${requireEnv(ENV.iotEndpoint)}` }),
  requireEnv(ENV.stage),
);

export const { handler } = buildDispatchHandler({
  ...(await awsContext('dispatch')),
  publisher,
  sqs: new SQSClient({}),
  dispatchQueueUrl: requireEnv(ENV.dispatchQueueUrl),
  cipher: new CachingCredentialCipher(
    new KmsCredentialCipher(new KMSClient({}), requireEnv(ENV.credentialKeyArn)),
  ),
  channels: {
    http: new FetchHttpTransport(),
    smtp: pooledSmtpTransports(),
    ses: new SesMailTransport(new SESv2Client({})),
  },
  // Failed records are answered in batchItemFailures, which the Lambda Errors metric never counts.
  onBatch: publishBatchMetrics(),
});
