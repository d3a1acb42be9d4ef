/**
 * MQTT topic layout shared by the cloud and the edge agent.
 * An agent's credentials allow only its own `t/{tenantId}/a/{agentId}/…` subtree.
 */

/** Tenant and agent ids travel inside topic levels, so they may not contain MQTT separators or wildcards. */
export const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export type TopicKind = 'jobs' | 'events' | 'status' | 'rpc/req' | 'rpc/res';

export interface AgentAddress {
  tenantId: string;
  agentId: string;
}

function assertId(what: string, value: string): void {
  if (!ID_PATTERN.test(value))
    throw new TypeError(`${what} ${JSON.stringify(value)} is not a valid topic id`);
}

export function agentTopic(address: AgentAddress, kind: TopicKind): string {
  assertId('tenantId', address.tenantId);
  assertId('agentId', address.agentId);
  return `t/${address.tenantId}/a/${address.agentId}/${kind}`;
}

export const jobsTopic = (a: AgentAddress) => agentTopic(a, 'jobs');
export const eventsTopic = (a: AgentAddress) => agentTopic(a, 'events');
export const statusTopic = (a: AgentAddress) => agentTopic(a, 'status');
export const rpcRequestTopic = (a: AgentAddress) => agentTopic(a, 'rpc/req');
export const rpcResponseTopic = (a: AgentAddress) => agentTopic(a, 'rpc/res');

/** The subscription the cloud bridge (IoT rule or local bridge) uses to collect agent events. */
export const ALL_EVENTS_FILTER = 't/+/a/+/events';
export const ALL_STATUS_FILTER = 't/+/a/+/status';

/** Prefix that every topic of one agent starts with; used by broker ACLs. */
export function agentTopicPrefix(address: AgentAddress): string {
  assertId('tenantId', address.tenantId);
  assertId('agentId', address.agentId);
  return `t/${address.tenantId}/a/${address.agentId}/`;
}

/** Parses a concrete topic into its address and kind, or returns undefined when it is not an agent topic. */
export function parseAgentTopic(topic: string): (AgentAddress & { kind: TopicKind }) | undefined {
  const m = /^t\/([^/]+)\/a\/([^/]+)\/(jobs|events|status|rpc\/req|rpc\/res)$/.exec(topic);
  if (!m) return undefined;
  const [, tenantId, agentId, kind] = m;
  if (!tenantId || !agentId || !kind) return undefined;
  if (!ID_PATTERN.test(tenantId) || !ID_PATTERN.test(agentId)) return undefined;
  return { tenantId, agentId, kind: kind as TopicKind };
}

/**
 * AWS IoT thing names allow only `[a-zA-Z0-9:_-]`, and the agent's policy requires the MQTT client id to be the
 * thing name. Tenant and agent ids never hold a `:`, so `{tenantId}:{agentId}` is a legal name that splits back
 * unambiguously. The agent, the CDK policy, the local broker and enrolment all take the name from here.
 */
export const THING_NAME_PATTERN = /^[a-zA-Z0-9:_-]{1,128}$/;

export function thingName(address: AgentAddress): string {
  assertId('tenantId', address.tenantId);
  assertId('agentId', address.agentId);
  return `${address.tenantId}:${address.agentId}`;
}

/** The tenant and agent a thing name stands for, or undefined when it is not one of an agent. */
export function parseThingName(name: string): AgentAddress | undefined {
  const parts = name.split(':');
  if (parts.length !== 2) return undefined;
  const [tenantId, agentId] = parts as [string, string];
  if (!ID_PATTERN.test(tenantId) || !ID_PATTERN.test(agentId)) return undefined;
  return { tenantId, agentId };
}
