/**
 * What running the stack in production needs: every alarm pages someone through the alarm topic, each
 * function's resource policy stays far from Lambda's 20 KB limit, stages share an account without a name
 * colliding, logins keep their concurrency, and the table cannot be dropped.
 */
import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { describe, expect, it } from 'vitest';
import { HTTP_ROUTES } from '../../cdk/functions.ts';
import { ACCESS_LOG_FORMAT, SmsPassStack, type SmsPassStackProps, stackName } from '../../cdk/stack.ts';
import { FAILED_RECORDS_METRIC, METRIC_NAMESPACE } from '../../functions/queue/metrics.ts';

const cdkJson = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
  context: Record<string, unknown>;
};

function synth(props: SmsPassStackProps = {}, app = new App({ context: cdkJson.context }), id?: string) {
  const stage = props.stage ?? 'dev';
  const stack = new SmsPassStack(app, id ?? stackName(stage), {
    functionCode: () => lambda.Code.fromInline('export const handler = async () => ({});'),
    iotEndpoint: 'abc-ats.iot.eu-west-1.amazonaws.com',
    ...props,
  });
  return { stack, template: Template.fromStack(stack), json: Template.fromStack(stack).toJSON() };
}

type Resource = { Type: string; Properties: Record<string, unknown> };
const resourcesOf = (json: Record<string, unknown>) =>
  Object.entries(json.Resources as Record<string, Resource>);
const logicalId = (stack: SmsPassStack, construct: { node: { defaultChild?: unknown } }) =>
  stack.getLogicalId(construct.node.defaultChild as never);

describe('alarms', () => {
  const { stack, template, json } = synth({ alarmEmail: 'ops@example.com' });
  const alarms = resourcesOf(json).filter(([, r]) => r.Type === 'AWS::CloudWatch::Alarm');
  const topicRef = { Ref: logicalId(stack, stack.alarmTopic) };
  const alarmOn = (metricName: string, namespace?: string) =>
    alarms.filter(
      ([, a]) =>
        a.Properties.MetricName === metricName &&
        (namespace === undefined || a.Properties.Namespace === namespace),
    );

  it('notify the alarm topic, on alarm and back to OK, every one of them', () => {
    expect(alarms.length).toBeGreaterThanOrEqual(20);
    for (const [id, alarm] of alarms) {
      expect(alarm.Properties.AlarmActions, id).toEqual([topicRef]);
      expect(alarm.Properties.OKActions, id).toEqual([topicRef]);
    }
  });

  it('subscribe the address given as alarmEmail to the topic, and none without it', () => {
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
      TopicArn: topicRef,
    });
    synth({ stage: 'quiet' }).template.resourceCountIs('AWS::SNS::Subscription', 0);
  });

  it('cover API 5xx and latency, throttles of each function, queue age, and every DLQ', () => {
    const apiId = { Ref: logicalId(stack, stack.api) };
    for (const metric of ['5xx', 'Latency']) {
      const found = alarmOn(metric, 'AWS/ApiGateway');
      expect(found, metric).toHaveLength(1);
      expect(found[0]![1].Properties.Dimensions).toEqual([{ Name: 'ApiId', Value: apiId }]);
    }
    const throttled = alarmOn('Throttles', 'AWS/Lambda').map(
      ([, a]) => (a.Properties.Dimensions as Array<{ Value: { Ref: string } }>)[0]!.Value.Ref,
    );
    expect(throttled.sort()).toEqual(
      Object.values(stack.functions)
        .map((fn) => logicalId(stack, fn))
        .sort(),
    );
    const aged = alarmOn('ApproximateAgeOfOldestMessage', 'AWS/SQS').map((e) =>
      JSON.stringify(e[1].Properties.Dimensions),
    );
    for (const q of [stack.dispatch.queue, stack.events.queue, stack.jobs.queue])
      expect(aged.some((d) => d.includes(logicalId(stack, q)))).toBe(true);
    const dlqs = alarmOn('ApproximateNumberOfMessagesVisible', 'AWS/SQS').map((e) =>
      JSON.stringify(e[1].Properties.Dimensions),
    );
    for (const q of [stack.dispatch.dlq, stack.events.dlq, stack.jobs.dlq])
      expect(dlqs.some((d) => d.includes(logicalId(stack, q)))).toBe(true);
  });

  it('count the records queue handlers fail in batchItemFailures, from the metric the handlers log', () => {
    const failed = alarmOn(FAILED_RECORDS_METRIC, METRIC_NAMESPACE).map(
      ([, a]) => (a.Properties.Dimensions as Array<{ Name: string; Value: { Ref: string } }>)[0],
    );
    expect(failed.map((d) => d?.Name)).toEqual(['FunctionName', 'FunctionName', 'FunctionName']);
    expect(failed.map((d) => d?.Value.Ref).sort()).toEqual(
      [stack.functions.dispatch, stack.functions.events, stack.functions.operator]
        .map((fn) => logicalId(stack, fn))
        .sort(),
    );
  });

  it('count IoT rule errors from the rules error logs', () => {
    const filters = resourcesOf(json).filter(([, r]) => r.Type === 'AWS::Logs::MetricFilter');
    expect(filters).toHaveLength(3);
    for (const [, filter] of filters) {
      const [transform] = filter.Properties.MetricTransformations as Array<Record<string, string>>;
      const alarm = alarmOn(transform!.MetricName!, transform!.MetricNamespace);
      expect(alarm).toHaveLength(1);
      expect(transform!.MetricNamespace).toBe('SmsPass/dev');
    }
    const rules = resourcesOf(json).filter(([, r]) => r.Type === 'AWS::IoT::TopicRule');
    for (const [, rule] of rules) {
      const errorLog = (rule.Properties.TopicRulePayload as { ErrorAction: { CloudwatchLogs: unknown } })
        .ErrorAction.CloudwatchLogs as { LogGroupName: { Ref: string } };
      expect(
        filters.some(
          ([, f]) => (f.Properties.LogGroupName as { Ref: string }).Ref === errorLog.LogGroupName.Ref,
        ),
      ).toBe(true);
    }
  });
});

