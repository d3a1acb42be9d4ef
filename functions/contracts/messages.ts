/**
 * Wire messages between the cloud and edge agents (DESIGN.md "MQTT topics").
 * Both sides validate with these schemas; version 1 is the contract.
 */
import * as z from 'zod';
import { allEventsFilter, allRpcResponsesFilter } from './topics.ts';

const isoTime = z.iso.datetime({ offset: true });
const e164 = z.string().regex(/^\+[1-9]\d{6,14}$/, 'must be an E.164 number');
const shortId = z.string().min(1).max(128);

const smsJobFields = {
  id: shortId,
  kind: z.literal('sms'),
  to: e164,
  text: z.string().min(1).max(1600),
  flash: z.boolean(),
  modemGroup: z.string().min(1).max(64),
  expiresAt: isoTime,
};

/** Cloud → agent on `t/{tenant}/a/{agent}/jobs` (under the stage prefix `s/{stage}/`, see topics.ts), version 1: the agent always asks for a delivery report. */
export const SmsJobV1 = z.object({ v: z.literal(1), ...smsJobFields }).strict();
/**
 * Version 2 says whether to ask the network for a delivery report (TP-SRR). A report costs an event per SMS
 * (IoT message, rule, queue, function, store write), so the cloud asks only when a rule needs it. An agent
 * announces the versions it takes (`agent.online` `jobVersions`); one that announces none gets version 1,
 * because its strict parse refuses the new field.
 */
export const SmsJobV2 = z.object({ v: z.literal(2), ...smsJobFields, report: z.boolean() }).strict();
export const SmsJob = z.discriminatedUnion('v', [SmsJobV1, SmsJobV2]);
export type SmsJob = z.infer<typeof SmsJob>;
/** The job versions this code base sends and takes. */
export const JOB_VERSIONS = [1, 2] as const;
/** Whether the agent asks for a delivery report for this job. */
export const wantsReport = (job: SmsJob): boolean => job.v === 1 || job.report;

/** Why a job failed, as classified by the agent (the AT driver's error classes plus agent-side reasons). */
export const FailureClass = z.enum([
  'temporary', // the network or modem may accept it later
  'permanent', // this number cannot receive it
  'modem', // every modem tried was broken or blocked
  'no_modem', // the agent has no healthy modem in the requested group
  'expired', // the job's expiresAt passed before it could be sent
  'invalid', // the job itself was malformed
]);
export type FailureClass = z.infer<typeof FailureClass>;

const eventBase = {
  v: z.literal(1),
  at: isoTime,
};

export const JobSentEvent = z
  .object({
    ...eventBase,
    type: z.literal('job.sent'),
    jobId: shortId,
    modem: z.string().min(1).max(64),
    /** Message references from `+CMGS: <mr>`, one per part. */
    messageRefs: z.array(z.number().int().min(0).max(255)).min(1).max(16),
  })
  .strict();

export const JobFailedEvent = z
  .object({
    ...eventBase,
    type: z.literal('job.failed'),
    jobId: shortId,
    reason: FailureClass,
    detail: z.string().max(200).optional(),
    modem: z.string().min(1).max(64).optional(),
  })
  .strict();

/**
 * The agent cannot tell whether a job's SMS went out: it had been handed to a modem (`AT+CMGS` under way) when
 * the agent died, so the modem may have finished it. Not a failure: the cloud waits a little for a
 * `job.delivered` before it fails over. Added to version 1 without a version bump: every other message is
 * unchanged, and a cloud that predates it refuses it by its `type` (no member of the union matches), which
 * leaves the step to its rule's timeout, as before.
 */
export const JobUnknownEvent = z
  .object({
    ...eventBase,
    type: z.literal('job.unknown'),
    jobId: shortId,
    /** The modem the job was handed to. */
    modem: z.string().min(1).max(64).optional(),
    detail: z.string().max(200).optional(),
  })
  .strict();

export const JobDeliveredEvent = z
  .object({
    ...eventBase,
    type: z.literal('job.delivered'),
    jobId: shortId,
    modem: z.string().min(1).max(64),
    messageRef: z.number().int().min(0).max(255),
    /** TP-Status from the status report; 0 means delivered. */
    status: z.number().int().min(0).max(255),
  })
  .strict();

