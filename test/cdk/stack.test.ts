import { readFileSync } from 'node:fs';
import { App, type CfnElement } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { HTTP_ROUTES } from '../../cdk/functions.ts';
import { SmsPassStack } from '../../cdk/stack.ts';
import { agentLinkTopics } from '../../edge-agent/mqtt/link.ts';
import {
  type IotAction,
  type IotPolicyStatement,
  policyAllows,
} from '../../functions/contracts/iot-policy.ts';
import { iotEventsRuleSql, iotRpcRuleSql } from '../../functions/contracts/messages.ts';
import { iotPresenceRuleSql } from '../../functions/contracts/presence.ts';
import { thingName } from '../../functions/contracts/topics.ts';

/** The same feature flags `npx cdk synth` runs with. */
const cdkJson = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
  context: Record<string, unknown>;
};

function synth(props: { iotEndpoint?: string } = {}) {
  const app = new App({ context: cdkJson.context });
  const stack = new SmsPassStack(app, 'TestStack', {
    functionCode: () => lambda.Code.fromInline('export const handler = async () => ({});'),
    ...props,
  });
  return { stack, template: Template.fromStack(stack) };
}

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

const actionsOf = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);
const resourcesOf = (s: Statement) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]);

let stack: SmsPassStack;
let template: Template;
const logicalId = (element: unknown) => stack.getLogicalId(element as CfnElement);

/** Every inline policy statement attached to the role of one function. */
function statementsOf(fn: lambda.Function): Statement[] {
  const roleId = logicalId(fn.role!.node.defaultChild);
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((policy) =>
      (policy.Properties.Roles as Array<{ Ref: string }>).some((role) => role.Ref === roleId),
    )
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Statement[]);
}

/** Statements granting any of `actions` on a resource that mentions `resourceLogicalId`. */
function grantsOn(statements: Statement[], actions: RegExp, resourceLogicalId: string): Statement[] {
  return statements.filter(
    (s) =>
      actionsOf(s).some((a) => actions.test(a)) &&
      resourcesOf(s).some((r) => JSON.stringify(r).includes(resourceLogicalId)),
  );
}

beforeAll(() => {
  ({ stack, template } = synth());
});

