/**
 * MQTT topic layout shared by the cloud and the edge agent.
 *
 * Every topic of a stage lives under `s/{stage}/`, and an agent's credentials allow only its own
 * `s/{stage}/t/{tenantId}/a/{agentId}/…` subtree. The contract's `t/{tenant}/a/{agent}/…` is unchanged below the
 * prefix: IoT Core's topics, thing names and rules are per account and region, so two stages (`cdk deploy -c
 * stage=…`) in one account would otherwise take each other's jobs and events. The enrolment reply names the
 * prefix; the local stack's stage is `local`.
 */

/** Tenant and agent ids travel inside topic levels, so they may not contain MQTT separators or wildcards. */
export const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** Stage names fit every name a stage gives a resource: IoT rule names (`[a-zA-Z0-9_]`), topics, thing names. */
export const STAGE_PATTERN = /^[a-z][a-z0-9]{0,11}$/;

/** The stage of the local stack (`npm start`) and of an agent configuration that names none. */
export const LOCAL_STAGE = 'local';

export type TopicKind = 'jobs' | 'events' | 'status' | 'rpc/req' | 'rpc/res';

export interface AgentAddress {
  tenantId: string;
  agentId: string;
}

/** An agent of one stage: what its topics and thing name are made of. */
export interface StagedAgent extends AgentAddress {
  stage: string;
}

function assertId(what: string, value: string): void {
  if (!ID_PATTERN.test(value))
    throw new TypeError(`${what} ${JSON.stringify(value)} is not a valid topic id`);
}

function assertStage(stage: string): void {
  if (!STAGE_PATTERN.test(stage)) throw new TypeError(`stage ${JSON.stringify(stage)} is not a valid stage`);
}

/** `s/{stage}/`: what every topic of the stage starts with. */
export function stageTopicPrefix(stage: string): string {
  assertStage(stage);
  return `s/${stage}/`;
}

/**
 * The one place the layout is spelled: the prefix of an agent's topics, where the tenant and agent parts may
 * also be MQTT wildcards or IoT policy variables (filters, policy resources). Builders check real ids.
 */
export function agentPrefixPattern(stage: string, tenantPart: string, agentPart: string): string {
  return `${stageTopicPrefix(stage)}t/${tenantPart}/a/${agentPart}/`;
}

/** Prefix that every topic of one agent starts with; used by broker ACLs. */
export function agentTopicPrefix(address: StagedAgent): string {
  assertId('tenantId', address.tenantId);
  assertId('agentId', address.agentId);
  return agentPrefixPattern(address.stage, address.tenantId, address.agentId);
}

export function agentTopic(address: StagedAgent, kind: TopicKind): string {
  return `${agentTopicPrefix(address)}${kind}`;
}

export const jobsTopic = (a: StagedAgent) => agentTopic(a, 'jobs');
export const eventsTopic = (a: StagedAgent) => agentTopic(a, 'events');
export const statusTopic = (a: StagedAgent) => agentTopic(a, 'status');
export const rpcRequestTopic = (a: StagedAgent) => agentTopic(a, 'rpc/req');
export const rpcResponseTopic = (a: StagedAgent) => agentTopic(a, 'rpc/res');

/** One kind of topic of every agent of a stage, as an MQTT filter (IoT rule `FROM`, local bridge). */
export const allAgentsFilter = (stage: string, kind: TopicKind) =>
  `${agentPrefixPattern(stage, '+', '+')}${kind}`;

/** The subscription the cloud bridge (IoT rule or local bridge) uses to collect agent events. */
export const allEventsFilter = (stage: string) => allAgentsFilter(stage, 'events');
/** Agents' RPC responses, for the rule (or local bridge) that takes them to the cloud. */
export const allRpcResponsesFilter = (stage: string) => allAgentsFilter(stage, 'rpc/res');
export const allStatusFilter = (stage: string) => allAgentsFilter(stage, 'status');

const AGENT_TOPIC = /^s\/([^/]+)\/t\/([^/]+)\/a\/([^/]+)\/(jobs|events|status|rpc\/req|rpc\/res)$/;

/** Parses a concrete topic into its stage, address and kind, or returns undefined when it is not an agent topic. */
export function parseAgentTopic(topic: string): (StagedAgent & { kind: TopicKind }) | undefined {
  const m = AGENT_TOPIC.exec(topic);
  if (!m) return undefined;
  const [, stage, tenantId, agentId, kind] = m;
  if (!stage || !tenantId || !agentId || !kind) return undefined;
  if (!STAGE_PATTERN.test(stage) || !ID_PATTERN.test(tenantId) || !ID_PATTERN.test(agentId)) return undefined;
  return { stage, tenantId, agentId, kind: kind as TopicKind };
}

/**
 * AWS IoT thing names allow only `[a-zA-Z0-9:_-]`, up to 128 characters, and the agent's policy requires the
 * MQTT client id to be the thing name. Stages, tenant and agent ids never hold a `:`, so
 * `{stage}:{tenantId}:{agentId}` is a legal name that splits back unambiguously, and two stages' things never
 * share a name. The agent, the CDK policy, the local broker and enrolment all take the name from here.
 */
export const THING_NAME_PATTERN = /^[a-zA-Z0-9:_-]{1,128}$/;

export function thingName(address: StagedAgent): string {
  assertStage(address.stage);
  assertId('tenantId', address.tenantId);
  assertId('agentId', address.agentId);
  return `${address.stage}:${address.tenantId}:${address.agentId}`;
}

/** Whether the agent's thing name fits IoT Core's 128 characters (long tenant and agent ids together do not). */
export const thingNameFits = (address: StagedAgent) => THING_NAME_PATTERN.test(thingName(address));

/** The stage, tenant and agent a thing name stands for, or undefined when it is not one of an agent. */
export function parseThingName(name: string): StagedAgent | undefined {
  const parts = name.split(':');
  if (parts.length !== 3) return undefined;
  const [stage, tenantId, agentId] = parts as [string, string, string];
  if (!STAGE_PATTERN.test(stage) || !ID_PATTERN.test(tenantId) || !ID_PATTERN.test(agentId)) return undefined;
  return { stage, tenantId, agentId };
}

/** The thing names of one stage start with this; the presence rule keeps only those. */
export const stageThingNamePrefix = (stage: string) => {
  assertStage(stage);
  return `${stage}:`;
};
