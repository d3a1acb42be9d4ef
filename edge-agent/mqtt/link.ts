/**
 * The agent's MQTT link to AWS IoT Core (client certificate over mqtts) or to aedes/mosquitto (user and
 * password). A persistent session with a fixed client id keeps jobs queued at the broker while the agent is
 * away; a job is acknowledged only after `onJob` resolves, so the agent can make it durable first.
 */
import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import {
  AgentEvent,
  type AgentStatus,
  eventsTopic,
  jobsTopic,
  rpcRequestTopic,
  rpcResponseTopic,
  type StagedAgent,
  statusTopic,
  thingName,
} from '../../functions/contracts/index.ts';
import { type BackoffOptions, backoffDelay } from '../backoff.ts';
import { type Logger, silentLogger } from '../log.ts';
import { Outbox, type OutboxItem } from './outbox.ts';

export interface MqttLinkOptions {
  /** `mqtt://host:port` for aedes/mosquitto, `mqtts://host:8883` (or :443) for AWS IoT Core. */
  url: string;
  /** The deployment's stage: the prefix of every topic and part of the thing name. */
  stage: string;
  tenantId: string;
  agentId: string;
  username?: string | undefined;
  password?: string | undefined;
  /** PEM contents of the client certificate, its key and the CA that signs the broker's certificate. */
  tls?: { cert?: string | Buffer; key?: string | Buffer; ca?: string | Buffer } | undefined;
  /** 4 (MQTT 3.1.1) by default: aedes speaks nothing else; AWS IoT Core and mosquitto accept 4 or 5. */
  protocolVersion?: 4 | 5 | undefined;
  keepaliveSeconds?: number | undefined;
  connectTimeoutMs?: number | undefined;
  backoff?: BackoffOptions | undefined;
  /** Events kept while offline before `modem.status` ones are dropped. */
  outboxLimit?: number | undefined;
  /** Events handed to the client and not yet acknowledged, at most. */
  maxInflight?: number | undefined;
  log?: Logger | undefined;
  /** Each message on the jobs topic. PUBACK is sent only once this resolves; a rejection withholds it. */
  onJob(payload: Buffer): Promise<void>;
  /** Each message on the rpc/req topic; acknowledged once this settles. */
  onRpcRequest?(payload: Buffer): Promise<void>;
  /** After every successful CONNACK and subscription. */
  onConnect?(info: { sessionPresent: boolean }): void;
}

export interface LinkStats {
  connects: number;
  connectionLosses: number;
  eventsPublished: number;
  eventsDropped: number;
  jobsAcked: number;
  jobsUnacked: number;
}

const OFFLINE: AgentStatus = { v: 1, state: 'offline' };

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 1_000, maxMs: 60_000 };

/** Every topic the agent uses: it subscribes to `jobs` and `rpcReq`, and publishes on the others. */
export function agentLinkTopics(address: StagedAgent) {
  return {
    jobs: jobsTopic(address),
    rpcReq: rpcRequestTopic(address),
    rpcRes: rpcResponseTopic(address),
    events: eventsTopic(address),
    status: statusTopic(address),
  };
}

export class MqttLink {
  readonly stats: LinkStats = {
    connects: 0,
    connectionLosses: 0,
    eventsPublished: 0,
    eventsDropped: 0,
    jobsAcked: 0,
    jobsUnacked: 0,
  };
  private client: MqttClient | undefined;
  private readonly outbox: Outbox;
  private readonly log: Logger;
  private readonly topics: ReturnType<typeof agentLinkTopics>;
  private inflight = 0;
  private subscribedConnects = 0;
  private attempt = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private closing = false;
  private drainWaiters: Array<() => void> = [];
  private connectWaiters: Array<() => void> = [];

  constructor(private readonly options: MqttLinkOptions) {
    this.topics = agentLinkTopics({
      stage: options.stage,
      tenantId: options.tenantId,
      agentId: options.agentId,
    });
    this.outbox = new Outbox(options.outboxLimit ?? 10_000);
    this.log = (options.log ?? silentLogger).child({ component: 'mqtt' });
  }

  get connected(): boolean {
    return this.client?.connected === true;
  }

  /** Connected, and the broker answered the subscription to the jobs topic on this connection. */
  private get ready(): boolean {
    return this.connected && this.subscribedConnects === this.stats.connects;
  }

  /** Events not yet acknowledged by the broker: queued here plus handed to the client. */
  get pending(): number {
    return this.outbox.size + this.inflight;
  }