export const ModemStatusEvent = z
  .object({
    ...eventBase,
    type: z.literal('modem.status'),
    modem: z.string().min(1).max(64),
    group: z.string().min(1).max(64),
    healthy: z.boolean(),
    signal: z.number().int().min(0).max(99).nullable(),
    registration: z.enum(['home', 'roaming', 'searching', 'denied', 'unknown', 'not_registered']),
    operator: z.string().max(64).nullable(),
    queue: z.number().int().min(0),
    sent: z.number().int().min(0),
    failed: z.number().int().min(0),
    retries: z.number().int().min(0),
    errors: z.number().int().min(0),
    lastError: z.string().max(200).nullable(),
  })
  .strict();

export const AgentOnlineEvent = z
  .object({
    ...eventBase,
    type: z.literal('agent.online'),
    version: z.string().max(32),
    modemGroups: z.array(z.string().min(1).max(64)).max(64),
    /**
     * The AD domains this agent's connector serves (`ad.domains[].name`), so the cloud knows which agent to ask
     * for a password check or reset. Optional: an agent without an AD section leaves it out.
     */
    adDomains: z.array(z.string().min(1).max(253)).max(16).optional(),
    /** The job versions the agent takes; absent: version 1 only (an agent that predates version 2). */
    jobVersions: z.array(z.int().min(1).max(99)).max(16).optional(),
  })
  .strict();

export const AgentEvent = z.discriminatedUnion('type', [
  JobSentEvent,
  JobFailedEvent,
  JobUnknownEvent,
  JobDeliveredEvent,
  ModemStatusEvent,
  AgentOnlineEvent,
]);
export type AgentEvent = z.infer<typeof AgentEvent>;
export type JobSentEvent = z.infer<typeof JobSentEvent>;
export type JobFailedEvent = z.infer<typeof JobFailedEvent>;
export type JobUnknownEvent = z.infer<typeof JobUnknownEvent>;
export type JobDeliveredEvent = z.infer<typeof JobDeliveredEvent>;
export type ModemStatusEvent = z.infer<typeof ModemStatusEvent>;
export type AgentOnlineEvent = z.infer<typeof AgentOnlineEvent>;

/**
 * On `t/{tenant}/a/{agent}/status`, not retained (IoT Core refuses a retained publish without
 * `iot:RetainPublish`); the last will publishes `offline`. The cloud takes presence from IoT Core's lifecycle
 * events (presence.ts), so this is for whoever watches the broker directly.
 */
export const AgentStatus = z
  .object({
    v: z.literal(1),
    state: z.enum(['online', 'offline']),
    at: isoTime.optional(),
  })
  .strict();
export type AgentStatus = z.infer<typeof AgentStatus>;

/**
 * What reaches the events queue. The IoT rule
 * `SELECT encode(*, 'base64') AS payload, topic() AS topic, timestamp() AS receivedAt FROM 's/{stage}/t/+/a/+/events'`
 * (or the local bridge) wraps each agent message with the topic it arrived on: only the topic, which the
 * broker's ACL vouches for, says which tenant and agent sent it. The payload stays opaque base64 so that
 * nothing an agent writes can shadow the topic.
 */
export const BridgedMessage = z
  .object({
    topic: z.string().min(1).max(256),
    payload: z.base64().max(64 * 1024),
    receivedAt: z.number().int().optional(),
  })
  .strict();
export type BridgedMessage = z.infer<typeof BridgedMessage>;

/** An IoT rule that wraps each message on `filter` as a `BridgedMessage` (the local bridge does the same). */
export const bridgedRuleSql = (filter: string, where?: string) =>
  `SELECT encode(*, 'base64') AS payload, topic() AS topic, timestamp() AS receivedAt FROM '${filter}'${where ? ` WHERE ${where}` : ''}`;

/** The stage's agents' events to the events queue; only the stage's own topics, so stages share an account. */
export const iotEventsRuleSql = (stage: string) => bridgedRuleSql(allEventsFilter(stage));

/** Agents' RPC replies take the same way as their events, wrapped the same (the events function takes them). */
export const iotRpcRuleSql = (stage: string) => bridgedRuleSql(allRpcResponsesFilter(stage));

/** Parses bytes from MQTT as JSON; returns undefined for anything that is not JSON. */
export function parseJson(bytes: Buffer | string): unknown {
  try {
    return JSON.parse(typeof bytes === 'string' ? bytes : bytes.toString('utf8'));
  } catch {
    return undefined;
  }
}
