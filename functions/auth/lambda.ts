import { IoTDataPlaneClient } from '@aws-sdk/client-iot-data-plane';
import { KMSClient } from '@aws-sdk/client-kms';
import { SQSClient } from '@aws-sdk/client-sqs';
import { handle } from 'hono/aws-lambda';
import { KmsCredentialCipher } from '../adapters/credentials/kms-cipher.ts';
import { IotJobPublisher } from '../adapters/mqtt/iot-publisher.ts';
import { IotRpcPublisher } from '../adapters/mqtt/rpc-publisher.ts';
import { awsContext, requireEnv } from '../aws-env.ts';
import { ENV } from '../contracts/env.ts';
import { CachingCredentialCipher } from '../core/credential-cipher.ts';
import { buildAuthApp } from '../deps.ts';

const iot = new IoTDataPlaneClient({ endpoint: `https://${requireEnv(ENV.iotEndpoint)}` });
const app = buildAuthApp({
  ...(await awsContext('auth')),
  // Password checks: an RPC on the tenant's AD agent's rpc/req topic through IoT Core's data plane.
  rpcPublisher: new IotRpcPublisher(iot, requireEnv(ENV.stage)),
  // A one-rule SMS login's job goes straight to its agent's jobs topic, without the dispatch queue.
  publisher: new IotJobPublisher(iot, requireEnv(ENV.stage)),
  sqs: new SQSClient({}),
  dispatchQueueUrl: requireEnv(ENV.dispatchQueueUrl),
  // Opens users' TOTP secrets when a challenge's chain reached the authenticator app.
  cipher: new CachingCredentialCipher(
    new KmsCredentialCipher(new KMSClient({}), requireEnv(ENV.credentialKeyArn)),
  ),
});

export const handler = handle(app);
