/**
 * AWS IoT Core's rules, enforced by the local broker, so that a client that IoT Core would refuse or
 * disconnect fails here first instead of after a deploy. Each rule is one row of `IOT_CORE_RULES`, with the
 * AWS page it comes from; topic access is the deployed agent policy itself (contracts/iot-policy.ts).
 *
 * The broker also publishes IoT Core's lifecycle events (`$aws/events/presence/connected|disconnected/…`)
 * with the same JSON, which the local bridge forwards to the events queue as the IoT rule does in AWS.
 *
 * `enforceIotRules` wraps the hooks broker.ts gave aedes (its login and topic ACL run first and stay as they
 * are), and is registered in one place: the broker starter.
 */
import { randomUUID } from 'node:crypto';
import type { Aedes, AuthenticateError, Client, ConnectPacket, PublishPacket, Subscription } from 'aedes';
import {
  agentPolicy,
  type IotPolicyStatement,
  type IotThing,
  policyAllows,
} from '../contracts/iot-policy.ts';
import { agentThingName, type LifecycleEvent, presenceTopic } from '../contracts/presence.ts';
import type { Broker, Principal } from './broker.ts';

const LIMITS_PAGE = 'https://docs.aws.amazon.com/general/latest/gr/iot-core.html#message-broker-limits';

/** The rules, each with its value and where AWS documents it. */
export const IOT_CORE_RULES = {
  clientIdIsThingName: {
    rule: 'an agent connects with its thing name as client id (iot:Connect is allowed on its own thing name only)',
    doc: 'https://docs.aws.amazon.com/iot/latest/developerguide/thing-policy-variables.html',
  },
  thingName: {
    rule: 'thing names are 1-128 characters of [a-zA-Z0-9:_-]',
    pattern: /^[a-zA-Z0-9:_-]{1,128}$/,
    doc: 'https://docs.aws.amazon.com/iot/latest/apireference/API_CreateThing.html',
  },
  clientIdLength: {
    rule: 'a client id is at most 128 bytes',
    max: 128,
    doc: LIMITS_PAGE,
  },
  qos: {
    rule: 'QoS 0 and 1 only; QoS 2 is not supported',
    max: 1,
    doc: 'https://docs.aws.amazon.com/iot/latest/developerguide/mqtt.html#mqtt-qos',
  },
  payloadBytes: {
    rule: 'a message payload is at most 128 KB; a larger publish disconnects the client (CLIENT_ERROR)',
    max: 128 * 1024,
    doc: LIMITS_PAGE,
  },
  topicBytes: {
    rule: 'a topic or topic filter is at most 256 bytes of UTF-8',
    max: 256,
    doc: LIMITS_PAGE,
  },
  topicSlashes: {
    rule: 'a topic or topic filter holds at most 7 forward slashes',
    max: 7,
    doc: LIMITS_PAGE,
  },
  reservedTopics: {
    rule: 'topics starting with $ are reserved; clients may not publish to them',
    doc: 'https://docs.aws.amazon.com/iot/latest/developerguide/reserved-topics.html',
  },
  retainPublish: {
    rule: 'a retained publish (or retained will) needs iot:RetainPublish on the topic; without it the client is disconnected',
    doc: 'https://docs.aws.amazon.com/iot/latest/developerguide/retained-message-policy-examples.html',
  },
  policy: {
    rule: 'publish, subscribe and receive only where the policy allows; an unauthorized publish disconnects the client',
    doc: 'https://docs.aws.amazon.com/iot/latest/developerguide/pub-sub-policy.html',
  },
  subscriptionsPerConnection: {
    rule: 'at most 50 subscriptions per connection',
    max: 50,
    doc: LIMITS_PAGE,
  },
} as const;

export type IotRuleId = keyof typeof IOT_CORE_RULES;

export interface IotRefusal {
  rule: IotRuleId;
  clientId: string;
  detail: string;
}

export interface IotRulesOptions {
  /** The agents' policy of a stage; the deployed one by default (each stage deploys its own). */
  policy?: (stage: string) => readonly IotPolicyStatement[];
  /** Each refusal as it happens (the stack logs them with the AWS page). */
  onRefusal?(refusal: IotRefusal): void;
}

export interface IotRules {
  readonly refusals: readonly IotRefusal[];
}

const NOT_AUTHORIZED = 5;
const IDENTIFIER_REJECTED = 2;

/**
 * What the service side (the IoT rule and the dispatch role in AWS) is: not a thing, no policy of its own. An
 * agent's certificate carries its stage's policy, as enrolment in that stage attached it.
 */
function thingOf(principal: Principal): (IotThing & { stage: string }) | undefined {
  if (principal.kind !== 'agent') return undefined;
  return {
    name: principal.thingName ?? agentThingName(principal),
    attributes: { tenantId: principal.tenantId, agentId: principal.agentId },
    stage: principal.stage,
  };
}

const slashes = (topic: string) => topic.split('/').length - 1;
const payloadBytes = (payload: PublishPacket['payload']) =>
  typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;

