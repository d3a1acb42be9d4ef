import { IoTDataPlaneClient } from '@aws-sdk/client-iot-data-plane';
import { KMSClient } from '@aws-sdk/client-kms';
import { SQSClient } from '@aws-sdk/client-sqs';
import { handle } from 'hono/aws-lambda';
import { KmsCredentialCipher } from '../adapters/credentials/kms-cipher.ts';
import { IotRpcPublisher } from '../adapters/mqtt/rpc-publisher.ts';
import { awsContext, requireEnv } from '../aws-env.ts';
import { ENV } from '../contracts/env.ts';
import { CachingCredentialCipher } from '../core/credential-cipher.ts';
import { buildSelfServiceApp } from '../selfservice-deps.ts';

const app = buildSelfServiceApp({
  ...(await awsContext('selfservice')),
  // The password reset: an RPC on the tenant's AD agent's rpc/req topic through IoT Core's data plane.
  rpcPublisher: new IotRpcPublisher(
    new IoTDataPlaneClient({ endpoint: `https://${requireEnv(ENV.iotEndpoint)}` }),
    requireEnv(ENV.stage),
  ),
  sqs: new SQSClient({}),
  dispatchQueueUrl: requireEnv(ENV.dispatchQueueUrl),
  // Seals and opens the seeds of the authenticator apps users enrol.
  cipher: new CachingCredentialCipher(
    new KmsCredentialCipher(new KMSClient({}), requireEnv(ENV.credentialKeyArn)),
  ),
});

export const handler = handle(app);
