import { IoTClient } from '@aws-sdk/client-iot';
import { IoTDataPlaneClient } from '@aws-sdk/client-iot-data-plane';
import { KMSClient } from '@aws-sdk/client-kms';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Context } from 'hono';
import { handle } from 'hono/aws-lambda';
import { KmsCredentialCipher } from '../adapters/credentials/kms-cipher.ts';
import { IotAgentIdentities } from '../adapters/iot/iot-identities.ts';
import { IotRpcPublisher } from '../adapters/mqtt/rpc-publisher.ts';
import { awsContext, requireEnv } from '../aws-env.ts';
import { ENV } from '../contracts/env.ts';
import { CachingCredentialCipher } from '../core/credential-cipher.ts';
import { buildPasswordResetService } from '../deps.ts';
import { buildSelfService } from '../selfservice-deps.ts';
import { buildWebApp } from '../web-deps.ts';

/** API Gateway's view of the client's address (not a header the client could write). */
const sourceIp = (c: Context) => {
  const env = c.env as { event?: { requestContext?: { http?: { sourceIp?: string } } } } | undefined;
  return env?.event?.requestContext?.http?.sourceIp ?? 'unknown';
};

const { keys, ...ctx } = await awsContext('web');

export const handler = handle(
  buildWebApp({
    ...ctx,
    cipher: new KmsCredentialCipher(new KMSClient({}), requireEnv(ENV.credentialKeyArn)),
    identities: new IotAgentIdentities(new IoTClient({}), {
      policyName: requireEnv(ENV.agentPolicyName),
      dataEndpoint: requireEnv(ENV.iotEndpoint),
    }),
    stage: requireEnv(ENV.stage),
    secureCookies: true,
    clientIp: sourceIp,
    // The portal pages sign users in by passcode, as the selfservice function does.
    selfService: buildSelfService({
      ...ctx,
      keys,
      sqs: new SQSClient({}),
      dispatchQueueUrl: requireEnv(ENV.dispatchQueueUrl),
      cipher: new CachingCredentialCipher(
        new KmsCredentialCipher(new KMSClient({}), requireEnv(ENV.credentialKeyArn)),
      ),
    }),
    // The portal's password reset pages: an RPC on the tenant's AD agent's rpc/req topic, as selfservice does.
    passwordResets: buildPasswordResetService({
      ...ctx,
      keys,
      sqs: new SQSClient({}),
      dispatchQueueUrl: requireEnv(ENV.dispatchQueueUrl),
      rpcPublisher: new IotRpcPublisher(
        new IoTDataPlaneClient({ endpoint: `https://${requireEnv(ENV.iotEndpoint)}` }),
        requireEnv(ENV.stage),
      ),
    }),
    // The console's test passcode goes out as a login's: through the dispatch queue.
    challenges: { keys, sqs: new SQSClient({}), dispatchQueueUrl: requireEnv(ENV.dispatchQueueUrl) },
  }),
);
