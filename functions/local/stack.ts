/**
 * The whole product on 127.0.0.1: dynalite, fauxqs, the MQTT broker, the hono apps, the queue pollers,
 * the events bridge, a demo tenant and an edge agent with simulated modems. `npm start` runs it, and the
 * end-to-end tests and benchmarks start the very same thing with ephemeral ports and in-memory data.
 *
 * functions/local/ is the composition root of cloud and edge alike: the only place that wires the cloud
 * functions, the stand-ins for AWS and the edge agent together. The cloud functions learn their clients from
 * here (as the Lambda entries give them AWS ones), and the edge agent shares nothing with the cloud but
 * functions/contracts/ (test/structure/imports.test.ts holds both to it). Each part has its starter in
 * starters/; this file only composes them in order and stops them in reverse.
 */
import { join } from 'node:path';
import type { SQSEvent } from 'aws-lambda';
import { createLogger, type Logger } from '../adapters/log.ts';
import { LOCAL_STAGE } from '../contracts/topics.ts';
import type { MailTransport } from '../core/channels/email.ts';
import type { SmtpSettings } from '../core/channels/mail-params.ts';
import type { Clock } from '../core/clock.ts';
import type { CredentialCipher } from '../core/ports/credentials.ts';
import { DeploymentKeys } from '../core/secrets.ts';
import { stores } from '../deps.ts';
import { adminAccounts } from '../web-deps.ts';
import type { Broker } from './broker.ts';
import {
  loadOrCreateSecret,
  openDataFolder,
  readPreviousConsole,
  type StackJson,
  writeStackFiles,
} from './data-folder.ts';
import type { LocalEdge } from './edge.ts';
import { LocalCa } from './local-ca.ts';
import type { SqsPoller } from './poller.ts';
import type { RestartRecovery } from './recovery.ts';
import type { DemoSeed } from './seed.ts';
import { seedConsoleAccounts } from './seed-console.ts';
import { startApiServer } from './starters/api-server.ts';
import { startAwsStandIns } from './starters/aws-stand-ins.ts';
import { wireCloudFunctions } from './starters/cloud-functions.ts';
import { seedDemoTenant } from './starters/demo-tenant.ts';
import { startEdgeAgents } from './starters/edge-agents.ts';
import { startBridge } from './starters/events-bridge.ts';
import { startLocalBroker } from './starters/mqtt-broker.ts';
import { StopSteps } from './starters/part.ts';
import { startQueuePollers } from './starters/queue-pollers.ts';
import { sweepAfterRestart } from './starters/restart-sweep.ts';

export type { StackJson } from './data-folder.ts';

export const TABLE_NAME = 'smspass';
/** The shared secret of the demo agent's RADIUS client (127.0.0.1): FreeRADIUS's own example secret. */
const DEMO_RADIUS_SECRET = 'testing123';

export interface LocalStackOptions {
  /** Where data lives between runs (`.local`). Without it, everything is in memory or in a temp folder. */
  dataDir?: string;
  ports?: {
    api?: number;
    dynamo?: number;
    sqs?: number;
    mqtt?: number;
    mqtts?: number;
    modems?: number[];
    /** The demo agent's RADIUS front; without it the agent runs none. */
    radius?: number;
  };
  /**
   * An address to serve the API and MQTT over TLS on besides loopback, for auth clients and edge boxes on a LAN
   * (e.g. `0.0.0.0` or `192.168.1.10`). Plain MQTT (password logins) and the stand-ins stay on 127.0.0.1.
   */
  listen?: string | undefined;
  /** Simulated modems for the demo agent. */
  modems?: number;
  /** Time each simulated modem takes to send one SMS. */
  modemSendMs?: number;
  /** Start the demo edge agent with its simulators (default true). */
  edge?: boolean;
  log?: Logger;
  /** dynalite and fauxqs in a worker thread, on the second core (npm start and benchmarks). */
  standInsInWorker?: boolean;
  /** Looks at what passes a hop, for tests and benchmarks. */
  tap?: { dispatchBatch?(event: SQSEvent): void };
  /**
   * More edge agents beside the demo one, each with simulated modems in the named groups (one modem per
   * entry). Tests use them for routing and failover across modem groups and agents.
   */
  extraAgents?: Array<{ agentId: string; groups: string[] }>;
  /** The modem group of each of the demo agent's modems, by index (default: all in the demo group). */
  modemGroups?: string[];
  /** Queue redelivery: visibility timeout and receives before the DLQ (defaults 5 s and 5). */
  queues?: { visibilityTimeoutSeconds?: number; maxReceiveCount?: number };
  /** The cloud's clock (tests of time-based codes); the edge agents keep the real one. */
  clock?: Clock;
  /** Whether the console's session cookie is Secure and `__Host-` prefixed (default true). */
  secureCookies?: boolean;
  /** How e-mail providers reach SMTP servers (default: pooled nodemailer transports). */
  smtp?: (settings: SmtpSettings) => MailTransport;
}

