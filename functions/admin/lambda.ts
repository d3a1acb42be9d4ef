import { KMSClient } from '@aws-sdk/client-kms';
import { handle } from 'hono/aws-lambda';
import { KmsCredentialCipher } from '../adapters/credentials/kms-cipher.ts';
import { awsBaseContext, requireEnv } from '../aws-env.ts';
import { ENV } from '../contracts/env.ts';
import { buildAdminApp } from '../deps.ts';

export const handler = handle(
  buildAdminApp({
    ...awsBaseContext('admin'),
    // Seals providers' secret params under the credential key, which dispatch opens them with.
    cipher: new KmsCredentialCipher(new KMSClient({}), requireEnv(ENV.credentialKeyArn)),
  }),
);
