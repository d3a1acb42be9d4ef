/**
 * The local stand-in for AWS IoT Core: an aedes broker (MQTT 3.1.1) on 127.0.0.1 that authenticates every
 * client and keeps each agent inside its own `s/{stage}/t/{tenant}/a/{agent}/…` subtree, as an IoT policy
 * would. One broker stands for one account, so agents of several stages may share it.
 */
import net from 'node:net';
import tls from 'node:tls';
import { Aedes, type AuthenticateError, type Client, type ConnectPacket } from 'aedes';
import { parseAgentTopic, type TopicKind, thingName } from '../contracts/index.ts';

/**
 * Who a connection is. An agent is an IoT thing of one stage: `thingName` is the name its login established (a
 * certificate's thing), by default `{stage}:{tenantId}:{agentId}`; iot-rules.ts holds its client id to it.
 */
export type Principal =
  | { kind: 'agent'; stage: string; tenantId: string; agentId: string; thingName?: string }
  | { kind: 'service' };

/** The client certificate a TLS client presented, already verified against the broker's CA. */
export interface PeerCertificate {
  commonName: string;
  /** SHA-256, `AA:BB:…` as node:crypto's X509Certificate prints it. */
  fingerprint256: string;
}

export interface BrokerOptions {
  host?: string;
  port?: number;
  /**
   * Also listen for MQTT over TLS (as IoT Core does on 8883): clients must present a certificate signed by `ca`,
   * and `authenticate` gets it.
   */
  tls?: {
    port?: number;
    /** Where the TLS listener binds (default: `host`): enrolled agents on the LAN reach only this one. */
    host?: string;
    key: string;
    cert: string;
    ca: string;
  };
  authenticate(
    username: string | undefined,
    password: Buffer | undefined,
    clientId: string,
    certificate?: PeerCertificate,
  ): Promise<Principal | null>;
}

export interface BrokerStats {
  refusedConnects: number;
  refusedSubscribes: number;
  refusedPublishes: number;
  clientErrors: number;
}

export interface Broker {
  url: string;
  port: number;
  /** `mqtts://127.0.0.1:<port>` when started with `tls`. */
  tlsUrl: string | undefined;
  /** Ends at once the sessions of every client whose principal matches (a revoked agent, a suspended tenant). */
  disconnect(matches: (principal: Principal) => boolean): number;
  aedes: Aedes;
  stats: BrokerStats;
  /** Who an authenticated connection is (undefined before its login succeeded). */
  principalOf(client: Client): Principal | undefined;
  close(): Promise<void>;
}

const AGENT_PUBLISH_KINDS: ReadonlySet<TopicKind> = new Set(['events', 'status', 'rpc/res']);
const AGENT_SUBSCRIBE_KINDS: ReadonlySet<TopicKind> = new Set(['jobs', 'rpc/req']);

/**
 * A refused publish is rewritten onto this topic, which nobody may subscribe to and nothing forwards.
 * aedes can only refuse a publish by closing the connection, while the contract here is "drop and count".
 */
const DROPPED_PREFIX = '$dropped/';

const BAD_USERNAME_OR_PASSWORD = 4;
const NOT_AUTHORIZED = 5;

function authError(message: string, returnCode: number): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
}

/** True when `topic` is one of the agent's own topics of the given kinds. */
function isOwnTopic(
  principal: Principal & { kind: 'agent' },
  topic: string,
  kinds: ReadonlySet<TopicKind>,
): boolean {
  const parsed = parseAgentTopic(topic);
  return (
    parsed !== undefined &&
    parsed.stage === principal.stage &&
    parsed.tenantId === principal.tenantId &&
    parsed.agentId === principal.agentId &&
    kinds.has(parsed.kind)
  );
}

/** As IoT Core's policy demands: an agent's client id is its thing name, `{stage}:{tenant}:{agent}`. */
function clientIdFits(principal: Principal & { kind: 'agent' }, clientId: string): boolean {
  return clientId === (principal.thingName ?? thingName(principal));
}

function peerCertificate(client: Client): PeerCertificate | undefined {
  const socket = (client as unknown as { conn?: unknown }).conn;
  if (!(socket instanceof tls.TLSSocket) || !socket.authorized) return undefined;
  const cert = socket.getPeerCertificate();
  const commonName = typeof cert?.subject?.CN === 'string' ? cert.subject.CN : undefined;
  if (!commonName || !cert.fingerprint256) return undefined;
  return { commonName, fingerprint256: cert.fingerprint256 };
}

/** An address to reach a listener at: one bound to every interface is reached here on loopback. */
const urlHost = (host: string) => (host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host);

