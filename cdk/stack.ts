import path from 'node:path';
import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import { ACCEPTED_AUDIT_FIELDS } from '../functions/adapters/dynamo/keys.ts';
import { iotRpcRuleSql } from '../functions/contracts/messages.ts';
import { iotPresenceRuleSql } from '../functions/contracts/presence.ts';
import { allAgentsFilter, STAGE_PATTERN } from '../functions/contracts/topics.ts';
import { FAILED_RECORDS_METRIC, METRIC_NAMESPACE } from '../functions/queue/metrics.ts';
import { REPO_ROOT } from './build.ts';
import { ENV, FUNCTIONS, type FunctionName, HTTP_ROUTES } from './functions.ts';
import {
  AgentPolicy,
  agentPolicyName,
  EventsTopicRule,
  grantAgentEnrolment,
  iotTopicArn,
  lookUpIotDataEndpoint,
} from './iot.ts';
import { QueueWithDlq } from './queue-with-dlq.ts';

export interface SmsPassStackProps extends StackProps {
  /** Code of each function. Defaults to the esbuild bundles in `dist/functions/<name>` (see cdk/build.ts). */
  functionCode?: (name: FunctionName) => lambda.Code;
  /** IoT Core ATS data endpoint; looked up at deploy time when not given. */
  iotEndpoint?: string;
  /**
   * The stage (`dev`, `prod`, …): part of every name the stack gives a resource, so stages share an account.
   * Lowercase letters and digits, 1 to 12, starting with a letter (IoT rule names allow no `-`).
   */
  stage?: string;
  /** An e-mail address subscribed to the alarm topic (it must confirm the subscription). */
  alarmEmail?: string;
  /**
   * Concurrency reserved for (and capping) the auth function, so queue work cannot starve logins. 0 or
   * absent reserves none: a new account's default quota of 10 leaves nothing to reserve.
   */
  authReservedConcurrency?: number;
  /** The most concurrent invocations each queue's event source runs (2 to 1000; default 5). */
  queueMaxConcurrency?: number;
}

/** Stage names fit every resource name the stack sets, IoT rule names (`[a-zA-Z0-9_]`) included. */
export { STAGE_PATTERN };

/** The stack of a stage: `SmsPass-dev`, `SmsPass-prod`. */
export const stackName = (stage: string) => `SmsPass-${stage}`;

export class InvalidStageSettingError extends Error {
  override name = 'InvalidStageSettingError';
}

export const bundledCode = (name: FunctionName): lambda.Code =>
  lambda.Code.fromAsset(path.join(REPO_ROOT, 'dist', 'functions', name));

/** One JSON object per request in the API's access log (API Gateway fills the `$context` variables). */
export const ACCESS_LOG_FORMAT = {
  requestId: '$context.requestId',
  time: '$context.requestTime',
  ip: '$context.identity.sourceIp',
  method: '$context.httpMethod',
  path: '$context.path',
  routeKey: '$context.routeKey',
  status: '$context.status',
  latencyMs: '$context.responseLatency',
  integrationLatencyMs: '$context.integrationLatency',
  integrationStatus: '$context.integrationStatus',
  integrationError: '$context.integrationErrorMessage',
  bytes: '$context.responseLength',
  userAgent: '$context.identity.userAgent',
};

const pascal = (name: string) => name.charAt(0).toUpperCase() + name.slice(1);

export class SmsPassStack extends Stack {
  readonly table: dynamodb.Table;
  readonly dispatch: QueueWithDlq;
  readonly events: QueueWithDlq;
  readonly secret: secretsmanager.Secret;
  readonly credentialKey: kms.Key;
  readonly functions: Record<FunctionName, lambda.Function>;
  readonly api: apigwv2.HttpApi;
  readonly jobs: QueueWithDlq;
  readonly alarmTopic: sns.Topic;
  readonly stage: string;

