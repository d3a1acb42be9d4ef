/**
 * The cloud functions built as the Lambda entries build them, with clients pointed at the stand-ins: the four
 * hono apps and the two queue handlers. What differs from AWS is said here: a key file instead of KMS, the
 * local broker instead of IoT Core, and providers on this machine allowed.
 */
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { KeyFileCredentialCipher } from '../../adapters/credentials/key-file-cipher.ts';
import { FetchHttpTransport } from '../../adapters/http/fetch-transport.ts';
import type { Logger } from '../../adapters/log.ts';
import { pooledSmtpTransports } from '../../adapters/mail/smtp-transport-factory.ts';
import { MqttJobPublisher } from '../../adapters/mqtt/mqtt-publisher.ts';
import { MqttRpcPublisher } from '../../adapters/mqtt/rpc-publisher.ts';
import type { FunctionName } from '../../contracts/routes.ts';
import { LOCAL_STAGE } from '../../contracts/topics.ts';
import { Bulkheads } from '../../core/channels/bulkhead.ts';
import type { MailTransport } from '../../core/channels/email.ts';
import type { SmtpSettings } from '../../core/channels/mail-params.ts';
import { ProviderChannels } from '../../core/channels/provider-kinds.ts';
import type { Clock } from '../../core/clock.ts';
import { CachingCredentialCipher } from '../../core/credential-cipher.ts';
import type { CredentialCipher } from '../../core/ports/credentials.ts';
import type { DeploymentKeys } from '../../core/secrets.ts';
import {
  buildAdminApp,
  buildAuthApp,
  buildDispatchHandler,
  buildEventsHandler,
  buildOperatorApp,
  buildPasswordResetApp,
  buildPasswordResetService,
  buildSyncApp,
} from '../../deps.ts';
import { createSelfServiceApp } from '../../selfservice/app.ts';
import { buildEnrolmentLinkRoutes, buildSelfService } from '../../selfservice-deps.ts';
import { buildWebApp } from '../../web-deps.ts';
import { brokerSessions } from '../broker.ts';
import type { FetchApp } from '../http-router.ts';
import type { LocalCa } from '../local-ca.ts';
import { LocalAgentIdentities } from '../local-identities.ts';
import type { AwsStandIns } from './aws-stand-ins.ts';
import type { LocalBroker } from './mqtt-broker.ts';
import { type Part, startPart } from './part.ts';

type QueueHandler = (event: SQSEvent) => Promise<SQSBatchResponse>;

export interface CloudFunctions extends Part {
  apps: Record<
    Extract<FunctionName, 'auth' | 'sync' | 'admin' | 'operator' | 'selfservice' | 'web'>,
    FetchApp
  >;
  handlers: { dispatch: QueueHandler; events: QueueHandler };
  /** Provider credentials' cipher (a key file under the data folder). */
  cipher: CredentialCipher;
}

export function wireCloudFunctions(options: {
  aws: Pick<AwsStandIns, 'dynamo' | 'sqs' | 'queues'>;
  mqtt: Pick<LocalBroker, 'broker' | 'connectService'>;
  /** Signs enrolled agents' certificates, as IoT Core does in AWS. */
  ca: LocalCa;
  table: string;
  dataDir: string;
  keys: DeploymentKeys;
  log: Logger;
  clock: Clock | undefined;
  smtp: ((settings: SmtpSettings) => MailTransport) | undefined;
  tapDispatch: ((event: SQSEvent) => void) | undefined;
  /** The portal's base URL, known once the API server listens: enrolment links lead there. */
  portalUrl: () => string;
  /** Whether the console's session cookie is Secure (and `__Host-` prefixed); see functions/web-deps.ts. */
  secureCookies?: boolean | undefined;
}): Promise<CloudFunctions> {
  const { aws, mqtt, log, tapDispatch } = options;
  return startPart(log, async (stops) => {
    const serviceClient = await mqtt.connectService('cloud-service');
    stops.push(() => serviceClient.endAsync(true));

    // Provider credentials and TOTP secrets: AES-GCM under a key file of the data folder (KMS in AWS).
    const cipher = new CachingCredentialCipher(KeyFileCredentialCipher.fromDirectory(options.dataDir));
    const ownSmtp = options.smtp ? undefined : pooledSmtpTransports();
    if (ownSmtp) stops.push(async () => ownSmtp.close());
    const smtp = options.smtp ?? ownSmtp!;
    const ctx = {
      dynamo: aws.dynamo,
      table: options.table,
      keys: options.keys,
      log,
      cipher,
      ...(options.clock && { clock: options.clock }),
    };
    const queueCtx = { sqs: aws.sqs, dispatchQueueUrl: aws.queues.dispatch.url, agentCacheMs: 1000 };
    const rpcPublisher = new MqttRpcPublisher(serviceClient, LOCAL_STAGE);
    const auth = buildAuthApp({ ...ctx, ...queueCtx, rpcPublisher });
    const { handler: dispatchHandler } = buildDispatchHandler({
      ...ctx,
      ...queueCtx,
      publisher: new MqttJobPublisher(serviceClient, LOCAL_STAGE),
      channels: {
        http: new FetchHttpTransport(),
        bulkheads: new Bulkheads(),
        smtp,
        // Providers on this machine (test peers, a local mail catcher) are allowed here, never in AWS.
        allowPrivateNetworks: true,
        allowPlainHttp: true,
      },
    });
    const { handler: eventsHandler } = buildEventsHandler({ ...ctx, ...queueCtx });
    const dispatch: QueueHandler = tapDispatch
      ? (event) => {
          tapDispatch(event);
          return dispatchHandler(event);
        }
      : dispatchHandler;

    // Enrolment links go by the tenant's e-mail provider, through the same provider channels dispatch uses.
    const providers = new ProviderChannels({
      cipher,
      http: new FetchHttpTransport(),
      bulkheads: new Bulkheads(),
      smtp,
      log,
      allowPrivateNetworks: true,
      allowPlainHttp: true,
    });
    // The JSON API and the portal pages share one self-service domain.
    const selfService = buildSelfService({ ...ctx, ...queueCtx });
    const enrolmentLinks = buildEnrolmentLinkRoutes({
      ...ctx,
      portalUrl: options.portalUrl,
      channelFor: (provider) => providers.channelFor(provider),
    });

    return {
      apps: {
        auth,
        sync: buildSyncApp(ctx),
        // The password reset rides on the self-service API, as in AWS (selfservice-deps.ts).
        selfservice: createSelfServiceApp({
          self: selfService,
          log,
          extra: buildPasswordResetApp({ ...ctx, ...queueCtx, rpcPublisher }),
        }),
        admin: buildAdminApp({
          ...ctx,
          identities: new LocalAgentIdentities(options.ca, mqtt.broker),
          rpcPublisher,
          enrolmentLinks,
        }),
        operator: buildOperatorApp({ ...ctx, agentSessions: brokerSessions(mqtt.broker) }),
        web: buildWebApp({
          ...ctx,
          identities: new LocalAgentIdentities(options.ca, mqtt.broker),
          agentSessions: brokerSessions(mqtt.broker),
          secureCookies: options.secureCookies ?? true,
          // The local router hands the apps a Request only, and the stack listens on loopback.
          clientIp: () => '127.0.0.1',
          selfService,
          passwordResets: buildPasswordResetService({ ...ctx, ...queueCtx, rpcPublisher }),
          challenges: { keys: options.keys, ...queueCtx },
        }),
      },
      handlers: { dispatch, events: eventsHandler },
      cipher,
    };
  });
}
