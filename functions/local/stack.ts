/**
 * The whole product on 127.0.0.1: dynalite, fauxqs, the MQTT broker, the hono apps, the queue pollers,
 * the events bridge, a demo tenant and an edge agent with simulated modems. `npm start` runs it, and the
 * end-to-end tests and benchmarks start the very same thing with ephemeral ports and in-memory data.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import mqtt from 'mqtt';
import { KeyFileCredentialCipher } from '../adapters/credentials/key-file-cipher.ts';
import { FetchHttpTransport } from '../adapters/http/fetch-transport.ts';
import { createLogger, type Logger } from '../adapters/log.ts';
import { pooledSmtpTransports } from '../adapters/mail/smtp-transport-factory.ts';
import { MqttJobPublisher } from '../adapters/mqtt/mqtt-publisher.ts';
import { Bulkheads } from '../core/channels/bulkhead.ts';
import type { MailTransport } from '../core/channels/email.ts';
import type { SmtpSettings } from '../core/channels/mail-params.ts';
import type { Clock } from '../core/clock.ts';
import { CachingCredentialCipher } from '../core/credential-cipher.ts';
import { newId } from '../core/ids.ts';
import type { CredentialCipher } from '../core/ports/credentials.ts';
import { DeploymentKeys } from '../core/secrets.ts';
import {
  buildAdminApp,
  buildAuthApp,
  buildDispatchHandler,
  buildEventsHandler,
  buildOperatorApp,
  buildSyncApp,
  stores,
} from '../deps.ts';
import { serveApi } from '../http/node-server.ts';
import { localDynamo, localSqs } from './aws-local.ts';
import { startEventsBridge } from './bridge.ts';
import { type Broker, brokerSessions, startBroker } from './broker.ts';
import { brokerAuthenticator } from './broker-auth.ts';
import { DispatchOutbox } from './dispatch-outbox.ts';
import { ensureTable } from './dynamo.ts';
import { type LocalEdge, startLocalEdge } from './edge.ts';
import { routeByFunction } from './http-router.ts';
import { SqsPoller } from './poller.ts';
import { makePrivate } from './private-files.ts';
import { type RestartRecovery, recoverAfterRestart } from './recovery.ts';
import { type DemoSeed, registerAgent, seedTenant } from './seed.ts';
import { createQueueWithDlq } from './sqs.ts';
import { startStandIns } from './stand-ins.ts';

export const TABLE_NAME = 'smspass';

export interface LocalStackOptions {
  /** Where data lives between runs (`.local`). Without it, everything is in memory or in a temp folder. */
  dataDir?: string;
  ports?: { api?: number; dynamo?: number; sqs?: number; mqtt?: number; modems?: number[] };
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
  /** How e-mail providers reach SMTP servers (default: pooled nodemailer transports). */
  smtp?: (settings: SmtpSettings) => MailTransport;
}