  constructor(scope: Construct, id: string, props: SmsPassStackProps = {}) {
    super(scope, id, props);
    const code = props.functionCode ?? bundledCode;
    const stage = props.stage ?? 'dev';
    if (!STAGE_PATTERN.test(stage))
      throw new InvalidStageSettingError(
        `stage "${stage}" must match ${STAGE_PATTERN} (it goes into IoT rule names)`,
      );
    this.stage = stage;
    const queueMaxConcurrency = props.queueMaxConcurrency ?? 5;
    if (!Number.isInteger(queueMaxConcurrency) || queueMaxConcurrency < 2 || queueMaxConcurrency > 1000)
      throw new InvalidStageSettingError('queueMaxConcurrency must be an integer from 2 to 1000');
    const authReserved = props.authReservedConcurrency ?? 0;
    if (!Number.isInteger(authReserved) || authReserved < 0)
      throw new InvalidStageSettingError('authReservedConcurrency must be a whole number');

    // One table for every entity; keys are built by the data layer (pk/sk, gsi1 for listings).
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: 'ttl',
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // Every tenant's users, keys and settings: a stack deletion or a slip in the console must not drop it.
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.table.addGlobalSecondaryIndex({
      indexName: 'gsi1',
      partitionKey: { name: 'gsi1pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'gsi1sk', type: dynamodb.AttributeType.STRING },
    });
    // The tenants' message logs: challenges by tenant and month. Keys only, so a challenge's later
    // updates (job.sent, the accept) cost no index write; the listing reads the items.
    this.table.addGlobalSecondaryIndex({
      indexName: 'gsi2',
      partitionKey: { name: 'gsi2pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'gsi2sk', type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.KEYS_ONLY,
    });
    // Accepted challenges as audit entries: only the fields an entry shows, not a copy of each challenge.
    this.table.addGlobalSecondaryIndex({
      indexName: 'gsi3',
      partitionKey: { name: 'gsi3pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'gsi3sk', type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.INCLUDE,
      nonKeyAttributes: [...ACCEPTED_AUDIT_FIELDS],
    });

    this.dispatch = new QueueWithDlq(this, 'Dispatch', {
      consumerTimeout: Duration.seconds(FUNCTIONS.dispatch.timeoutSeconds),
    });
    this.events = new QueueWithDlq(this, 'Events', {
      consumerTimeout: Duration.seconds(FUNCTIONS.events.timeoutSeconds),
    });
    // Background work (tenant purges, large sync removals), run by the operator function.
    this.jobs = new QueueWithDlq(this, 'Jobs', {
      consumerTimeout: Duration.seconds(FUNCTIONS.operator.timeoutSeconds),
    });

    // Every alarm notifies this topic; the deployer subscribes an address (`-c alarmEmail=…`).
    this.alarmTopic = new sns.Topic(this, 'AlarmTopic', {
      displayName: `SmsPass ${stage} alarms`,
      enforceSSL: true,
    });
    if (props.alarmEmail)
      this.alarmTopic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));

    // Root key material for passcode HMAC keys and sealing; the functions derive purpose-bound keys from it.
    // Retained: losing it makes every stored passcode hash and sealed value unreadable.
    this.secret = new secretsmanager.Secret(this, 'DeploymentSecret', {
      description: 'SmsPass root key material (passcode HMAC keys, sealing)',
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
      removalPolicy: RemovalPolicy.RETAIN,
    });

    // Seals tenants' provider credentials and users' TOTP secrets (the credential cipher's KMS adapter).
    // Retained for the same reason as the secret: without it no stored credential opens again.
    this.credentialKey = new kms.Key(this, 'CredentialKey', {
      description: 'SmsPass provider credentials and TOTP secrets',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const iotEndpoint = props.iotEndpoint ?? lookUpIotDataEndpoint(this, 'IotDataEndpoint');

    const makeFunction = (name: FunctionName, environment: Record<string, string>) => {
      const spec = FUNCTIONS[name];
      const id = `${pascal(name)}Function`;
      return new lambda.Function(this, id, {
        // The stage in the name keeps two stages' functions (and their metrics) apart in one account.
        functionName: `smspass-${stage}-${name}`,
        description: `SmsPass ${name}`,
        runtime: lambda.Runtime.NODEJS_22_X,
        architecture: lambda.Architecture.ARM_64,
        handler: 'index.handler',
        code: code(name),
        memorySize: spec.memoryMiB,
        timeout: Duration.seconds(spec.timeoutSeconds),
        // Source maps sit beside each bundle (cdk/build.ts); Node reads them only to print a stack trace.
        environment: { ...environment, NODE_OPTIONS: '--enable-source-maps' },
        loggingFormat: lambda.LoggingFormat.JSON,
        applicationLogLevelV2: lambda.ApplicationLogLevel.INFO,
        // INFO keeps the REPORT line (duration, memory, cold start) of every invocation.
        systemLogLevelV2: lambda.SystemLogLevel.INFO,
        ...(name === 'auth' && authReserved > 0 && { reservedConcurrentExecutions: authReserved }),
        logGroup: new logs.LogGroup(this, `${id}Logs`, {
          retention: logs.RetentionDays.ONE_MONTH,
          removalPolicy: RemovalPolicy.DESTROY,
        }),
      });
    };

    // Each function gets the wiring it uses and the grants that match it, nothing more.
    /** RPC requests on this stage's agents' rpc/req topics (replies come back through the events queue). */
    const grantRpcRequests = (fn: lambda.IFunction) =>
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['iot:Publish'],
          resources: [iotTopicArn(this, allAgentsFilter(stage, 'rpc/req').replaceAll('+', '*'))],
        }),
      );
    const auth = makeFunction('auth', {
      [ENV.tableName]: this.table.tableName,
      [ENV.dispatchQueueUrl]: this.dispatch.queue.queueUrl,
      [ENV.secretArn]: this.secret.secretArn,
      [ENV.credentialKeyArn]: this.credentialKey.keyArn,
      // Password checks ask the tenant's AD agent over its rpc/req topic.
      [ENV.iotEndpoint]: iotEndpoint,
      [ENV.stage]: stage,
    });
    this.table.grantReadWriteData(auth);
    this.dispatch.queue.grantSendMessages(auth);
    this.secret.grantRead(auth);
    // Verify opens a user's TOTP secret once the chain reached the authenticator app.
    this.credentialKey.grantDecrypt(auth);

    const dispatch = makeFunction('dispatch', {
      [ENV.tableName]: this.table.tableName,
      [ENV.dispatchQueueUrl]: this.dispatch.queue.queueUrl,
      [ENV.iotEndpoint]: iotEndpoint,
      [ENV.secretArn]: this.secret.secretArn,
      [ENV.credentialKeyArn]: this.credentialKey.keyArn,
      [ENV.stage]: stage,
    });
    this.table.grantReadWriteData(dispatch);
    // Consumes the queue (granted by the event source) and re-enqueues with a delay for failover timers.
    dispatch.addEventSource(
      new SqsEventSource(this.dispatch.queue, {
        batchSize: 10,
        reportBatchItemFailures: true,
        maxConcurrency: queueMaxConcurrency,
      }),
    );
    this.dispatch.queue.grantSendMessages(dispatch);
    this.secret.grantRead(dispatch);
    /** SMS jobs on this stage's agents' jobs topics. */
    const grantJobs = (fn: lambda.IFunction) =>
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['iot:Publish'],
          resources: [iotTopicArn(this, allAgentsFilter(stage, 'jobs').replaceAll('+', '*'))],
        }),
      );
    grantJobs(dispatch);
    // Provider steps: credentials open with the KMS key; e-mail rules with the SES transport send through SES.
    this.credentialKey.grantDecrypt(dispatch);
    dispatch.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['ses:SendEmail', 'ses:SendRawEmail'],
        resources: [
          this.formatArn({ service: 'ses', resource: 'identity', resourceName: '*' }),
          this.formatArn({ service: 'ses', resource: 'configuration-set', resourceName: '*' }),
        ],
      }),
    );

    // A failed job moves the rule chain on: the events function queues the next step.
    const events = makeFunction('events', {
      [ENV.tableName]: this.table.tableName,
      [ENV.dispatchQueueUrl]: this.dispatch.queue.queueUrl,
      [ENV.stage]: stage,
    });
    this.table.grantReadWriteData(events);
    this.dispatch.queue.grantSendMessages(events);
    events.addEventSource(
      new SqsEventSource(this.events.queue, {
        batchSize: 10,
        reportBatchItemFailures: true,
        maxConcurrency: queueMaxConcurrency,
      }),
    );

    // The sync API uses the table, and hands the removal of a large `complete` to the jobs queue (the operator
    // function runs it): no secret, no IoT.
    const sync = makeFunction('sync', {
      [ENV.tableName]: this.table.tableName,
      [ENV.jobsQueueUrl]: this.jobs.queue.queueUrl,
    });
    this.table.grantReadWriteData(sync);
    this.jobs.queue.grantSendMessages(sync);
    // The operator API, plus its own jobs queue: a tenant delete answers at once and the purge runs from it.
    const operator = makeFunction('operator', {
      [ENV.tableName]: this.table.tableName,
      [ENV.jobsQueueUrl]: this.jobs.queue.queueUrl,
    });
    this.table.grantReadWriteData(operator);
    this.jobs.queue.grantSendMessages(operator);
    operator.addEventSource(
      new SqsEventSource(this.jobs.queue, {
        batchSize: 1,
        reportBatchItemFailures: true,
        maxConcurrency: 2,
      }),
    );
    // The admin API also seals providers' secret params with the credential key (dispatch opens them), and
    // opens a stored one when an edit sends back the mask, to keep only a secret that still works.
    const admin = makeFunction('admin', {
      [ENV.tableName]: this.table.tableName,
      [ENV.credentialKeyArn]: this.credentialKey.keyArn,
      [ENV.iotEndpoint]: iotEndpoint,
      [ENV.agentPolicyName]: agentPolicyName(this),
      [ENV.stage]: stage,
    });
    this.table.grantReadWriteData(admin);
    this.credentialKey.grant(admin, 'kms:Encrypt', 'kms:Decrypt');
    grantAgentEnrolment(admin, operator, stage);
    // Sync now: an RPC request on the agent's rpc/req topic, of this stage's agents only.
    grantRpcRequests(admin);

    // The portal's API signs users in by passcode (the auth function's path: queue, secret) and enrols
    // authenticator apps (seals their seeds with the credential key).
    const selfservice = makeFunction('selfservice', {
      [ENV.tableName]: this.table.tableName,
      [ENV.dispatchQueueUrl]: this.dispatch.queue.queueUrl,
      [ENV.secretArn]: this.secret.secretArn,
      [ENV.credentialKeyArn]: this.credentialKey.keyArn,
      // Password resets ask the tenant's AD agent over its rpc/req topic.
      [ENV.iotEndpoint]: iotEndpoint,
      [ENV.stage]: stage,
    });
    this.table.grantReadWriteData(selfservice);
    this.dispatch.queue.grantSendMessages(selfservice);
    this.secret.grantRead(selfservice);
    this.credentialKey.grant(selfservice, 'kms:Encrypt', 'kms:Decrypt');
    // Password checks (auth) and resets (selfservice) are RPCs to the tenant's AD agent.
    grantRpcRequests(auth);
    // A one-rule SMS login's job, published by the create itself (no dispatch queue hop for it).
    grantJobs(auth);
    grantRpcRequests(selfservice);

    // The console and portal pages call the same services as the admin and operator APIs (and send a test
    // passcode as the auth API does), so they get the same wiring and grants; sign-in TOTP seeds are sealed
    // with the credential key.
    const web = makeFunction('web', {
      [ENV.tableName]: this.table.tableName,
      [ENV.credentialKeyArn]: this.credentialKey.keyArn,
      [ENV.iotEndpoint]: iotEndpoint,
      [ENV.agentPolicyName]: agentPolicyName(this),
      [ENV.dispatchQueueUrl]: this.dispatch.queue.queueUrl,
      [ENV.secretArn]: this.secret.secretArn,
      [ENV.stage]: stage,
    });
    this.table.grantReadWriteData(web);
    this.credentialKey.grant(web, 'kms:Encrypt', 'kms:Decrypt');
    this.dispatch.queue.grantSendMessages(web);
    this.secret.grantRead(web);
    grantAgentEnrolment(web, web, stage);
    // The portal's password reset pages reach the tenant's AD agent as selfservice does.
    grantRpcRequests(web);

    this.functions = { auth, dispatch, events, sync, admin, operator, selfservice, web };

    this.api = new apigwv2.HttpApi(this, 'HttpApi', {
      apiName: `smspass-${stage}`,
      description: 'SmsPass APIs',
    });
    // Routes come from the one route table. Each function gets one API-wide invoke permission instead of
    // one per route: the admin function's 40-odd routes would otherwise bring its resource policy near
    // Lambda's 20 KB limit, and the next routes past it.
    const integrations = new Map<FunctionName, HttpLambdaIntegration>();
    for (const route of HTTP_ROUTES) {
      let integration = integrations.get(route.fn);
      if (!integration) {
        integration = new HttpLambdaIntegration(`${pascal(route.fn)}Integration`, this.functions[route.fn], {
          scopePermissionToRoute: false,
        });
        integrations.set(route.fn, integration);
      }
      this.api.addRoutes({ path: route.path, methods: [apigwv2.HttpMethod[route.method]], integration });
    }
    const accessLogs = new logs.LogGroup(this, 'ApiAccessLogs', {
      retention: logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // Enrolment links (admin API) lead to the portal that this same API serves, and are mailed by the tenant's
    // e-mail provider, which may send through SES.
    admin.addEnvironment(ENV.portalUrl, `${this.api.apiEndpoint}/portal`);
    admin.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['ses:SendEmail', 'ses:SendRawEmail'],
        resources: [
          this.formatArn({ service: 'ses', resource: 'identity', resourceName: '*' }),
          this.formatArn({ service: 'ses', resource: 'configuration-set', resourceName: '*' }),
        ],
      }),
    );
    const defaultStage = this.api.defaultStage?.node.defaultChild as apigwv2.CfnStage;
    defaultStage.accessLogSettings = {
      destinationArn: accessLogs.logGroupArn,
      // No request bodies, headers or query strings: nothing that can carry a key or a passcode.
      format: JSON.stringify(ACCESS_LOG_FORMAT),
    };

    const eventsRule = new EventsTopicRule(this, 'AgentEventsRule', { queue: this.events.queue, stage });
    // Presence from IoT Core's own connect/disconnect events (reliable on ungraceful drops, no retain needed).
    const presenceRule = new EventsTopicRule(this, 'AgentPresenceRule', {
      queue: this.events.queue,
      stage,
      sql: iotPresenceRuleSql(stage),
      description: 'Agent connected/disconnected (IoT Core lifecycle events) to the events queue',
    });
    // Agents' RPC replies (rpc/res) take the events' way; the events function takes each for the request it answers.
    const rpcRule = new EventsTopicRule(this, 'AgentRpcRule', {
      queue: this.events.queue,
      stage,
      sql: iotRpcRuleSql(stage),
      description: 'Agent RPC replies (rpc/res) to the events queue',
    });
    // IoT rule names are account-wide: the stage keeps two stages' rules apart.
    eventsRule.rule.ruleName = `smspass_${stage}_agent_events`;
    presenceRule.rule.ruleName = `smspass_${stage}_agent_presence`;
    rpcRule.rule.ruleName = `smspass_${stage}_agent_rpc`;
    const agentPolicy = new AgentPolicy(this, 'AgentPolicy', { stage });

    this.addAlarms(stage, [eventsRule, presenceRule, rpcRule]);

    new CfnOutput(this, 'ApiUrl', { value: this.api.apiEndpoint });
    new CfnOutput(this, 'TableName', { value: this.table.tableName });
    new CfnOutput(this, 'DispatchQueueUrl', { value: this.dispatch.queue.queueUrl });
    new CfnOutput(this, 'DispatchDlqUrl', { value: this.dispatch.dlq.queueUrl });
    new CfnOutput(this, 'EventsQueueUrl', { value: this.events.queue.queueUrl });
    new CfnOutput(this, 'EventsDlqUrl', { value: this.events.dlq.queueUrl });
    new CfnOutput(this, 'JobsDlqUrl', { value: this.jobs.dlq.queueUrl });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarmTopic.topicArn });
    new CfnOutput(this, 'Stage', { value: stage });
    new CfnOutput(this, 'SecretArn', { value: this.secret.secretArn });
    new CfnOutput(this, 'CredentialKeyArn', { value: this.credentialKey.keyArn });
    new CfnOutput(this, 'IotEndpoint', { value: iotEndpoint });
    new CfnOutput(this, 'AgentPolicyName', { value: agentPolicy.policy.ref });
  }

  /** Every alarm of the stack; each one notifies the alarm topic. */
  private addAlarms(stage: string, rules: EventsTopicRule[]) {
    const action = new cwActions.SnsAction(this.alarmTopic);
    const alarm = (
      id: string,
      metric: cloudwatch.IMetric,
      props: Omit<cloudwatch.AlarmProps, 'metric' | 'evaluationPeriods'> & { evaluationPeriods?: number },
    ) => {
      const created = new cloudwatch.Alarm(this, id, {
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        ...props,
        metric,
      });
      created.addAlarmAction(action);
      created.addOkAction(action);
      return created;
    };
    const fiveMinutes = Duration.minutes(5);

    // The API: server errors, and logins that got slow.
    alarm('Api5xxAlarm', this.api.metricServerError({ period: fiveMinutes, statistic: 'Sum' }), {
      alarmDescription: 'The HTTP API answered 5xx (a function failed or timed out)',
      threshold: 5,
    });
    alarm('ApiLatencyAlarm', this.api.metricLatency({ period: fiveMinutes, statistic: 'p99' }), {
      alarmDescription: 'p99 latency of the HTTP API over 3 s for 15 minutes',
      threshold: 3000,
      evaluationPeriods: 3,
    });

    for (const [name, fn] of Object.entries(this.functions)) {
      const id = pascal(name);
      alarm(`${id}ThrottlesAlarm`, fn.metricThrottles({ period: fiveMinutes, statistic: 'Sum' }), {
        alarmDescription: `The ${name} function was throttled (concurrency limit reached)`,
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      });
    }

    // Dispatch and events errors mean logins that may not get their message.
    for (const name of ['dispatch', 'events'] as const) {
      alarm(`${pascal(name)}ErrorsAlarm`, this.functions[name].metricErrors({ period: fiveMinutes }), {
        alarmDescription: `The ${name} function failed; rule chains may be stalling`,
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      });
    }

    // Records a queue handler failed and returned in batchItemFailures: the Errors metric never sees them.
    for (const name of ['dispatch', 'events', 'operator'] as const) {
      const failed = new cloudwatch.Metric({
        namespace: METRIC_NAMESPACE,
        metricName: FAILED_RECORDS_METRIC,
        dimensionsMap: { FunctionName: this.functions[name].functionName },
        period: fiveMinutes,
        statistic: 'Sum',
      });
      alarm(`${pascal(name)}FailedRecordsAlarm`, failed, {
        alarmDescription: `The ${name} function failed queue records (they are retried; see its logs)`,
        threshold: 5,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      });
    }

    // Work waiting too long: a passcode older than a minute in the dispatch queue is a login that waits.
    for (const [id, queue, seconds] of [
      ['DispatchQueueAgeAlarm', this.dispatch, 60],
      ['EventsQueueAgeAlarm', this.events, 300],
      ['JobsQueueAgeAlarm', this.jobs, 3600],
    ] as const) {
      alarm(
        id,
        queue.queue.metricApproximateAgeOfOldestMessage({
          period: Duration.minutes(1),
          statistic: 'Maximum',
        }),
        {
          alarmDescription: `The oldest message of ${queue.node.id} waited over ${seconds} s for 3 minutes`,
          threshold: seconds,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          evaluationPeriods: 3,
        },
      );
    }

    for (const queue of [this.dispatch, this.events, this.jobs]) {
      queue.dlqAlarm.addAlarmAction(action);
      queue.dlqAlarm.addOkAction(action);
    }

    // IoT rule errors: the rules' error action writes what they could not deliver to a log group; each line
    // there counts as one error. The namespace carries the stage (a metric filter's metric has no dimension).
    rules.forEach((rule, i) => {
      const errorLog = rule.node.findChild('Errors') as logs.LogGroup;
      const metric = errorLog
        .addMetricFilter('ErrorCount', {
          filterPattern: logs.FilterPattern.allEvents(),
          metricNamespace: `SmsPass/${stage}`,
          metricName: `IotRuleErrors${['Events', 'Status', 'Rpc'][i] ?? i}`,
          metricValue: '1',
        })
        .metric({ period: fiveMinutes, statistic: 'Sum' });
      alarm(`${rule.node.id}ErrorsAlarm`, metric, {
        alarmDescription: `The IoT rule ${rule.node.id} could not deliver agent messages to the events queue`,
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      });
    });
  }
}
