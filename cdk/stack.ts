import path from 'node:path';
import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { ACCEPTED_AUDIT_FIELDS } from '../functions/adapters/dynamo/keys.ts';
import { IOT_PRESENCE_RULE_SQL } from '../functions/contracts/presence.ts';
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
}

export const bundledCode = (name: FunctionName): lambda.Code =>
  lambda.Code.fromAsset(path.join(REPO_ROOT, 'dist', 'functions', name));

const pascal = (name: string) => name.charAt(0).toUpperCase() + name.slice(1);

export class SmsPassStack extends Stack {
  readonly table: dynamodb.Table;
  readonly dispatch: QueueWithDlq;
  readonly events: QueueWithDlq;
  readonly secret: secretsmanager.Secret;
  readonly credentialKey: kms.Key;
  readonly functions: Record<FunctionName, lambda.Function>;
  readonly api: apigwv2.HttpApi;

  constructor(scope: Construct, id: string, props: SmsPassStackProps = {}) {
    super(scope, id, props);
    const code = props.functionCode ?? bundledCode;

    // One table for every entity; keys are built by the data layer (pk/sk, gsi1 for listings).
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: 'ttl',
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
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
        description: `SmsPass ${name}`,
        runtime: lambda.Runtime.NODEJS_22_X,
        architecture: lambda.Architecture.ARM_64,
        handler: 'index.handler',
        code: code(name),
        memorySize: spec.memoryMiB,
        timeout: Duration.seconds(spec.timeoutSeconds),
        environment,
        logGroup: new logs.LogGroup(this, `${id}Logs`, {
          retention: logs.RetentionDays.ONE_MONTH,
          removalPolicy: RemovalPolicy.DESTROY,
        }),
      });
    };

    // Each function gets the wiring it uses and the grants that match it, nothing more.
    const auth = makeFunction('auth', {
      [ENV.tableName]: this.table.tableName,
      [ENV.dispatchQueueUrl]: this.dispatch.queue.queueUrl,
      [ENV.secretArn]: this.secret.secretArn,
      [ENV.credentialKeyArn]: this.credentialKey.keyArn,
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
    });
    this.table.grantReadWriteData(dispatch);
    // Consumes the queue (granted by the event source) and re-enqueues with a delay for failover timers.
    dispatch.addEventSource(
      new SqsEventSource(this.dispatch.queue, { batchSize: 10, reportBatchItemFailures: true }),
    );
    this.dispatch.queue.grantSendMessages(dispatch);
    this.secret.grantRead(dispatch);
    dispatch.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['iot:Publish'], resources: [iotTopicArn(this, 't/*/a/*/jobs')] }),
    );
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
    });
    this.table.grantReadWriteData(events);
    this.dispatch.queue.grantSendMessages(events);
    events.addEventSource(
      new SqsEventSource(this.events.queue, { batchSize: 10, reportBatchItemFailures: true }),
    );

    // The sync and operator APIs use the table only: no queue, no secret, no IoT.
    const tableOnly = (name: 'sync' | 'operator') => {
      const fn = makeFunction(name, { [ENV.tableName]: this.table.tableName });
      this.table.grantReadWriteData(fn);
      return fn;
    };
    const sync = tableOnly('sync');
    const operator = tableOnly('operator');
    // The admin API also seals providers' secret params with the credential key (dispatch opens them), and
    // opens a stored one when an edit sends back the mask, to keep only a secret that still works.
    const admin = makeFunction('admin', {
      [ENV.tableName]: this.table.tableName,
      [ENV.credentialKeyArn]: this.credentialKey.keyArn,
      [ENV.iotEndpoint]: iotEndpoint,
      [ENV.agentPolicyName]: agentPolicyName(this),
    });
    this.table.grantReadWriteData(admin);
    this.credentialKey.grant(admin, 'kms:Encrypt', 'kms:Decrypt');
    grantAgentEnrolment(admin, operator);

    this.functions = { auth, dispatch, events, sync, admin, operator };

    // Dispatch and events errors mean logins that may not get their message: alarm on any in 5 minutes.
    for (const [name, fn] of [
      ['Dispatch', dispatch],
      ['Events', events],
    ] as const) {
      fn.metricErrors({ period: Duration.minutes(5) }).createAlarm(this, `${name}ErrorsAlarm`, {
        alarmDescription: `The ${name.toLowerCase()} function failed; rule chains may be stalling`,
        threshold: 1,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }

    this.api = new apigwv2.HttpApi(this, 'HttpApi', { description: 'SmsPass APIs' });
    const integrations = new Map<FunctionName, HttpLambdaIntegration>();
    for (const route of HTTP_ROUTES) {
      let integration = integrations.get(route.fn);
      if (!integration) {
        integration = new HttpLambdaIntegration(`${pascal(route.fn)}Integration`, this.functions[route.fn]);
        integrations.set(route.fn, integration);
      }
      this.api.addRoutes({ path: route.path, methods: [apigwv2.HttpMethod[route.method]], integration });
    }

    new EventsTopicRule(this, 'AgentEventsRule', { queue: this.events.queue });
    // Presence from IoT Core's own connect/disconnect events (reliable on ungraceful drops, no retain needed).
    new EventsTopicRule(this, 'AgentPresenceRule', {
      queue: this.events.queue,
      sql: IOT_PRESENCE_RULE_SQL,
      description: 'Agent connected/disconnected (IoT Core lifecycle events) to the events queue',
    });
    const agentPolicy = new AgentPolicy(this, 'AgentPolicy');

    new CfnOutput(this, 'ApiUrl', { value: this.api.apiEndpoint });
    new CfnOutput(this, 'TableName', { value: this.table.tableName });
    new CfnOutput(this, 'DispatchQueueUrl', { value: this.dispatch.queue.queueUrl });
    new CfnOutput(this, 'DispatchDlqUrl', { value: this.dispatch.dlq.queueUrl });
    new CfnOutput(this, 'EventsQueueUrl', { value: this.events.queue.queueUrl });
    new CfnOutput(this, 'EventsDlqUrl', { value: this.events.dlq.queueUrl });
    new CfnOutput(this, 'SecretArn', { value: this.secret.secretArn });
    new CfnOutput(this, 'CredentialKeyArn', { value: this.credentialKey.keyArn });
    new CfnOutput(this, 'IotEndpoint', { value: iotEndpoint });
    new CfnOutput(this, 'AgentPolicyName', { value: agentPolicy.policy.ref });
  }
}
