import { KMSClient } from '@aws-sdk/client-kms';
import { SQSClient } from '@aws-sdk/client-sqs';
import { handle } from 'hono/aws-lambda';
import { KmsCredentialCipher } from '../adapters/credentials/kms-cipher.ts';
import { awsContext, requireEnv } from '../aws-env.ts';
import { ENV } from '../contracts/env.ts';
import { CachingCredentialCipher } from '../core/credential-cipher.ts';
import { buildSelfServiceApp } from '../selfservice-deps.ts';

const app = buildSelfServiceApp({
  ...(await awsContext('selfservice')),
  sqs: new SQSClient({}),
  dispatchQueueUrl: requireEnv(ENV.dispatchQueueUrl),
  // Seals and opens the seeds of the authenticator apps users enrol.
  cipher: new CachingCredentialCipher(
    new KmsCredentialCipher(new KMSClient({}), requireEnv(ENV.credentialKeyArn)),
  ),
});

export const handler = handle(app);