export async function startBroker({
  host = '127.0.0.1',
  port = 0,
  tls: tlsOptions,
  authenticate,
}: BrokerOptions): Promise<Broker> {
  const principals = new WeakMap<Client, Principal>();
  const connectPackets = new WeakMap<Client, ConnectPacket>();
  const stats: BrokerStats = {
    refusedConnects: 0,
    refusedSubscribes: 0,
    refusedPublishes: 0,
    clientErrors: 0,
  };

  const aedes = await Aedes.createBroker({
    preConnect(client, packet, done) {
      connectPackets.set(client, packet);
      done(null, true);
    },
    authenticate(client, username, password, done) {
      const packet = connectPackets.get(client);
      connectPackets.delete(client);
      const refuse = (message: string, code: number) => {
        stats.refusedConnects++;
        done(authError(message, code), false);
      };
      const certificate = peerCertificate(client);
      if ((username === undefined && !certificate) || !packet)
        return refuse('credentials required', BAD_USERNAME_OR_PASSWORD);
      authenticate(username, password, client.id, certificate).then(
        (principal) => {
          if (!principal) return refuse('bad user name or password', BAD_USERNAME_OR_PASSWORD);
          if (principal.kind === 'agent') {
            if (!clientIdFits(principal, client.id)) return refuse('client id does not match agent', 2);
            if (packet.will && !isOwnTopic(principal, packet.will.topic, new Set(['status']))) {
              return refuse('last will must be on the agent status topic', NOT_AUTHORIZED);
            }
          }
          principals.set(client, principal);
          done(null, true);
        },
        () => refuse('authentication failed', NOT_AUTHORIZED),
      );
    },
    authorizeSubscribe(client, sub, done) {
      const principal = principals.get(client);
      const allowed =
        principal !== undefined &&
        !sub.topic.startsWith(DROPPED_PREFIX) &&
        (principal.kind === 'service' || isOwnTopic(principal, sub.topic, AGENT_SUBSCRIBE_KINDS));
      if (allowed) return done(null, sub);
      stats.refusedSubscribes++;
      // a null subscription makes aedes answer SUBACK 0x80 for this entry only
      done(null, null);
    },
    authorizePublish(client, packet, done) {
      // client is null only for a stored will whose owner is gone; it was checked when it connected
      if (client === null) return done(null);
      const principal = principals.get(client);
      const allowed =
        principal !== undefined &&
        !packet.topic.startsWith('$') &&
        (principal.kind === 'service' || isOwnTopic(principal, packet.topic, AGENT_PUBLISH_KINDS));
      if (!allowed) {
        stats.refusedPublishes++;
        packet.topic = `${DROPPED_PREFIX}${client.id}`;
        packet.retain = false;
        packet.payload = Buffer.alloc(0);
      }
      done(null);
    },
    authorizeForward(_client, packet) {
      return packet.topic.startsWith(DROPPED_PREFIX) ? null : packet;
    },
  });

  aedes.on('clientError', () => {
    stats.clientErrors++;
  });
  aedes.on('connectionError', () => {
    stats.clientErrors++;
  });

  const sockets = new Set<net.Socket>();
  const accept = (socket: net.Socket) => {
    // MQTT packets are small; without this, Nagle and delayed ACKs add ~40 ms to a publish.
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {
      stats.clientErrors++;
    });
    aedes.handle(socket);
  };
  const listen = async (server: net.Server, at: number, on = host) => {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(at, on, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', () => {
      stats.clientErrors++;
    });
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('broker did not bind a TCP port');
    return address.port;
  };
  const server = net.createServer(accept);
  const boundPort = await listen(server, port);
  const tlsServer = tlsOptions
    ? tls.createServer(
        {
          key: tlsOptions.key,
          cert: tlsOptions.cert,
          ca: tlsOptions.ca,
          requestCert: true,
          rejectUnauthorized: true,
        },
        accept,
      )
    : undefined;
  // a failed handshake (no certificate, or one the CA did not sign) never reaches aedes
  tlsServer?.on('tlsClientError', () => {
    stats.refusedConnects++;
  });
  const tlsHost = tlsOptions?.host ?? host;
  const tlsPort = tlsServer ? await listen(tlsServer, tlsOptions?.port ?? 0, tlsHost) : undefined;

  let closing: Promise<void> | undefined;
  return {
    url: `mqtt://${host}:${boundPort}`,
    port: boundPort,
    tlsUrl: tlsPort === undefined ? undefined : `mqtts://${urlHost(tlsHost)}:${tlsPort}`,
    aedes,
    stats,
    principalOf: (client) => principals.get(client),
    disconnect(matches) {
      let ended = 0;
      const clients = (aedes as unknown as { clients: Record<string, Client> }).clients;
      for (const client of Object.values(clients)) {
        const principal = principals.get(client);
        if (principal && matches(principal)) {
          client.close();
          ended++;
        }
      }
      return ended;
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        let open = tlsServer ? 2 : 1;
        const closed = () => {
          if (--open === 0) resolve();
        };
        server.close(closed);
        tlsServer?.close(closed);
        // aedes closes the clients it registered; a socket still in CONNECT or authentication is not one yet
        aedes.close(() => {
          for (const socket of sockets) socket.destroy();
        });
      });
      return closing;
    },
  };
}

/**
 * Ends the live sessions of one tenant's agents, as suspending a tenant must stop its agents at once; the
 * broker's authentication refuses them on reconnect while the tenant is not active.
 */
export function brokerSessions(broker: Pick<Broker, 'disconnect'>) {
  return {
    async disconnectTenant(tenantId: string) {
      broker.disconnect((p) => p.kind === 'agent' && p.tenantId === tenantId);
    },
  };
}
