import { IoTClient } from '@aws-sdk/client-iot';
import { IoTDataPlaneClient } from '@aws-sdk/client-iot-data-plane';
import { KMSClient } from '@aws-sdk/client-kms';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { handle } from 'hono/aws-lambda';
import { KmsCredentialCipher } from '../adapters/credentials/kms-cipher.ts';
import { FetchHttpTransport } from '../adapters/http/fetch-transport.ts';
import { IotAgentIdentities } from '../adapters/iot/iot-identities.ts';
import { SesMailTransport } from '../adapters/mail/ses-transport.ts';
import { pooledSmtpTransports } from '../adapters/mail/smtp-transport-factory.ts';
import { IotRpcPublisher } from '../adapters/mqtt/rpc-publisher.ts';
import { awsBaseContext, requireEnv } from '../aws-env.ts';
import { ENV } from '../contracts/env.ts';
import { Bulkheads } from '../core/channels/bulkhead.ts';
import { ProviderChannels } from '../core/channels/provider-kinds.ts';
import { buildAdminApp } from '../deps.ts';
import { buildEnrolmentLinkRoutes } from '../selfservice-deps.ts';

const ctx = awsBaseContext('admin');
// Seals providers' secret params under the credential key, which dispatch opens them with.
const cipher = new KmsCredentialCipher(new KMSClient({}), requireEnv(ENV.credentialKeyArn));
const portalUrl = requireEnv(ENV.portalUrl);
// Enrolment links are mailed by the tenant's e-mail provider through the same provider channels dispatch uses.
const providers = new ProviderChannels({
  cipher,
  http: new FetchHttpTransport(),
  bulkheads: new Bulkheads(),
  smtp: pooledSmtpTransports(),
  ses: new SesMailTransport(new SESv2Client({})),
  log: ctx.log,
});

export const handler = handle(
  buildAdminApp({
    ...ctx,
    stage: requireEnv(ENV.stage),
    cipher,
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
    enrolmentLinks: buildEnrolmentLinkRoutes({
      ...ctx,
      cipher,
      portalUrl: () => portalUrl,
      channelFor: (provider) => providers.channelFor(provider),
    }),
  }),
);
