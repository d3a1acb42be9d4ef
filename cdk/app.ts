/**
 * The CDK app (`cdk.json` runs it). It bundles the functions first so that `npx cdk synth` works from a fresh
 * clone; `-c skipBuild=true` reuses the bundles already in dist/functions. `-c iotEndpoint=…` skips the
 * deploy-time endpoint lookup.
 */
import { App } from 'aws-cdk-lib';
import { buildFunctions } from './build.ts';
import { SmsPassStack } from './stack.ts';

const app = new App();
const context = (key: string): unknown => app.node.tryGetContext(key);

const skipBuild = context('skipBuild') === true || context('skipBuild') === 'true';
if (!skipBuild) await buildFunctions({ outDir: 'dist/functions', minify: true });

const iotEndpoint = context('iotEndpoint');
new SmsPassStack(app, 'SmsPassStack', {
  description: 'SmsPass: multi-tenant SMS passcodes with GSM modems at the edge',
  ...(typeof iotEndpoint === 'string' && iotEndpoint ? { iotEndpoint } : {}),
});

app.synth();
