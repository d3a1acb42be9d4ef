/**
 * Agent presence the AWS way: IoT Core's lifecycle events, which the broker itself publishes when a client
 * connects or disconnects (https://docs.aws.amazon.com/iot/latest/developerguide/life-cycle-events.html).
 * An IoT rule forwards them to the events queue; the local broker publishes the same JSON on the same topics
 * and the local bridge forwards them the same way.
 *
 * Why lifecycle events rather than a retained status the agent publishes: they need no `iot:RetainPublish`
 * (IoT Core disconnects a client that publishes retained without it), they come from the broker even when
 * the agent vanishes without a word (power cut, NAT timeout), and no agent bug can fake or forget them.
 */
import * as z from 'zod';
import { bridgedRuleSql } from './messages.ts';
import { stageThingNamePrefix } from './topics.ts';

export const PRESENCE_TOPIC_PREFIX = '$aws/events/presence/';
/** What the local bridge subscribes to; the IoT rule's SQL reads the same topics. */
export const ALL_PRESENCE_FILTER = '$aws/events/presence/+/+';

export type PresenceEventType = 'connected' | 'disconnected';

export const presenceTopic = (eventType: PresenceEventType, clientId: string) =>
  `${PRESENCE_TOPIC_PREFIX}${eventType}/${clientId}`;

/**
 * The events as IoT Core documents them. Unknown fields are ignored (AWS may add some); `thingName` only
 * comes with the exclusive-thing feature, so the client id (which the policy holds equal to the thing name)
 * says which agent it is.
 */
export const LifecycleEvent = z.object({
  clientId: z.string().min(1).max(128),
  /** Milliseconds since the epoch, ±2 minutes accurate (AWS). */
  timestamp: z.number().int().nonnegative(),
  eventType: z.enum(['connected', 'disconnected']),
  sessionIdentifier: z.string().max(128).optional(),
  principalIdentifier: z.string().max(512).optional(),
  ipAddress: z.string().max(64).optional(),
  /** Same for the connect and disconnect of one connection, higher for a later one; may reset to 0. */
  versionNumber: z.number().int().nonnegative(),
  clientInitiatedDisconnect: z.boolean().optional(),
  disconnectReason: z.string().max(64).optional(),
});
export type LifecycleEvent = z.infer<typeof LifecycleEvent>;

/**
 * The IoT rule that forwards lifecycle events, wrapped like agents' events (see `BridgedMessage`): the
 * topic says connected or disconnected and names the client. Lifecycle events are account-wide, so each
 * stage's rule keeps only the clients whose thing name carries its stage (the local bridge does the same with
 * `isStagePresence`). `startswith(String, String)` is an IoT SQL function (SQL reference, "Functions": since
 * version 2015-10-08); `clientId` is a field of the lifecycle event's payload.
 */
export const iotPresenceRuleSql = (stage: string) =>
  bridgedRuleSql(ALL_PRESENCE_FILTER, `startswith(clientId, '${stageThingNamePrefix(stage)}')`);

/** Whether a lifecycle event's topic is about a client of `stage`, as the stage's presence rule decides. */
export const isStagePresence = (stage: string, topic: string) => {
  if (!topic.startsWith(PRESENCE_TOPIC_PREFIX)) return false;
  const clientId = topic.slice(topic.indexOf('/', PRESENCE_TOPIC_PREFIX.length) + 1);
  return clientId.startsWith(stageThingNamePrefix(stage));
};

/** An agent's thing name (its MQTT client id) and back: one definition, in topics.ts. */
export { parseThingName as parseAgentThingName, thingName as agentThingName } from './topics.ts';