export interface LocalStack {
  json: StackJson;
  seed: DemoSeed;
  dataDir: string;
  dynamoEndpoint: string;
  sqsEndpoint: string;
  queues: { dispatch: string; dispatchDlq: string; events: string; eventsDlq: string };
  broker: Broker;
  edge: LocalEdge | undefined;
  /** Every running agent by id (the demo one and `extraAgents`). */
  edges: Map<string, LocalEdge>;
  /** Provider credentials' cipher (a key file under the data folder). */
  cipher: CredentialCipher;
  keys: DeploymentKeys;
  pollers: { dispatch: SqsPoller; events: SqsPoller };
  /** What the cloud side uses to log in to the broker. */
  serviceCredentials: { username: string; password: string };
  /** With a data folder: what the start did about steps the previous run left waiting (see recovery.ts). */
  recovery: RestartRecovery | undefined;
  stop(): Promise<void>;
}

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const log = options.log ?? createLogger({ app: 'local-stack' });
  const folder = openDataFolder(options.dataDir);
  const dataDir = folder.dir;
  const started = new StopSteps(log);
  const stop = () => started.run();

  // Set once the API server listens; enrolment links are only mailed after that.
  let portalUrl = '';
  try {
    const keys = new DeploymentKeys(loadOrCreateSecret(folder));
    const aws = started.add(
      await startAwsStandIns({
        folder,
        table: TABLE_NAME,
        ports: { dynamo: options.ports?.dynamo ?? 0, sqs: options.ports?.sqs ?? 0 },
        worker: options.standInsInWorker ?? false,
        queues: options.queues,
        log,
      }),
    );
    const { seed } = started.add(await seedDemoTenant({ dynamo: aws.dynamo, table: TABLE_NAME, folder }));
    const { directory } = stores({ dynamo: aws.dynamo, table: TABLE_NAME });
    // The stand-in for IoT Core's CA: enrolled agents' certificates and the broker's TLS port.
    const ca = LocalCa.open(dataDir);
    const mqtt = started.add(
      await startLocalBroker({
        port: options.ports?.mqtt ?? 0,
        tls: { port: options.ports?.mqtts ?? 0, ca, host: options.listen },
        directory,
        stage: LOCAL_STAGE,
        log,
      }),
    );
    const cloud = started.add(
      await wireCloudFunctions({
        aws,
        mqtt,
        ca,
        table: TABLE_NAME,
        dataDir,
        keys,
        log,
        clock: options.clock,
        smtp: options.smtp,
        tapDispatch: options.tap?.dispatchBatch,
        portalUrl: () => portalUrl,
        secureCookies: options.secureCookies,
      }),
    );
    const consoleLogins = await seedConsoleAccounts(
      adminAccounts({ dynamo: aws.dynamo, table: TABLE_NAME, log, cipher: cloud.cipher }),
      seed.tenantId,
      readPreviousConsole(folder),
    );
    const { pollers } = started.add(await startQueuePollers({ aws, handlers: cloud.handlers, log }));
    started.add(await startBridge({ mqtt, aws, log, stage: LOCAL_STAGE }));
    const api = started.add(
      await startApiServer({ apps: cloud.apps, port: options.ports?.api ?? 0, host: options.listen, log }),
    );

    const outbox = join(dataDir, 'sim', 'outbox.jsonl');
    const agents =
      options.edge === false
        ? { edge: undefined, edges: new Map<string, LocalEdge>() }
        : started.add(
            await startEdgeAgents({
              seed,
              dynamo: aws.dynamo,
              table: TABLE_NAME,
              directory,
              mqttUrl: mqtt.broker.url,
              dataDir,
              outbox,
              modems: options.modems,
              modemGroups: options.modemGroups,
              modemPorts: options.ports?.modems ?? [],
              modemSendMs: options.modemSendMs ?? 0,
              extraAgents: options.extraAgents ?? [],
              radius:
                options.ports?.radius === undefined
                  ? undefined
                  : {
                      port: options.ports.radius,
                      apiUrl: api.url,
                      authKey: seed.keys.auth,
                      secret: DEMO_RADIUS_SECRET,
                    },
              log,
            }),
          );
    const { recovery } = started.add(
      await sweepAfterRestart({ aws, table: TABLE_NAME, log, clock: options.clock }),
    );

    portalUrl = `${api.url}/portal`;
    const json: StackJson = {
      apiUrl: api.url,
      adminUrl: `${api.url}/admin`,
      portalUrl,
      tenantId: seed.tenantId,
      authKey: seed.keys.auth,
      syncKey: seed.keys.sync,
      adminKey: seed.keys.admin,
      operatorKey: seed.keys.operator,
      mqttUrl: mqtt.broker.url,
      dynamoEndpoint: aws.dynamoEndpoint,
      demoUsers: seed.users.map((u) => u.username),
      simulator: { outbox },
      ...(agents.edge?.agent.radius && {
        radius: {
          host: '127.0.0.1',
          port: agents.edge.agent.radius.address.port,
          secret: DEMO_RADIUS_SECRET,
        },
      }),
      console: consoleLogins,
    };
    writeStackFiles(folder, json, seed.agent);

    return {
      json,
      seed,
      dataDir,
      dynamoEndpoint: aws.dynamoEndpoint,
      sqsEndpoint: aws.sqsEndpoint,
      queues: {
        dispatch: aws.queues.dispatch.url,
        dispatchDlq: aws.queues.dispatch.dlqUrl,
        events: aws.queues.events.url,
        eventsDlq: aws.queues.events.dlqUrl,
      },
      broker: mqtt.broker,
      edge: agents.edge,
      edges: agents.edges,
      cipher: cloud.cipher,
      keys,
      pollers,
      serviceCredentials: mqtt.serviceCredentials,
      recovery,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
