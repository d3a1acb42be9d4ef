/**
 * The IoT policy every edge agent's certificate gets, as data: cdk/iot.ts turns it into the deployed policy
 * document, and the local broker (functions/local/iot-rules.ts) evaluates the very same statements, so what
 * passes locally is what IoT Core allows and the two cannot drift.
 *
 * Policy variables (`${iot:Connection.Thing.…}`) are resolved per connection from the thing the client
 * connected as: the topic scope comes from the thing's attributes `tenantId` and `agentId` (set at
 * registration, never by the agent), not from its name.
 */

import { agentPrefixPattern } from './topics.ts';

export type IotAction = 'iot:Connect' | 'iot:Publish' | 'iot:RetainPublish' | 'iot:Receive' | 'iot:Subscribe';

/** The ARN resource type each action is checked against (`client/…`, `topic/…`, `topicfilter/…`). */
export type IotResourceType = 'client' | 'topic' | 'topicfilter';

export interface IotPolicyStatement {
  actions: readonly IotAction[];
  resourceType: IotResourceType;
  /** The resource name after `<type>/`, with IAM wildcards (`*`, `?`) and policy variables. */
  resource: string;
  /** `iot:Connection.Thing.IsAttached`: the certificate must be attached to the thing it connects as. */
  thingAttached?: boolean;
}

const variable = (name: string) => `\${${name}}`;
export const THING_NAME_VARIABLE = variable('iot:Connection.Thing.ThingName');
export const thingAttributeVariable = (key: string) => variable(`iot:Connection.Thing.Attributes[${key}]`);

/**
 * An agent's own subtree, `s/{stage}/t/{tenantId}/a/{agentId}/*`: the same layout as `agentTopicPrefix` in
 * topics.ts, with the thing's attributes in place of the ids. The stage is written into each stage's own
 * policy rather than read from an attribute, so a thing made by one stage's enrolment (whose grants reach only
 * its own things and its own policy) can never be given another stage's topics.
 */
export const agentSubtreeResource = (stage: string) =>
  `${agentPrefixPattern(stage, thingAttributeVariable('tenantId'), thingAttributeVariable('agentId'))}*`;

/**
 * Connect as one's own thing; publish, receive and subscribe within one's own subtree. No
 * `iot:RetainPublish`: presence comes from lifecycle events (functions/contracts/presence.ts), so an agent
 * never needs a retained message, and a retained publish gets it disconnected.
 */
export function agentPolicy(stage: string): readonly IotPolicyStatement[] {
  const ownSubtree = agentSubtreeResource(stage);
  return [
    { actions: ['iot:Connect'], resourceType: 'client', resource: THING_NAME_VARIABLE, thingAttached: true },
    { actions: ['iot:Publish', 'iot:Receive'], resourceType: 'topic', resource: ownSubtree },
    { actions: ['iot:Subscribe'], resourceType: 'topicfilter', resource: ownSubtree },
  ];
}

export interface IotThing {
  name: string;
  attributes: Readonly<Record<string, string>>;
}

const VARIABLE = /\$\{([^}]+)\}/g;

/** The resource pattern with the thing's variables filled in; undefined when one cannot be resolved. */
function resolve(pattern: string, thing: IotThing): string | undefined {
  let unresolved = false;
  const out = pattern.replace(VARIABLE, (_, name: string) => {
    if (name === 'iot:Connection.Thing.ThingName') return thing.name;
    const attribute = /^iot:Connection\.Thing\.Attributes\[([^\]]+)\]$/.exec(name)?.[1];
    const value = attribute === undefined ? undefined : thing.attributes[attribute];
    // IoT Core leaves a policy variable it cannot resolve unmatched, so nothing matches that statement
    if (value === undefined) unresolved = true;
    return value ?? '';
  });
  return unresolved ? undefined : out;
}

/** IAM string matching: `*` any run of characters (slashes too), `?` one character, all else literal. */
function iamMatch(pattern: string, value: string): boolean {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${source}$`, 's').test(value);
}

/** Whether `policy` allows `action` on the resource named `name` for a client connected as `thing`. */
export function policyAllows(
  policy: readonly IotPolicyStatement[],
  thing: IotThing,
  action: IotAction,
  name: string,
): boolean {
  return policy.some((statement) => {
    if (!statement.actions.includes(action)) return false;
    const resourceType: IotResourceType =
      action === 'iot:Connect' ? 'client' : action === 'iot:Subscribe' ? 'topicfilter' : 'topic';
    if (statement.resourceType !== resourceType) return false;
    const pattern = resolve(statement.resource, thing);
    return pattern !== undefined && iamMatch(pattern, name);
  });
}