/** The `.local/stack.json` a newcomer reads (DESIGN.md "The local stack"). */
export interface StackJson {
  apiUrl: string;
  adminUrl: string;
  portalUrl: string;
  tenantId: string;
  authKey: string;
  syncKey: string;
  adminKey: string;
  operatorKey: string;
  mqttUrl: string;
  demoUsers: string[];
  simulator: { outbox: string };
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

/** MQTT packets are small; Nagle and delayed ACKs would hold each one back by ~40 ms. */
function noDelay(client: mqtt.MqttClient): void {
  const apply = () => (client.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
  apply();
  client.on('connect', apply);
}

function loadOrCreateSecret(dataDir: string | undefined): Buffer {
  if (!dataDir) return randomBytes(32);
  const file = join(dataDir, 'deployment.key');
  if (existsSync(file)) return Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
  const secret = randomBytes(32);
  writeFileSync(file, secret.toString('base64'), { mode: 0o600 });
  return secret;
}

function readPrevious(dataDir: string | undefined): Partial<DemoSeed> | undefined {
  if (!dataDir) return undefined;
  try {
    const saved = JSON.parse(readFileSync(join(dataDir, 'stack.json'), 'utf8')) as StackJson;
    const agent = JSON.parse(
      readFileSync(join(dataDir, 'agent-credentials.json'), 'utf8'),
    ) as DemoSeed['agent'];
    return {
      keys: { auth: saved.authKey, sync: saved.syncKey, admin: saved.adminKey, operator: saved.operatorKey },
      agent,
    };
  } catch {
    return undefined;
  }
}

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const log = options.log ?? createLogger({ app: 'local-stack' });
  const persistent = options.dataDir !== undefined;
  const dataDir = persistent ? resolve(options.dataDir!) : mkdtempSync(join(tmpdir(), 'smspass-'));
  // A temporary folder is already private (mkdtemp makes it 0700).
  if (persistent) makePrivate(dataDir);
  const stops: Array<() => Promise<unknown>> = [];
  const stop = async () => {
    for (const fn of stops.reverse())
      await fn().catch((error: unknown) => log.warn('stop step failed', { error }));
  };

  try {
    const keys = new DeploymentKeys(loadOrCreateSecret(persistent ? dataDir : undefined));

    const standIns = await startStandIns({
      dynamoPort: options.ports?.dynamo ?? 0,
      sqsPort: options.ports?.sqs ?? 0,
      ...(persistent && { dynamoPath: join(dataDir, 'dynamo') }),
      worker: options.standInsInWorker ?? false,
    });
    stops.push(() => standIns.close());
    const dynamoClient = localDynamo(standIns.dynamoEndpoint);
    stops.push(async () => dynamoClient.destroy());
    await ensureTable(dynamoClient, TABLE_NAME);

    const sqs = localSqs(standIns.sqsEndpoint);
    stops.push(async () => sqs.destroy());
    const dispatchQueue = await createQueueWithDlq(sqs, 'smspass-dispatch', options.queues);
    const eventsQueue = await createQueueWithDlq(sqs, 'smspass-events', options.queues);
    // fauxqs forgets its messages when the process dies: a copy on disk lets a restart send them again.
    const dispatchOutbox = persistent ? DispatchOutbox.open(dataDir) : undefined;
    if (dispatchOutbox) {
      dispatchOutbox.attach(sqs, dispatchQueue.url);
      stops.push(async () => dispatchOutbox.close());
    }

    const seed = await seedTenant(dynamoClient, TABLE_NAME, {
      previous: readPrevious(persistent ? dataDir : undefined),
    });
    const { directory } = stores({ dynamo: dynamoClient, table: TABLE_NAME });

    const servicePassword = randomBytes(24).toString('base64url');
    const broker = await startBroker({
      port: options.ports?.mqtt ?? 0,
      authenticate: brokerAuthenticator({ directory, servicePassword }),
    });
    stops.push(() => broker.close());

    const serviceClient = await mqtt.connectAsync(broker.url, {
      username: 'service',
      password: servicePassword,
      clientId: 'cloud-service',
      protocolVersion: 4,
      clean: false,
      reconnectPeriod: 1000,
    });
    stops.push(() => serviceClient.endAsync(true));
    noDelay(serviceClient);

    // Provider credentials and TOTP secrets: AES-GCM under a key file of the data folder (KMS in AWS).
    const cipher = new CachingCredentialCipher(KeyFileCredentialCipher.fromDirectory(dataDir));
    const smtp = options.smtp ?? pooledSmtpTransports();
    if (!options.smtp) stops.push(async () => (smtp as ReturnType<typeof pooledSmtpTransports>).close());
    const ctx = {
      dynamo: dynamoClient,
      table: TABLE_NAME,
      keys,
      log,
      cipher,
      ...(options.clock && { clock: options.clock }),
    };
    const queueCtx = { sqs, dispatchQueueUrl: dispatchQueue.url, agentCacheMs: 1000 };
    const authApp = buildAuthApp({ ...ctx, ...queueCtx });
    const { handler: dispatchHandler } = buildDispatchHandler({
      ...ctx,
      ...queueCtx,
      publisher: new MqttJobPublisher(serviceClient),
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
    const tapDispatch = options.tap?.dispatchBatch;
    const dispatchEntry = tapDispatch
      ? (event: SQSEvent) => {
          tapDispatch(event);
          return dispatchHandler(event);
        }
      : dispatchHandler;

    const arnOf = async (url: string) =>
      (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] })))
        .Attributes?.QueueArn;
    const pollers = {
      dispatch: new SqsPoller({
        client: sqs,
        queueUrl: dispatchQueue.url,
        queueArn: await arnOf(dispatchQueue.url),
        handler: dispatchEntry,
        log,
        concurrency: 4,
      }).start(),
      events: new SqsPoller({
        client: sqs,
        queueUrl: eventsQueue.url,
        queueArn: await arnOf(eventsQueue.url),
        handler: eventsHandler,
        log,
        concurrency: 4,
      }).start(),
    };
    stops.push(() => pollers.dispatch.stop());
    stops.push(() => pollers.events.stop());

    const bridgeClient = await mqtt.connectAsync(broker.url, {
      username: 'service',
      password: servicePassword,
      clientId: 'cloud-events-bridge',
      protocolVersion: 4,
      clean: false,
      reconnectPeriod: 1000,
    });
    stops.push(() => bridgeClient.endAsync(true));
    noDelay(bridgeClient);
    await startEventsBridge({ mqtt: bridgeClient, sqs, queueUrl: eventsQueue.url, log });

    // Every API on one server, routed as API Gateway routes them.
    const apiFetch = routeByFunction({
      auth: authApp,
      sync: buildSyncApp(ctx),
      admin: buildAdminApp(ctx),
      operator: buildOperatorApp({ ...ctx, agentSessions: brokerSessions(broker) }),
    });