export function enforceIotRules(
  broker: Pick<Broker, 'aedes' | 'principalOf'>,
  options: IotRulesOptions = {},
): IotRules {
  const { aedes } = broker;
  const policies = new Map<string, readonly IotPolicyStatement[]>();
  const policyOf = (thing: { stage: string }) => {
    const known = policies.get(thing.stage);
    if (known) return known;
    const policy = (options.policy ?? agentPolicy)(thing.stage);
    policies.set(thing.stage, policy);
    return policy;
  };
  const refusals: IotRefusal[] = [];
  const refuse = (rule: IotRuleId, clientId: string, detail: string): IotRefusal => {
    const refusal = { rule, clientId, detail };
    refusals.push(refusal);
    options.onRefusal?.(refusal);
    return refusal;
  };
  const packets = new WeakMap<Client, ConnectPacket>();
  /** Why the broker is ending a connection, for the lifecycle event's disconnectReason. */
  const endings = new WeakMap<Client, string>();

  /** The first rule a message breaks, or undefined. Shared by publishes and the last will. */
  function publishRefusal(
    clientId: string,
    thing: (IotThing & { stage: string }) | undefined,
    message: { topic: string; qos: number; retain: boolean; payload: PublishPacket['payload'] },
  ): IotRefusal | undefined {
    const { topic } = message;
    if (message.qos > IOT_CORE_RULES.qos.max)
      return refuse('qos', clientId, `QoS ${message.qos} on ${topic}`);
    const size = payloadBytes(message.payload);
    if (size > IOT_CORE_RULES.payloadBytes.max)
      return refuse('payloadBytes', clientId, `${size} bytes on ${topic}`);
    if (Buffer.byteLength(topic) > IOT_CORE_RULES.topicBytes.max)
      return refuse('topicBytes', clientId, `${Buffer.byteLength(topic)}-byte topic`);
    if (slashes(topic) > IOT_CORE_RULES.topicSlashes.max)
      return refuse('topicSlashes', clientId, `${slashes(topic)} slashes in ${topic}`);
    if (topic.startsWith('$')) return refuse('reservedTopics', clientId, `publish to ${topic}`);
    if (thing) {
      if (!policyAllows(policyOf(thing), thing, 'iot:Publish', topic))
        return refuse('policy', clientId, `iot:Publish on ${topic}`);
      if (message.retain && !policyAllows(policyOf(thing), thing, 'iot:RetainPublish', topic))
        return refuse('retainPublish', clientId, `retained publish on ${topic}`);
    } else if (message.retain) {
      // the service side publishes through the dispatch role, which grants iot:Publish only
      return refuse('retainPublish', clientId, `retained publish on ${topic}`);
    }
    return undefined;
  }

  function connectRefusal(client: Client, packet: ConnectPacket | undefined): IotRefusal | undefined {
    const clientId = client.id;
    if (Buffer.byteLength(clientId) > IOT_CORE_RULES.clientIdLength.max)
      return refuse('clientIdLength', clientId.slice(0, 32), `${Buffer.byteLength(clientId)}-byte client id`);
    const principal = broker.principalOf(client);
    const thing = principal && thingOf(principal);
    if (thing) {
      if (!IOT_CORE_RULES.thingName.pattern.test(thing.name))
        return refuse('thingName', clientId, `thing name ${JSON.stringify(thing.name)}`);
      if (!policyAllows(policyOf(thing), thing, 'iot:Connect', clientId))
        return refuse('clientIdIsThingName', clientId, `thing ${thing.name} connected as ${clientId}`);
    }
    const will = packet?.will;
    if (will) {
      return publishRefusal(clientId, thing, {
        topic: will.topic,
        qos: will.qos ?? 0,
        retain: will.retain ?? false,
        payload: will.payload,
      });
    }
    return undefined;
  }

  const preConnect = aedes.preConnect.bind(aedes);
  aedes.preConnect = (client, packet, done) => {
    packets.set(client, packet);
    preConnect(client, packet, done);
  };

  const authenticate = aedes.authenticate.bind(aedes);
  aedes.authenticate = (client, username, password, done) => {
    authenticate(client, username, password, (error, success) => {
      const packet = packets.get(client);
      packets.delete(client);
      if (error || !success) return done(error, success);
      const refusal = connectRefusal(client, packet);
      if (!refusal) return done(null, true);
      const code = refusal.rule === 'clientIdLength' ? IDENTIFIER_REJECTED : NOT_AUTHORIZED;
      const refused = Object.assign(new Error(IOT_CORE_RULES[refusal.rule].rule), { returnCode: code });
      done(refused as AuthenticateError, false);
    });
  };

  const authorizePublish = aedes.authorizePublish.bind(aedes);
  aedes.authorizePublish = (client, packet, done) => {
    // client is null only for a stored will whose owner is gone; it was judged when it connected
    if (client === null) return authorizePublish(client, packet, done);
    const principal = broker.principalOf(client);
    const refusal = publishRefusal(client.id, principal && thingOf(principal), packet);
    if (!refusal) return authorizePublish(client, packet, done);
    // IoT Core answers a refused publish by closing the connection (MQTT 3.1.1 has no negative PUBACK)
    endings.set(client, refusal.rule === 'payloadBytes' ? 'CLIENT_ERROR' : 'AUTH_ERROR');
    done(new Error(`${IOT_CORE_RULES[refusal.rule].rule}: ${refusal.detail}`));
  };

  const subscriptionCounts = new WeakMap<Client, Set<string>>();
  const authorizeSubscribe = aedes.authorizeSubscribe.bind(aedes);
  aedes.authorizeSubscribe = (client, sub: Subscription, done) => {
    const principal = broker.principalOf(client);
    const thing = principal && thingOf(principal);
    const topics = subscriptionCounts.get(client) ?? new Set<string>();
    subscriptionCounts.set(client, topics);
    let refusal: IotRefusal | undefined;
    if (sub.qos > IOT_CORE_RULES.qos.max) refusal = refuse('qos', client.id, `subscribe QoS ${sub.qos}`);
    else if (Buffer.byteLength(sub.topic) > IOT_CORE_RULES.topicBytes.max)
      refusal = refuse('topicBytes', client.id, `${Buffer.byteLength(sub.topic)}-byte topic filter`);
    else if (slashes(sub.topic) > IOT_CORE_RULES.topicSlashes.max)
      refusal = refuse('topicSlashes', client.id, `${slashes(sub.topic)} slashes in ${sub.topic}`);
    else if (thing && !policyAllows(policyOf(thing), thing, 'iot:Subscribe', sub.topic))
      refusal = refuse('policy', client.id, `iot:Subscribe on ${sub.topic}`);
    else if (!topics.has(sub.topic) && topics.size >= IOT_CORE_RULES.subscriptionsPerConnection.max)
      refusal = refuse('subscriptionsPerConnection', client.id, `subscription ${topics.size + 1}`);
    // a null subscription makes aedes answer SUBACK 0x80 for this entry only (IoT Core gives no SUBACK
    // at all to QoS 2; a refusal is the louder way to fail the same client)
    if (refusal) return done(null, null);
    topics.add(sub.topic);
    authorizeSubscribe(client, sub, done);
  };

  const authorizeForward = aedes.authorizeForward.bind(aedes);
  aedes.authorizeForward = (client, packet) => {
    const principal = broker.principalOf(client);
    const thing = principal && thingOf(principal);
    if (thing && !policyAllows(policyOf(thing), thing, 'iot:Receive', packet.topic)) return null;
    return authorizeForward(client, packet);
  };

  emitLifecycleEvents(aedes, broker, endings);
  return { refusals };
}

