/** The IoT Core side of the stack: the data endpoint, the events rule and the agents' policy. */
import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as iot from 'aws-cdk-lib/aws-iot';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { agentPolicy, type IotPolicyStatement } from '../functions/contracts/iot-policy.ts';
import { iotEventsRuleSql } from '../functions/contracts/messages.ts';
import { stageThingNamePrefix } from '../functions/contracts/topics.ts';

/**
 * The account's ATS data endpoint, looked up at deploy time (the endpoint is per account and region, so a
 * synth-time value would tie the template to one account). `npx cdk synth` stays offline.
 */
export function lookUpIotDataEndpoint(scope: Construct, id: string): string {
  const lookup = new cr.AwsCustomResource(scope, id, {
    onUpdate: {
      service: 'Iot',
      action: 'describeEndpoint',
      parameters: { endpointType: 'iot:Data-ATS' },
      physicalResourceId: cr.PhysicalResourceId.of('iot-data-ats-endpoint'),
    },
    // DescribeEndpoint has no resource-level permissions.
    policy: cr.AwsCustomResourcePolicy.fromSdkCalls({ resources: cr.AwsCustomResourcePolicy.ANY_RESOURCE }),
    installLatestAwsSdk: false,
    timeout: Duration.minutes(2),
  });
  return lookup.getResponseField('endpointAddress');
}

/** IAM resource ARN of MQTT topics matching `topicPattern` (IAM wildcards, not MQTT ones). */
export function iotTopicArn(scope: Construct, topicPattern: string): string {
  return Stack.of(scope).formatArn({
    service: 'iot',
    resource: 'topic',
    resourceName: topicPattern,
    arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
  });
}

export interface EventsTopicRuleProps {
  queue: sqs.IQueue;
  /** The stage whose agents' events the rule takes (topics under `s/{stage}/`). */
  stage: string;
  /** The rule's SQL; defaults to the stage's events topics. */
  sql?: string;
  description?: string;
}

/**
 * Forwards every `s/{stage}/t/+/a/+/events` message (or, with another `sql`, the stage's lifecycle events or RPC replies) to the events queue, wrapped with the topic it arrived on
 * (see `BridgedMessage` in functions/contracts/messages.ts). Messages the rule cannot deliver are logged.
 */
export class EventsTopicRule extends Construct {
  readonly rule: iot.CfnTopicRule;
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: EventsTopicRuleProps) {
    super(scope, id);
    this.role = new iam.Role(this, 'SqsRole', {
      assumedBy: new iam.ServicePrincipal('iot.amazonaws.com'),
      description: 'Lets the agent events rule send to the events queue',
    });
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [props.queue.queueArn] }),
    );

    const errorLog = new logs.LogGroup(this, 'Errors', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const errorRole = new iam.Role(this, 'ErrorLogRole', {
      assumedBy: new iam.ServicePrincipal('iot.amazonaws.com'),
      description: 'Lets the agent events rule log the messages it could not deliver',
    });
    errorRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [errorLog.logGroupArn],
      }),
    );

    this.rule = new iot.CfnTopicRule(this, 'Rule', {
      topicRulePayload: {
        description: props.description ?? 'Agent events to the events queue',
        sql: props.sql ?? iotEventsRuleSql(props.stage),
        awsIotSqlVersion: '2016-03-23',
        ruleDisabled: false,
        actions: [{ sqs: { queueUrl: props.queue.queueUrl, roleArn: this.role.roleArn, useBase64: false } }],
        errorAction: { cloudwatchLogs: { logGroupName: errorLog.logGroupName, roleArn: errorRole.roleArn } },
      },
    });
  }
}

/** The agent policy's name: enrolment attaches it by name, so the admin function is told it up front. */
export const agentPolicyName = (scope: Construct) => `${Stack.of(scope).stackName}-edge-agent`;