describe('logs', () => {
  const { stack, json } = synth();
  it('writes JSON access logs of the API to a log group with a retention, and nothing from requests bodies', () => {
    const [, apiStage] = resourcesOf(json).find(([, r]) => r.Type === 'AWS::ApiGatewayV2::Stage')!;
    const settings = apiStage.Properties.AccessLogSettings as {
      DestinationArn: { 'Fn::GetAtt': [string, string] };
      Format: string;
    };
    expect(JSON.parse(settings.Format)).toEqual(ACCESS_LOG_FORMAT);
    expect(settings.Format).not.toMatch(/requestBody|header|querystring|authorizer/i);
    const group = (json.Resources as Record<string, Resource>)[settings.DestinationArn['Fn::GetAtt'][0]];
    expect(group?.Type).toBe('AWS::Logs::LogGroup');
    expect(group?.Properties?.RetentionInDays).toBeGreaterThan(0);
  });

  it('logs every function as JSON at INFO, into its own log group with a retention', () => {
    for (const fn of Object.values(stack.functions)) {
      const props = (json.Resources as Record<string, Resource>)[logicalId(stack, fn)]?.Properties;
      expect(props?.LoggingConfig).toMatchObject({
        LogFormat: 'JSON',
        ApplicationLogLevel: 'INFO',
        LogGroup: expect.anything(),
      });
    }
  });
});