describe('SmsPassStack', () => {
  it('has one pay-per-request table with pk/sk, the ttl attribute, PITR, gsi1, gsi2, gsi3, and is retained', () => {
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        GlobalSecondaryIndexes: [
          Match.objectLike({
            IndexName: 'gsi1',
            KeySchema: [
              { AttributeName: 'gsi1pk', KeyType: 'HASH' },
              { AttributeName: 'gsi1sk', KeyType: 'RANGE' },
            ],
          }),
          Match.objectLike({
            IndexName: 'gsi2',
            KeySchema: [
              { AttributeName: 'gsi2pk', KeyType: 'HASH' },
              { AttributeName: 'gsi2sk', KeyType: 'RANGE' },
            ],
            // Keys only: a challenge's updates never write to the message log's index.
            Projection: { ProjectionType: 'KEYS_ONLY' },
          }),
          Match.objectLike({
            IndexName: 'gsi3',
            KeySchema: [
              { AttributeName: 'gsi3pk', KeyType: 'HASH' },
              { AttributeName: 'gsi3sk', KeyType: 'RANGE' },
            ],
            // Accepted-challenge audit entries: their fields only, not a copy of the challenge.
            Projection: Match.objectLike({ ProjectionType: 'INCLUDE' }),
          }),
        ],
      },
    });
  });

  it('has three encrypted queues (dispatch, events, operator jobs) that dead-letter after 5 receives into encrypted DLQs', () => {
    template.resourceCountIs('AWS::SQS::Queue', 6);
    const queues = Object.values(template.findResources('AWS::SQS::Queue'));
    for (const queue of queues) expect(queue.Properties.SqsManagedSseEnabled).toBe(true);

    const withRedrive = queues.filter((q) => q.Properties.RedrivePolicy);
    expect(withRedrive).toHaveLength(3);
    for (const queue of withRedrive) expect(queue.Properties.RedrivePolicy.maxReceiveCount).toBe(5);
    expect(
      withRedrive.map((q) => q.Properties.RedrivePolicy.deadLetterTargetArn['Fn::GetAtt'][0]).sort(),
    ).toEqual(
      [stack.dispatch.dlq, stack.events.dlq, stack.jobs.dlq]
        .map((q) => logicalId(q.node.defaultChild))
        .sort(),
    );
  });

  it('gives each queue a visibility timeout of at least six times its consumer timeout', () => {
    const queues = template.findResources('AWS::SQS::Queue');
    const pairs = [
      [stack.dispatch.queue, stack.functions.dispatch],
      [stack.events.queue, stack.functions.events],
      [stack.jobs.queue, stack.functions.operator],
    ] as const;
    for (const [queue, fn] of pairs) {
      const timeout = template.findResources('AWS::Lambda::Function')[logicalId(fn.node.defaultChild)]
        ?.Properties.Timeout as number;
      expect(queues[logicalId(queue.node.defaultChild)]?.Properties.VisibilityTimeout).toBeGreaterThanOrEqual(
        6 * timeout,
      );
    }
  });

  it('runs auth, dispatch and events on nodejs22.x arm64 with only the wiring each one uses', () => {
    const fns = template.findResources('AWS::Lambda::Function');
    const env = (fn: lambda.Function) => {
      const props = fns[logicalId(fn.node.defaultChild)]?.Properties;
      expect(props).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
      });
      // Every function reads its source maps when it prints a stack trace.
      expect(props.Environment.Variables.NODE_OPTIONS).toBe('--enable-source-maps');
      return Object.keys(props.Environment.Variables)
        .filter((k) => k !== 'NODE_OPTIONS')
        .sort();
    };
    // Auth reaches the tenant's AD agent for password checks (rpc/req through IoT Core's data plane).
    expect(env(stack.functions.auth)).toEqual([
      'CREDENTIAL_KEY_ARN',
      'DISPATCH_QUEUE_URL',
      'IOT_ENDPOINT',
      'SECRET_ARN',
      'STAGE',
      'TABLE_NAME',
    ]);
    expect(env(stack.functions.dispatch)).toEqual([
      'CREDENTIAL_KEY_ARN',
      'DISPATCH_QUEUE_URL',
      'IOT_ENDPOINT',
      'SECRET_ARN',
      'STAGE',
      'TABLE_NAME',
    ]);
    // Events queues the next rule's step when a job fails.
    expect(env(stack.functions.events)).toEqual(['DISPATCH_QUEUE_URL', 'STAGE', 'TABLE_NAME']);
  });

  it('consumes every queue with partial batch failure reporting', () => {
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 3);
    for (const [queue, fn] of [
      [stack.dispatch.queue, stack.functions.dispatch],
      [stack.events.queue, stack.functions.events],
      [stack.jobs.queue, stack.functions.operator],
    ] as const) {
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: { 'Fn::GetAtt': [logicalId(queue.node.defaultChild), 'Arn'] },
        FunctionName: { Ref: logicalId(fn.node.defaultChild) },
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      });
    }
  });

  it('routes the challenge API to the auth function', () => {
    const routes = Object.values(template.findResources('AWS::ApiGatewayV2::Route'));
    expect(routes.map((r) => r.Properties.RouteKey)).toEqual(
      expect.arrayContaining([
        'GET /v1/challenges/{id}',
        'POST /v1/challenges',
        'POST /v1/challenges/{id}/verify',
      ]),
    );
    expect(HTTP_ROUTES.filter((r) => r.path.startsWith('/v1/challenges')).every((r) => r.fn === 'auth')).toBe(
      true,
    );
    template.hasResourceProperties('AWS::ApiGatewayV2::Integration', {
      IntegrationType: 'AWS_PROXY',
      PayloadFormatVersion: '2.0',
      IntegrationUri: { 'Fn::GetAtt': [logicalId(stack.functions.auth.node.defaultChild), 'Arn'] },
    });
  });

  it('routes every route of the table, once, to its function: sync, admin, operator and selfservice included', () => {
    const routes = Object.values(template.findResources('AWS::ApiGatewayV2::Route'));
    const keys = routes.map((r) => r.Properties.RouteKey as string);
    expect(keys.sort()).toEqual(HTTP_ROUTES.map((r) => `${r.method} ${r.path}`).sort());
    expect(new Set(keys).size).toBe(keys.length);
    const integrations = template.findResources('AWS::ApiGatewayV2::Integration');
    template.resourceCountIs('AWS::ApiGatewayV2::Integration', 6);
    const fnOfIntegration = (id: string) =>
      integrations[id]?.Properties.IntegrationUri['Fn::GetAtt'][0] as string | undefined;
    for (const route of routes) {
      const spec = HTTP_ROUTES.find((r) => `${r.method} ${r.path}` === route.Properties.RouteKey)!;
      const integrationId = (route.Properties.Target['Fn::Join'][1] as unknown[])[1] as { Ref: string };
      expect(fnOfIntegration(integrationId.Ref), route.Properties.RouteKey).toBe(
        logicalId(stack.functions[spec.fn].node.defaultChild),
      );
    }
    for (const prefix of ['/v1/sync/', '/v1/operator/'])
      expect(
        HTTP_ROUTES.filter((r) => r.path.startsWith(prefix)).every((r) => r.fn === prefix.slice(4, -1)),
      ).toBe(true);
  });

  it('gives sync, admin and operator the table, no secret; IoT only for enrolment and suspension; only admin the credential key, only operator and sync the jobs queue', () => {
    const fns = template.findResources('AWS::Lambda::Function');
    const tableId = logicalId(stack.table.node.defaultChild);
    for (const fn of [stack.functions.sync, stack.functions.admin, stack.functions.operator]) {
      const props = fns[logicalId(fn.node.defaultChild)]?.Properties;
      expect(props).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'] });
      expect(
        Object.keys(props.Environment.Variables)
          .filter((k) => k !== 'NODE_OPTIONS')
          .sort(),
      ).toEqual(
        fn === stack.functions.admin
          ? ['AGENT_POLICY_NAME', 'CREDENTIAL_KEY_ARN', 'IOT_ENDPOINT', 'PORTAL_URL', 'STAGE', 'TABLE_NAME']
          : ['JOBS_QUEUE_URL', 'TABLE_NAME'],
      );
      const statements = statementsOf(fn);
      expect(
        grantsOn(statements, /^dynamodb:(PutItem|UpdateItem|DeleteItem|BatchWriteItem|Query)$/, tableId),
      ).not.toEqual([]);
      const jobsQueue = logicalId(stack.jobs.queue.node.defaultChild);
      expect(
        statements.filter(
          (s) =>
            actionsOf(s).some((a) => /^(sqs|secretsmanager):/.test(a)) &&
            !(fn !== stack.functions.admin && JSON.stringify(s.Resource).includes(jobsQueue)),
        ),
      ).toEqual([]);
      // Enrolment (admin) and suspension (operator) manage agents' things and certificates, nothing else of IoT.
      const iotActions = statements.flatMap((s) => actionsOf(s)).filter((a) => a.startsWith('iot:'));
      expect(iotActions.sort()).toEqual(
        fn === stack.functions.admin
          ? [
              'iot:AttachPolicy',
              'iot:AttachThingPrincipal',
              'iot:CreateCertificateFromCsr',
              'iot:CreateThing',
              'iot:DeleteThing',
              'iot:DetachPolicy',
              'iot:DetachThingPrincipal',
              // sync now: an RPC request on rpc/req
              'iot:Publish',
              'iot:UpdateCertificate',
            ]
          : fn === stack.functions.operator
            ? ['iot:UpdateCertificate']
            : [],
      );
      if (fn !== stack.functions.admin)
        expect(statements.filter((s) => actionsOf(s).some((a) => a.startsWith('kms:')))).toEqual([]);
    }
  });

  it('lets the admin API seal provider secrets with the credential key (and open a kept one), nothing more', () => {
    const keyId = logicalId(stack.credentialKey.node.defaultChild);
    const admin = Object.values(
      template.findResources('AWS::Lambda::Function', { Properties: { Description: 'SmsPass admin' } }),
    )[0]?.Properties;
    expect(admin.Environment.Variables.CREDENTIAL_KEY_ARN).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
    const statements = statementsOf(stack.functions.admin);
    expect(grantsOn(statements, /^kms:Encrypt$/, keyId)).toHaveLength(1);
    expect(grantsOn(statements, /^kms:Decrypt$/, keyId)).toHaveLength(1);
    const kmsActions = statements.flatMap((s) => actionsOf(s)).filter((a) => a.startsWith('kms:'));
    expect(kmsActions.sort()).toEqual(['kms:Decrypt', 'kms:Encrypt']);
  });

  it('forwards agent events and lifecycle (presence) events from IoT Core to the events queue, with roles that can only send there', () => {
    const rules = Object.values(template.findResources('AWS::IoT::TopicRule'));
    expect(rules.map((r) => r.Properties.TopicRulePayload.Sql).sort()).toEqual(
      [iotEventsRuleSql('dev'), iotPresenceRuleSql('dev'), iotRpcRuleSql('dev')].sort(),
    );
    const eventsQueueId = logicalId(stack.events.queue.node.defaultChild);
    for (const rule of rules) {
      const payload = rule.Properties.TopicRulePayload;
      expect(payload.Actions).toHaveLength(1);
      expect(payload.Actions[0].Sqs.QueueUrl).toEqual({ Ref: eventsQueueId });
      const roleId = payload.Actions[0].Sqs.RoleArn['Fn::GetAtt'][0] as string;
      const statements = Object.values(template.findResources('AWS::IAM::Policy'))
        .filter((p) => (p.Properties.Roles as Array<{ Ref: string }>).some((r) => r.Ref === roleId))
        .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
      expect(statements).toEqual([
        { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: { 'Fn::GetAtt': [eventsQueueId, 'Arn'] } },
      ]);
    }
  });

  it('lets agents use only their own t/<tenant>/a/<agent>/ topics, as their own thing', () => {
    const policies = Object.values(template.findResources('AWS::IoT::Policy'));
    expect(policies).toHaveLength(1);
    const document = JSON.stringify(policies[0]?.Properties.PolicyDocument);
    const own =
      // biome-ignore lint/suspicious/noTemplateCurlyInString: IoT policy variables, resolved by IoT Core
      's/dev/t/${iot:Connection.Thing.Attributes[tenantId]}/a/${iot:Connection.Thing.Attributes[agentId]}/*';
    expect(document).toContain(`:topic/${own}`);
    expect(document).toContain(`:topicfilter/${own}`);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: IoT policy variables, resolved by IoT Core
    expect(document).toContain(':client/${iot:Connection.Thing.ThingName}');
    expect(document).not.toMatch(/:topic(filter)?\/\*"/);
    // presence comes from lifecycle events: an agent never publishes retained
    expect(document).not.toContain('iot:RetainPublish');
  });

  it('grants exactly the topics the agent link uses, and none of another stage or agent', () => {
    // The deployed document read back into statements, so this checks what IoT Core would evaluate.
    const policy = Object.values(template.findResources('AWS::IoT::Policy'))[0]?.Properties.PolicyDocument;
    const deployed: IotPolicyStatement[] = (policy.Statement as Statement[]).map((s) => {
      const join = (s.Resource as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
      const arn = join[1].filter((part) => typeof part === 'string').join('');
      const [, type, resource] = /:(client|topic|topicfilter)\/(.*)$/.exec(arn) ?? [];
      return {
        actions: actionsOf(s) as IotAction[],
        resourceType: type as IotPolicyStatement['resourceType'],
        resource: resource ?? '',
      };
    });
    const me = { stage: 'dev', tenantId: 'acme', agentId: 'branch-1' };
    const thing = { name: thingName(me), attributes: { tenantId: me.tenantId, agentId: me.agentId } };
    const allows = (action: IotAction, name: string) => policyAllows(deployed, thing, action, name);
    const topics = agentLinkTopics(me);
    expect(allows('iot:Connect', thing.name)).toBe(true);
    for (const t of [topics.jobs, topics.rpcReq]) {
      expect(allows('iot:Subscribe', t), t).toBe(true);
      expect(allows('iot:Receive', t), t).toBe(true);
    }
    for (const t of [topics.events, topics.status, topics.rpcRes])
      expect(allows('iot:Publish', t), t).toBe(true);
    // the same ids in another stage, another agent of the tenant, and the unprefixed layout: all refused
    for (const other of [
      agentLinkTopics({ ...me, stage: 'prod' }),
      agentLinkTopics({ ...me, agentId: 'branch-2' }),
    ])
      for (const t of Object.values(other))
        for (const action of ['iot:Publish', 'iot:Receive', 'iot:Subscribe'] as const)
          expect(allows(action, t), `${action} ${t}`).toBe(false);
    expect(allows('iot:Subscribe', `t/${me.tenantId}/a/${me.agentId}/jobs`)).toBe(false);
    expect(allows('iot:Connect', thingName({ ...me, stage: 'prod' }))).toBe(false);
  });

  it('lets dispatch publish only on agents jobs topics, selfservice and admin only on rpc/req, auth on both', () => {
    const iotStatements = (fn: (typeof stack.functions)[keyof typeof stack.functions]) =>
      statementsOf(fn).filter((s) => actionsOf(s).some((a) => a.startsWith('iot:Publish') || a === '*'));
    const onlyTopic = (fn: (typeof stack.functions)[keyof typeof stack.functions], topic: RegExp) => {
      const publish = iotStatements(fn);
      expect(publish).toHaveLength(1);
      expect(actionsOf(publish[0]!)).toEqual(['iot:Publish']);
      const resources = resourcesOf(publish[0]!);
      expect(resources).toHaveLength(1);
      expect(JSON.stringify(resources[0])).toMatch(topic);
    };
    onlyTopic(stack.functions.dispatch, /:topic\/s\/dev\/t\/\*\/a\/\*\/jobs"/);
    for (const fn of [stack.functions.selfservice, stack.functions.admin])
      onlyTopic(fn, /:topic\/s\/dev\/t\/\*\/a\/\*\/rpc\/req"/);
    // auth: password checks on rpc/req, and a one-rule SMS login's job on jobs (CDK merges the two grants)
    const auth = iotStatements(stack.functions.auth);
    expect(auth.flatMap((s) => actionsOf(s))).toEqual(['iot:Publish']);
    expect(auth.flatMap((s) => resourcesOf(s).map((r) => JSON.stringify(r))).sort()).toEqual([
      expect.stringMatching(/:topic\/s\/dev\/t\/\*\/a\/\*\/jobs"/),
      expect.stringMatching(/:topic\/s\/dev\/t\/\*\/a\/\*\/rpc\/req"/),
    ]);
    expect(
      statementsOf(stack.functions.events).filter((s) =>
        actionsOf(s).some((a) => a.startsWith('iot:') || a === '*'),
      ),
    ).toEqual([]);
  });

  it('lets auth and dispatch enqueue dispatch jobs and read the secret; events may only enqueue', () => {
    const dispatchQueue = logicalId(stack.dispatch.queue.node.defaultChild);
    const secret = logicalId(stack.secret.node.defaultChild);
    for (const fn of [stack.functions.auth, stack.functions.dispatch]) {
      expect(grantsOn(statementsOf(fn), /^sqs:SendMessage$/, dispatchQueue)).toHaveLength(1);
      expect(grantsOn(statementsOf(fn), /^secretsmanager:GetSecretValue$/, secret)).toHaveLength(1);
    }
    const tableId = logicalId(stack.table.node.defaultChild);
    expect(grantsOn(statementsOf(stack.functions.events), /^dynamodb:PutItem$/, tableId)).toHaveLength(1);
    expect(grantsOn(statementsOf(stack.functions.events), /^sqs:SendMessage$/, dispatchQueue)).toHaveLength(
      1,
    );
    expect(
      grantsOn(statementsOf(stack.functions.events), /^sqs:(ReceiveMessage|DeleteMessage)$/, dispatchQueue),
    ).toEqual([]);
    expect(grantsOn(statementsOf(stack.functions.events), /^secretsmanager:/, secret)).toEqual([]);
    // Auth never consumes the dispatch queue: only dispatch does.
    expect(
      grantsOn(statementsOf(stack.functions.auth), /^sqs:(ReceiveMessage|DeleteMessage)$/, dispatchQueue),
    ).toEqual([]);
  });

  it('grants no function a wildcard resource in its own policies, but the one IoT action that has no resource', () => {
    for (const fn of Object.values(stack.functions)) {
      for (const statement of statementsOf(fn))
        if (resourcesOf(statement).includes('*'))
          // The admin API and the console's pages both register agents.
          expect({ fn: fn.node.id, actions: actionsOf(statement) }).toEqual({
            fn: expect.stringMatching(/^(Admin|Web)Function$/),
            actions: ['iot:CreateCertificateFromCsr'],
          });
    }
  });

  it('dispatch opens provider credentials with the KMS key and sends e-mail through SES; events queue next steps', () => {
    const dispatchEnv = template.findResources('AWS::Lambda::Function', {
      Properties: { Description: 'SmsPass dispatch' },
    });
    const env = Object.values(dispatchEnv)[0]?.Properties.Environment.Variables;
    expect(env.CREDENTIAL_KEY_ARN).toEqual({
      'Fn::GetAtt': [logicalId(stack.credentialKey.node.defaultChild), 'Arn'],
    });
    const actions = statementsOf(stack.functions.dispatch).flatMap((s) => [s.Action].flat());
    expect(actions).toEqual(expect.arrayContaining(['kms:Decrypt', 'ses:SendEmail']));
    const eventsActions = statementsOf(stack.functions.events).flatMap((s) => [s.Action].flat());
    expect(eventsActions).toEqual(expect.arrayContaining(['sqs:SendMessage']));
  });

  it('alarms as soon as any dead-letter queue holds a message', () => {
    for (const dlq of [stack.dispatch.dlq, stack.events.dlq, stack.jobs.dlq]) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Namespace: 'AWS/SQS',
        Dimensions: [
          { Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(dlq.node.defaultChild), 'QueueName'] } },
        ],
        ComparisonOperator: 'GreaterThanThreshold',
        Threshold: 0,
      });
    }
  });

  it('looks the IoT data endpoint up at deploy time unless one is given', () => {
    template.hasResourceProperties('Custom::AWS', {
      Create: Match.stringLikeRegexp('"endpointType":"iot:Data-ATS"'),
    });
    const given = synth({ iotEndpoint: 'abc-ats.iot.eu-west-1.amazonaws.com' });
    given.template.resourceCountIs('Custom::AWS', 0);
    // Eight functions, and the log retention helper CDK adds for the API's access log group.
    expect(
      Object.values(given.template.findResources('AWS::Lambda::Function')).filter((f) =>
        String(f.Properties.Description ?? '').startsWith('SmsPass '),
      ),
    ).toHaveLength(8);
    given.template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ IOT_ENDPOINT: 'abc-ats.iot.eu-west-1.amazonaws.com' }) },
    });
  });

  it('outputs the API URL, the table and the queues', () => {
    const outputs = Object.keys(template.findOutputs('*'));
    expect(outputs).toEqual(
      expect.arrayContaining([
        'ApiUrl',
        'TableName',
        'DispatchQueueUrl',
        'EventsQueueUrl',
        'DispatchDlqUrl',
        'EventsDlqUrl',
      ]),
    );
  });
});