  /** Starts connecting; reconnects on its own until `close()`. */
  start(): void {
    if (this.client) return;
    const { options } = this;
    const clientOptions: IClientOptions = {
      // IoT Core's policy lets a certificate connect only with its thing's name as client id
      clientId: thingName({ stage: options.stage, tenantId: options.tenantId, agentId: options.agentId }),
      clean: false,
      protocolVersion: options.protocolVersion ?? 4,
      keepalive: options.keepaliveSeconds ?? 30,
      connectTimeout: options.connectTimeoutMs ?? 10_000,
      // reconnects are ours, with backoff and jitter
      reconnectPeriod: 0,
      // subscriptions are ours too, on every CONNACK, so a broker that lost the session gets them back
      resubscribe: false,
      // Not retained: IoT Core disconnects a retained publish without iot:RetainPublish, which the policy does
      // not grant; the cloud takes presence from IoT Core's lifecycle events instead.
      will: {
        topic: this.topics.status,
        payload: Buffer.from(JSON.stringify(OFFLINE)),
        qos: 1,
        retain: false,
      },
    };
    if (options.protocolVersion === 5) {
      // a session that outlives a restart of the agent, as long as the broker allows (AWS IoT: up to 7 days)
      clientOptions.properties = { sessionExpiryInterval: 7 * 24 * 3600 };
    }
    if (options.username !== undefined) clientOptions.username = options.username;
    if (options.password !== undefined) clientOptions.password = options.password;
    if (options.tls) {
      if (options.tls.cert !== undefined) clientOptions.cert = options.tls.cert;
      if (options.tls.key !== undefined) clientOptions.key = options.tls.key;
      if (options.tls.ca !== undefined) clientOptions.ca = options.tls.ca;
      clientOptions.rejectUnauthorized = true;
      // AWS IoT Core serves MQTT with client certificates on 443 only when asked for by ALPN
      if (new URL(options.url).port === '443') clientOptions.ALPNProtocols = ['x-amzn-mqtt-ca'];
    }

    const client = mqtt.connect(options.url, clientOptions);
    this.client = client;
    client.handleMessage = (packet, done) => this.handleMessage(packet, done);
    client.on('connect', (connack) => {
      // Small packets: without this, Nagle and delayed ACKs hold an event back by ~40 ms.
      (client.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
      this.onConnack(connack.sessionPresent === true);
    });
    client.on('error', (err) => this.log.warn('mqtt error', { err }));
    client.on('close', () => this.onClose());
  }

  /** Queues an event; resolves true once the broker acknowledged it, false if it was dropped or never sent. */
  publishEvent(event: AgentEvent): Promise<boolean> {
    const checked = AgentEvent.safeParse(event);
    if (!checked.success) {
      this.log.error('refusing to publish an event that breaks the contract', {
        type: event.type,
        issues: checked.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`),
      });
      return Promise.resolve(false);
    }
    if (this.closing && !this.client) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      this.outbox.push({
        event: checked.data,
        payload: JSON.stringify(checked.data),
        settle: (acked) => {
          if (!acked) this.stats.eventsDropped++;
          resolve(acked);
        },
      });
      this.pump();
    });
  }

  /** Sends a reply on the rpc/res topic (QoS 1); resolves true once acknowledged. */
  publishRpcResponse(payload: string | Buffer): Promise<boolean> {
    const client = this.client;
    if (!client?.connected) return Promise.resolve(false);
    return client.publishAsync(this.topics.rpcRes, payload, { qos: 1 }).then(
      () => true,
      () => false,
    );
  }

  /** Resolves once the link is connected and subscribed (immediately if it is). */
  waitConnected(): Promise<void> {
    if (this.ready) return Promise.resolve();
    return new Promise((resolve) => this.connectWaiters.push(resolve));
  }

  /** Waits until every queued event is acknowledged; false if `timeoutMs` passed first. */
  flush(timeoutMs?: number): Promise<boolean> {
    if (this.pending === 0) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        if (timer) clearTimeout(timer);
        resolve(true);
      };
      this.drainWaiters.push(done);
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          this.drainWaiters = this.drainWaiters.filter((w) => w !== done);
          resolve(false);
        }, timeoutMs);
        timer.unref();
      }
    });
  }

  /**
   * Says goodbye: an `offline` status (a clean DISCONNECT suppresses the last will), then DISCONNECT.
   * The persistent session stays at the broker, so jobs sent meanwhile wait for the next start.
   */
  async close(timeoutMs = 3_000): Promise<void> {
    this.closing = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    const client = this.client;
    if (!client) return;
    // a connection that died without our noticing yet would leave these waiting forever
    const giveUp = new Promise<'timeout'>((resolve) =>
      setTimeout(() => resolve('timeout'), timeoutMs).unref(),
    );
    if (client.connected) {
      const goodbye = client
        .publishAsync(this.topics.status, JSON.stringify({ ...OFFLINE, at: new Date().toISOString() }), {
          qos: 1,
        })
        .then(
          () => 'sent' as const,
          (err: unknown) => {
            this.log.warn('could not publish offline status', { err });
            return 'failed' as const;
          },
        );
      if ((await Promise.race([goodbye, giveUp])) === 'sent') {
        await Promise.race([client.endAsync().catch(() => {}), giveUp]);
      }
    }
    await client.endAsync(true).catch(() => {});
    this.outbox.abandon();
    this.client = undefined;
  }

  private onConnack(sessionPresent: boolean): void {
    const client = this.client;
    if (!client) return;
    this.stats.connects++;
    this.attempt = 0;
    this.log.info('connected', { sessionPresent, url: this.options.url });
    const online: AgentStatus = { v: 1, state: 'online', at: new Date().toISOString() };
    client.publish(this.topics.status, JSON.stringify(online), { qos: 1 }, (err) => {
      if (err) this.log.warn('could not publish online status', { err });
    });
    // events may flow at once; "ready" (waiters, onConnect, agent.online) waits for the SUBACK, so nothing
    // published to the jobs topic after it can miss a fresh session's subscription
    this.pump();
    client.subscribe({ [this.topics.jobs]: { qos: 1 }, [this.topics.rpcReq]: { qos: 1 } }, (err, granted) => {
      if (err) {
        // mqtt.js hands over the SUBACK on the error when the broker answered; without one the connection went
        const codes = (err as { packet?: { granted?: unknown } }).packet?.granted;
        const refused = Array.isArray(codes)
          ? (granted ?? []).filter((_, i) => (Number(codes[i]) & 0x80) !== 0).map((g) => g.topic)
          : [];
        if (refused.length === 0) {
          this.log.warn('subscribe failed; retried on the next connect', { err });
          return;
        }
        // a refusal means the broker's policy does not let this agent read its own topics: a setup error
        this.log.error('subscription refused by the broker', { topics: refused });
      } else {
        this.log.debug('subscribed', { topics: granted?.map((g) => g.topic) });
      }
      if (client !== this.client || !client.connected) return;
      this.subscribedConnects = this.stats.connects;
      for (const waiter of this.connectWaiters.splice(0)) waiter();
      this.options.onConnect?.({ sessionPresent });
    });
  }

  private onClose(): void {
    if (this.closing) return;
    if (this.stats.connects > 0) this.stats.connectionLosses++;
    if (this.reconnectTimer) return;
    const delay = backoffDelay(this.attempt++, this.options.backoff ?? DEFAULT_BACKOFF);
    this.log.info('disconnected; reconnecting', {
      inMs: delay,
      attempt: this.attempt,
      pending: this.pending,
    });
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      const client = this.client;
      // mqtt.js's public reconnect() starts with empty stores unless given the old ones, which would lose
      // the events in flight when the connection dropped
      if (!this.closing && client) {
        client.reconnect({ incomingStore: client.incomingStore, outgoingStore: client.outgoingStore });
      }
    }, delay);
  }

  private handleMessage(packet: IPublishPacket, done: (error?: Error) => void): void {
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
    if (packet.topic === this.topics.jobs) {
      this.options.onJob(payload).then(
        () => {
          this.stats.jobsAcked++;
          done();
        },
        (err: unknown) => {
          // no PUBACK, and a fresh connection: the broker keeps the job in the session and sends it again
          // after the reconnect (with backoff), instead of leaving it stuck in this connection's window
          this.stats.jobsUnacked++;
          this.log.error('job not acknowledged; reconnecting to have it redelivered', { err });
          done(err instanceof Error ? err : new Error(String(err)));
          this.client?.stream?.destroy();
        },
      );
      return;
    }
    if (packet.topic === this.topics.rpcReq && this.options.onRpcRequest) {
      this.options.onRpcRequest(payload).then(
        () => done(),
        (err: unknown) => {
          this.log.warn('rpc request failed', { err });
          done();
        },
      );
      return;
    }
    this.log.debug('ignoring message', { topic: packet.topic, bytes: payload.length });
    done();
  }

  /** Hands queued events to the client while connected, keeping a bounded number in flight. */
  private pump(): void {
    const client = this.client;
    const maxInflight = this.options.maxInflight ?? 32;
    while (client?.connected && this.inflight < maxInflight) {
      const item = this.outbox.shift();
      if (!item) break;
      this.send(client, item);
    }
    this.checkDrained();
  }

  private send(client: MqttClient, item: OutboxItem): void {
    this.inflight++;
    // with clean: false, mqtt.js keeps an unacknowledged publish across reconnects and resends it before
    // anything newer, so order holds; the callback fires only at PUBACK or when the client is ended
    client.publish(this.topics.events, item.payload, { qos: 1 }, (err) => {
      this.inflight--;
      if (err) {
        // an error while still connected is about the packet itself: retrying would loop forever
        if (this.closing || client.connected) {
          this.log.warn('event not published', { type: item.event.type, err });
          item.settle(false);
        } else {
          this.outbox.unshift(item);
        }
      } else {
        this.stats.eventsPublished++;
        item.settle(true);
      }
      this.pump();
    });
  }

  private checkDrained(): void {
    if (this.pending === 0) for (const waiter of this.drainWaiters.splice(0)) waiter();
  }
}