describe('limits', () => {
  const { stack, json } = synth();
  const permissions = resourcesOf(json).filter(([, r]) => r.Type === 'AWS::Lambda::Permission');

  it('gives each HTTP function one API Gateway permission, however many routes it serves', () => {
    for (const [name, fn] of Object.entries(stack.functions)) {
      const own = permissions.filter(([, p]) =>
        JSON.stringify(p.Properties.FunctionName).includes(logicalId(stack, fn)),
      );
      const routes = HTTP_ROUTES.filter((r) => r.fn === name).length;
      expect(own, name).toHaveLength(routes > 0 ? 1 : 0);
      for (const [, p] of own) expect(p.Properties.Principal).toBe('apigateway.amazonaws.com');
    }
    // The admin function serves dozens of routes: the reason for the API-wide permission.
    expect(HTTP_ROUTES.filter((r) => r.fn === 'admin').length).toBeGreaterThan(40);
  });

  it('keeps each function resource policy an order of magnitude under 20 KB', () => {
    // A resolved statement, with ARNs at their longest: what Lambda stores per permission.
    const statement = (sourceArn: string) =>
      JSON.stringify({
        Sid: 'x'.repeat(100),
        Effect: 'Allow',
        Principal: { Service: 'apigateway.amazonaws.com' },
        Action: 'lambda:InvokeFunction',
        Resource: `arn:aws:lambda:ap-southeast-2:123456789012:function:${'f'.repeat(64)}`,
        Condition: { ArnLike: { 'AWS:SourceArn': sourceArn } },
      });
    for (const fn of Object.values(stack.functions)) {
      const own = permissions.filter(([, p]) =>
        JSON.stringify(p.Properties.FunctionName).includes(logicalId(stack, fn)),
      );
      const bytes = own
        .map(() => statement('arn:aws:execute-api:ap-southeast-2:123456789012:abcdefghij/*/*/*'))
        .reduce((sum, s) => sum + s.length + 1, 100);
      expect(bytes).toBeLessThan(2048);
    }
  });

  it('reserves concurrency for logins and caps each queue consumer, as the stage says', () => {
    const prod = synth({ stage: 'prod', authReservedConcurrency: 100, queueMaxConcurrency: 20 });
    const fns = (t: ReturnType<typeof synth>) => t.json.Resources as Record<string, Resource>;
    expect(
      fns(prod)[logicalId(prod.stack, prod.stack.functions.auth)]?.Properties?.ReservedConcurrentExecutions,
    ).toBe(100);
    for (const fn of ['dispatch', 'events', 'sync', 'admin', 'operator'] as const)
      expect(
        fns(prod)[logicalId(prod.stack, prod.stack.functions[fn])]?.Properties?.ReservedConcurrentExecutions,
      ).toBeUndefined();
    const mappings = (t: ReturnType<typeof synth>) =>
      resourcesOf(t.json)
        .filter(([, r]) => r.Type === 'AWS::Lambda::EventSourceMapping')
        .map(([, r]) => (r.Properties.ScalingConfig as { MaximumConcurrency: number }).MaximumConcurrency);
    expect(mappings(prod).sort()).toEqual([2, 20, 20]);
    // The default stage reserves nothing (a new account's quota has none to spare) and still caps consumers.
    expect(
      fns({ stack, json } as ReturnType<typeof synth>)[logicalId(stack, stack.functions.auth)]?.Properties
        ?.ReservedConcurrentExecutions,
    ).toBeUndefined();
    expect(mappings({ stack, json } as ReturnType<typeof synth>).sort()).toEqual([2, 5, 5]);
    expect(() => synth({ stage: 'bad1', queueMaxConcurrency: 1 })).toThrow(/queueMaxConcurrency/);
  });

  it('protects the table from deletion, with point-in-time recovery', () => {
    const [, table] = resourcesOf(json).find(([, r]) => r.Type === 'AWS::DynamoDB::Table')!;
    expect(table.Properties.DeletionProtectionEnabled).toBe(true);
    expect(table.Properties.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
  });
});

describe('stages', () => {
  /** The account-wide names a resource type may be given, and where the template sets them. */
  const NAMED: Record<string, string> = {
    'AWS::Lambda::Function': 'FunctionName',
    'AWS::DynamoDB::Table': 'TableName',
    'AWS::SQS::Queue': 'QueueName',
    'AWS::SNS::Topic': 'TopicName',
    'AWS::Logs::LogGroup': 'LogGroupName',
    'AWS::IoT::Policy': 'PolicyName',
    'AWS::IoT::TopicRule': 'RuleName',
    'AWS::IAM::Role': 'RoleName',
    'AWS::CloudWatch::Alarm': 'AlarmName',
    'AWS::ApiGatewayV2::Api': 'Name',
    'AWS::SecretsManager::Secret': 'Name',
    'AWS::KMS::Alias': 'AliasName',
  };

  /** Every account-wide name the stack sets itself (unset ones are generated from the stack name). */
  function physicalNames(json: Record<string, unknown>): string[] {
    const names: string[] = [];
    for (const [, r] of resourcesOf(json)) {
      const key = NAMED[r.Type];
      const value = key && r.Properties?.[key];
      if (value !== undefined && value !== null) names.push(`${r.Type} ${JSON.stringify(value)}`);
    }
    for (const output of Object.values((json.Outputs ?? {}) as Record<string, { Export?: { Name: string } }>))
      if (output.Export) names.push(`export ${JSON.stringify(output.Export.Name)}`);
    return names;
  }

  it('puts the stage into every name, so two stages share an account', () => {
    // One app, as one account would hold them: both stacks exist before either is synthesized.
    const app = new App({ context: cdkJson.context });
    const [dev, prod] = (['dev', 'prod'] as const)
      .map(
        (stage) =>
          new SmsPassStack(app, stackName(stage), {
            functionCode: () => lambda.Code.fromInline('export const handler = async () => ({});'),
            iotEndpoint: 'abc-ats.iot.eu-west-1.amazonaws.com',
            stage,
          }),
      )
      .map((stack) => ({ stack, json: Template.fromStack(stack).toJSON() }));
    if (!dev || !prod) throw new Error('two stages expected');
    expect(dev.stack.stackName).toBe('SmsPass-dev');
    expect(prod.stack.stackName).toBe('SmsPass-prod');
    const devNames = physicalNames(dev.json);
    const prodNames = physicalNames(prod.json);
    expect(devNames.length).toBeGreaterThanOrEqual(10);
    expect(devNames.filter((n) => prodNames.includes(n))).toEqual([]);
    for (const name of devNames) expect(name, name).toMatch(/dev/);
    // IoT rule names allow only letters, digits and underscores.
    const rules = resourcesOf(prod.json)
      .filter(([, r]) => r.Type === 'AWS::IoT::TopicRule')
      .map(([, r]) => r.Properties.RuleName as string);
    expect(rules.sort()).toEqual([
      'smspass_prod_agent_events',
      'smspass_prod_agent_presence',
      'smspass_prod_agent_rpc',
    ]);
    for (const rule of rules) expect(rule).toMatch(/^[a-zA-Z0-9_]+$/);
    // Function names carry it too, and so the metrics the handlers log under them.
    expect(
      resourcesOf(prod.json)
        .filter(([, r]) => r.Type === 'AWS::Lambda::Function' && r.Properties.FunctionName)
        .map(([, r]) => r.Properties.FunctionName),
    ).toEqual(expect.arrayContaining(['smspass-prod-auth', 'smspass-prod-operator']));
  });

  it('refuses a stage that does not fit an IoT rule name', () => {
    for (const stage of ['Prod', 'pro-d', 'p_d', '', 'averyveryverylongstage'])
      expect(() => synth({ stage }, undefined, 'Invalid'), stage).toThrow(/stage/);
  });
});