    const { server, port: apiPort } = await serveApi({
      fetch: apiFetch,
      port: options.ports?.api ?? 0,
      hostname: '127.0.0.1',
    });
    stops.push(
      () =>
        new Promise<void>((r) => {
          server.closeAllConnections?.();
          server.close(() => r());
        }),
    );
    const apiUrl = `http://127.0.0.1:${apiPort}`;

    const outbox = join(dataDir, 'sim', 'outbox.jsonl');
    let edge: LocalEdge | undefined;
    const edges = new Map<string, LocalEdge>();
    if (options.edge !== false) {
      const demoGroups = options.modemGroups ?? [];
      const agents = [
        {
          agent: seed.agent,
          modems: options.modemGroups?.length ?? options.modems ?? 2,
          groups: demoGroups,
          prefix: 'modem-',
          ports: options.ports?.modems ?? [],
        },
      ];
      for (const extra of options.extraAgents ?? []) {
        const agent = { agentId: extra.agentId, secret: newId(24), modemGroups: [...new Set(extra.groups)] };
        await registerAgent(dynamoClient, TABLE_NAME, seed.tenantId, agent);
        agents.push({
          agent,
          modems: extra.groups.length,
          groups: extra.groups,
          prefix: `${extra.agentId}-modem-`,
          ports: [],
        });
      }
      if (demoGroups.length > 0)
        await registerAgent(dynamoClient, TABLE_NAME, seed.tenantId, {
          ...seed.agent,
          modemGroups: [...new Set(demoGroups)],
        });
      for (const a of agents) {
        const started = await startLocalEdge({
          tenantId: seed.tenantId,
          agent: a.agent,
          mqttUrl: broker.url,
          stateDir: join(
            dataDir,
            a.agent.agentId === seed.agent.agentId ? 'agent' : `agent-${a.agent.agentId}`,
          ),
          outbox,
          modems: a.modems,
          groups: a.groups,
          namePrefix: a.prefix,
          modemPorts: a.ports,
          sendMs: options.modemSendMs ?? 0,
        });
        edges.set(a.agent.agentId, started);
        stops.push(() => started.stop());
      }
      edge = edges.get(seed.agent.agentId);
      // Ready means ready: the cloud has heard each agent come online and report its modems healthy, so the
      // first login is routed and dispatched.
      const deadline = Date.now() + 15_000;
      for (const a of agents) {
        for (;;) {
          const stored = await directory.getAgent(seed.tenantId, a.agent.agentId);
          const reports = Object.values(stored?.modems ?? {});
          if (stored?.state === 'online' && reports.length >= a.modems && reports.every((m) => m.healthy))
            break;
          if (Date.now() > deadline)
            throw new Error(
              `edge agent ${a.agent.agentId} did not come online with healthy modems within 15 s`,
            );
          await new Promise((r) => setTimeout(r, 25));
        }
      }
    }

    const recovery = dispatchOutbox
      ? await recoverAfterRestart({
          dynamo: dynamoClient,
          table: TABLE_NAME,
          sqs,
          dispatchQueueUrl: dispatchQueue.url,
          outbox: dispatchOutbox,
          log,
          ...(options.clock && { clock: options.clock }),
        })
      : undefined;
    if (recovery && recovery.waiting > 0) log.warn('steps the previous run left waiting', { ...recovery });

    const json: StackJson = {
      apiUrl,
      adminUrl: `${apiUrl}/admin`,
      portalUrl: `${apiUrl}/portal`,
      tenantId: seed.tenantId,
      authKey: seed.keys.auth,
      syncKey: seed.keys.sync,
      adminKey: seed.keys.admin,
      operatorKey: seed.keys.operator,
      mqttUrl: broker.url,
      demoUsers: seed.users.map((u) => u.username),
      simulator: { outbox },
    };
    if (persistent) {
      writeFileSync(join(dataDir, 'stack.json'), `${JSON.stringify(json, null, 2)}\n`, { mode: 0o600 });
      // The agent's credentials are kept so that a second start reuses them.
      writeFileSync(join(dataDir, 'agent-credentials.json'), `${JSON.stringify(seed.agent)}\n`, {
        mode: 0o600,
      });
    }

    return {
      json,
      seed,
      dataDir,
      dynamoEndpoint: standIns.dynamoEndpoint,
      sqsEndpoint: standIns.sqsEndpoint,
      queues: {
        dispatch: dispatchQueue.url,
        dispatchDlq: dispatchQueue.dlqUrl,
        events: eventsQueue.url,
        eventsDlq: eventsQueue.dlqUrl,
      },
      broker,
      edge,
      edges,
      cipher,
      keys,
      pollers,
      serviceCredentials: { username: 'service', password: servicePassword },
      recovery,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
