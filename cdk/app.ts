/**
 * The CDK app (`cdk.json` runs it). It bundles the functions first so that `npx cdk synth` works from a fresh
 * clone; `-c skipBuild=true` reuses the bundles already in dist/functions. `-c iotEndpoint=…` skips the
 * deploy-time endpoint lookup.
 *
 * Stages: `-c stage=prod` deploys the stack `SmsPass-prod` (default stage `dev`); per stage, `-c alarmEmail=…`
 * subscribes an address to the alarms, `-c authReservedConcurrency=…` reserves concurrency for logins and
 * `-c queueMaxConcurrency=…` caps each queue's consumers.
 */
import { App } from 'aws-cdk-lib';
import { buildFunctions } from './build.ts';
import { SmsPassStack, stackName } from './stack.ts';

const app = new App();
const context = (key: string): unknown => app.node.tryGetContext(key);
const text = (key: string) => {
  const value = context(key);
  return typeof value === 'string' && value ? value : undefined;
};
const whole = (key: string) => {
  const value = context(key);
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n)) throw new Error(`-c ${key} must be a whole number, not ${JSON.stringify(value)}`);
  return n;
};

const skipBuild = context('skipBuild') === true || context('skipBuild') === 'true';
// Linked source maps (a .map beside each bundle, not inline) so production stack traces name our files.
if (!skipBuild) await buildFunctions({ outDir: 'dist/functions', minify: true, sourcemap: true });

const stage = text('stage') ?? 'dev';
const iotEndpoint = text('iotEndpoint');
const alarmEmail = text('alarmEmail');
const authReservedConcurrency = whole('authReservedConcurrency');
const queueMaxConcurrency = whole('queueMaxConcurrency');
new SmsPassStack(app, stackName(stage), {
  description: `SmsPass (${stage}): multi-tenant SMS passcodes with GSM modems at the edge`,
  stage,
  ...(iotEndpoint && { iotEndpoint }),
  ...(alarmEmail && { alarmEmail }),
  ...(authReservedConcurrency !== undefined && { authReservedConcurrency }),
  ...(queueMaxConcurrency !== undefined && { queueMaxConcurrency }),
});

app.synth();
