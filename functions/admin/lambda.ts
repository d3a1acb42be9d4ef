import { IoTClient } from '@aws-sdk/client-iot';
import { IoTDataPlaneClient } from '@aws-sdk/client-iot-data-plane';
import { KMSClient } from '@aws-sdk/client-kms';
import { handle } from 'hono/aws-lambda';
import { KmsCredentialCipher } from '../adapters/credentials/kms-cipher.ts';
import { IotAgentIdentities } from '../adapters/iot/iot-identities.ts';
import { IotRpcPublisher } from '../adapters/mqtt/rpc-publisher.ts';
import { awsBaseContext, requireEnv } from '../aws-env.ts';
import { ENV } from '../contracts/env.ts';
import { buildAdminApp } from '../deps.ts';

export const handler = handle(
  buildAdminApp({
    ...awsBaseContext('admin'),
    stage: requireEnv(ENV.stage),
    // Seals providers' secret params under the credential key, which dispatch opens them with.
    cipher: new KmsCredentialCipher(new KMSClient({}), requireEnv(ENV.credentialKeyArn)),
    // Agent enrolment: things, certificates from the agents' requests, the stack's agent policy.
    identities: new IotAgentIdentities(new IoTClient({}), {
      policyName: requireEnv(ENV.agentPolicyName),
      dataEndpoint: requireEnv(ENV.iotEndpoint),
    }),
    // Sync now: an RPC on the agent's rpc/req topic through IoT Core's data plane.
    rpcPublisher: new IotRpcPublisher(
      new IoTDataPlaneClient({ endpoint: `https://${requireEnv(ENV.iotEndpoint)}` }),
      requireEnv(ENV.stage),
    ),
  }),
);
