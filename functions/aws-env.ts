/** What every Lambda entry reads from its environment, once per cold start. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { createLogger } from './adapters/log.ts';
import { ENV, type EnvName } from './contracts/env.ts';
import { DeploymentKeys } from './core/secrets.ts';

export function requireEnv(name: EnvName): string {
  const value = process.env[name];
  if (!value) throw new Error(`environment variable ${name} is not set`);
  return value;
}

export async function loadDeploymentKeys(): Promise<DeploymentKeys> {
  const out = await new SecretsManagerClient({}).send(
    new GetSecretValueCommand({ SecretId: requireEnv(ENV.secretArn) }),
  );
  if (!out.SecretString) throw new Error('the deployment secret has no string value');
  return new DeploymentKeys(Buffer.from(out.SecretString, 'utf8'));
}

export function awsBaseContext(fn: string) {
  return { dynamo: new DynamoDBClient({}), table: requireEnv(ENV.tableName), log: createLogger({ fn }) };
}

export async function awsContext(fn: string) {
  return { ...awsBaseContext(fn), keys: await loadDeploymentKeys() };
}