/**
 * IoT Core's connect/disconnect lifecycle events, published by the broker itself on
 * `$aws/events/presence/…/{clientId}`. `versionNumber` is per client id, the same for a connection's two
 * events and higher for a later connection; seeded from the clock so it keeps rising across broker restarts.
 */
function emitLifecycleEvents(
  aedes: Aedes,
  broker: Pick<Broker, 'principalOf'>,
  endings: WeakMap<Client, string>,
): void {
  const versions = new Map<string, number>();
  const connections = new WeakMap<Client, { session: string; version: number; principal: string }>();

  const publish = (event: LifecycleEvent) =>
    aedes.publish(
      {
        cmd: 'publish',
        topic: presenceTopic(event.eventType, event.clientId),
        payload: Buffer.from(JSON.stringify(event)),
        qos: 1,
        retain: false,
        dup: false,
      },
      () => {},
    );

  aedes.on('client', (client) => {
    // client ids holding MQTT wildcards get no lifecycle events in IoT Core either
    if (/[#+]/.test(client.id)) return;
    const version = Math.max((versions.get(client.id) ?? -1) + 1, Date.now());
    versions.set(client.id, version);
    const principal = broker.principalOf(client);
    const connection = {
      session: randomUUID(),
      version,
      principal: principal?.kind === 'agent' ? agentThingName(principal) : 'service',
    };
    connections.set(client, connection);
    const address = (client.conn as { remoteAddress?: string } | undefined)?.remoteAddress;
    publish({
      clientId: client.id,
      timestamp: Date.now(),
      eventType: 'connected',
      sessionIdentifier: connection.session,
      principalIdentifier: connection.principal,
      ...(address && { ipAddress: address }),
      versionNumber: version,
    });
  });

  aedes.on('keepaliveTimeout', (client) => {
    endings.set(client, 'MQTT_KEEP_ALIVE_TIMEOUT');
  });

  aedes.on('clientDisconnect', (client) => {
    const connection = connections.get(client);
    if (!connection) return;
    const clean = (client as unknown as { _disconnected?: boolean })._disconnected === true;
    const reason = clean ? 'CLIENT_INITIATED_DISCONNECT' : (endings.get(client) ?? 'CONNECTION_LOST');
    publish({
      clientId: client.id,
      timestamp: Date.now(),
      eventType: 'disconnected',
      sessionIdentifier: connection.session,
      principalIdentifier: connection.principal,
      clientInitiatedDisconnect: clean,
      disconnectReason: reason,
      versionNumber: connection.version,
    });
  });
}