/**
 * Enrolment (admin function) creates an agent's thing, signs its certificate from the request, attaches the
 * agent policy and the thing, and on delete deactivates, detaches and deletes; suspension (operator function)
 * deactivates and reactivates the tenant's agents' certificates. Certificates get random ids, so those
 * actions cannot be narrowed to a name pattern; things can.
 */
export function grantAgentEnrolment(admin: iam.IGrantable, operator: iam.IGrantable, stage: string): void {
  const stack = Stack.of(admin as unknown as Construct);
  const arn = (resource: string, resourceName: string) =>
    stack.formatArn({ service: 'iot', resource, resourceName, arnFormat: ArnFormat.SLASH_RESOURCE_NAME });
  const certificates = arn('cert', '*');
  admin.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['iot:CreateThing', 'iot:DeleteThing', 'iot:AttachThingPrincipal', 'iot:DetachThingPrincipal'],
      // only this stage's things (`{stage}:{tenant}:{agent}`): another stage's agents are out of its reach
      resources: [arn('thing', `${stageThingNamePrefix(stage)}*`)],
    }),
  );
  admin.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['iot:AttachPolicy', 'iot:DetachPolicy'],
      resources: [arn('policy', agentPolicyName(admin as unknown as Construct))],
    }),
  );
  admin.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({ actions: ['iot:UpdateCertificate'], resources: [certificates] }),
  );
  // The Service Authorization Reference lists no resource type and no IoT condition key for
  // CreateCertificateFromCsr (nor for CreateKeysAndCertificate): `*` is the only resource it takes. The global
  // aws:RequestedRegion key at least keeps it to this stack's region. What the certificate can do is decided by
  // the policy and thing attached to it next, which are scoped above.
  admin.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['iot:CreateCertificateFromCsr'],
      resources: ['*'],
      conditions: { StringEquals: { 'aws:RequestedRegion': stack.region } },
    }),
  );
  operator.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({ actions: ['iot:UpdateCertificate'], resources: [certificates] }),
  );
}

/**
 * The IoT policy every edge agent's certificate gets. One policy serves all agents through thing policy
 * variables:
 * - each agent is an IoT thing with the attributes `tenantId` and `agentId` (set at registration, never by
 *   the agent), and its certificate is attached to that thing;
 * - the agent must connect with its thing name as MQTT client id, so `iot:Connection.Thing.*` variables
 *   resolve and one certificate cannot impersonate another thing;
 * - publish, subscribe and receive are then limited to `s/<stage>/t/<tenantId>/a/<agentId>/*`, the stage
 *   written into this stage's policy and the ids from those attributes.
 * Enrolment names things `<stage>:<tenantId>:<agentId>` (`thingName` in functions/contracts/topics.ts: thing
 * names allow only `[a-zA-Z0-9:_-]`), unique per account and region; the name also says whose lifecycle events are
 * whose, and the topic scope comes from the attributes, not the name. There is no `iot:RetainPublish`: presence
 * comes from IoT Core's lifecycle events instead.
 */
export class AgentPolicy extends Construct {
  readonly policy: iot.CfnPolicy;

  constructor(scope: Construct, id: string, props: { stage: string }) {
    super(scope, id);
    const stack = Stack.of(this);
    // The statements are shared with the local broker, which enforces exactly these (functions/local/iot-rules.ts).
    const statement = (s: IotPolicyStatement) => ({
      Effect: 'Allow',
      Action: s.actions.length === 1 ? s.actions[0] : [...s.actions],
      Resource: stack.formatArn({
        service: 'iot',
        resource: s.resourceType,
        resourceName: s.resource,
        arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
      }),
      ...(s.thingAttached && { Condition: { Bool: { 'iot:Connection.Thing.IsAttached': 'true' } } }),
    });

    this.policy = new iot.CfnPolicy(this, 'Policy', {
      policyName: agentPolicyName(this),
      policyDocument: { Version: '2012-10-17', Statement: agentPolicy(props.stage).map(statement) },
    });
  }
}
