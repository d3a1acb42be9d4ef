/**
 * The local stand-in for AWS IoT Core: the broker with its logins (broker-auth.ts) and topic ACL (broker.ts),
 * plain MQTT for the cloud side (as `service`) and seeded agents, MQTT over TLS with client certificates for
 * enrolled agents.
 */
import { randomBytes } from 'node:crypto';
import mqtt from 'mqtt';
import type { Logger } from '../../adapters/log.ts';
import type { DirectoryStore } from '../../core/ports/directory.ts';
import { type Broker, startBroker } from '../broker.ts';
import { brokerAuthenticator, SERVICE_USERNAME } from '../broker-auth.ts';
import { enforceIotRules, IOT_CORE_RULES, type IotRules } from '../iot-rules.ts';
import type { LocalCa } from '../local-ca.ts';
import { type Part, startPart } from './part.ts';

export interface LocalBroker extends Part {
  broker: Broker;
  /** AWS IoT Core's rules as this broker enforces them, with what each refused. */
  iotRules: IotRules;
  /** What the cloud side uses to log in to the broker. */
  serviceCredentials: { username: string; password: string };
  /** A persistent-session client of the cloud side; whoever connects it ends it. */
  connectService(clientId: string): Promise<mqtt.MqttClient>;
}

/** MQTT packets are small; Nagle and delayed ACKs would hold each one back by ~40 ms. */
function noDelay(client: mqtt.MqttClient): void {
  const apply = () => (client.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
  apply();
  client.on('connect', apply);
}

export function startLocalBroker(options: {
  port: number;
  /** MQTT over TLS for enrolled agents, with client certificates the local CA signed. */
  tls: { port: number; ca: LocalCa; host?: string | undefined };
  directory: Pick<DirectoryStore, 'getAgent' | 'getTenant'>;
  /** The stage of the directory's agents. */
  stage: string;
  log: Logger;
}): Promise<LocalBroker> {
  return startPart(options.log, async (stops) => {
    const servicePassword = randomBytes(24).toString('base64url');
    const lanHost = options.tls.host;
    const server = options.tls.ca.serverCertificate(lanHost && lanHost !== '0.0.0.0' ? [lanHost] : []);
    const broker = await startBroker({
      port: options.port,
      tls: {
        port: options.tls.port,
        ...(lanHost && { host: lanHost }),
        key: server.keyPem,
        cert: server.certificatePem,
        ca: options.tls.ca.certificatePem,
      },
      authenticate: brokerAuthenticator({
        directory: options.directory,
        servicePassword,
        stage: options.stage,
      }),
    });
    stops.push(() => broker.close());
    // What IoT Core would refuse fails here too; the log names the rule and the AWS page for it.
    const iotRules = enforceIotRules(broker, {
      onRefusal: (refusal) =>
        options.log.warn('refused as AWS IoT Core would', {
          ...refusal,
          doc: IOT_CORE_RULES[refusal.rule].doc,
        }),
    });
    return {
      broker,
      iotRules,
      serviceCredentials: { username: SERVICE_USERNAME, password: servicePassword },
      async connectService(clientId: string) {
        const client = await mqtt.connectAsync(broker.url, {
          username: SERVICE_USERNAME,
          password: servicePassword,
          clientId,
          protocolVersion: 4,
          clean: false,
          reconnectPeriod: 1000,
        });
        noDelay(client);
        return client;
      },
    };
  });
}
