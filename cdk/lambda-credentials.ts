/**
 * Stands in for `@aws-sdk/credential-provider-node` inside Lambda bundles (see cdk/build.ts). Lambda hands the
 * execution role's credentials to the function in its environment and nowhere else, so the SDK's default chain
 * (SSO, ini files, process, web identity, IMDS, with their nested STS/SSO clients) is dead weight at every
 * cold start.
 */
export class LambdaCredentialsError extends Error {
  override name = 'LambdaCredentialsError';
}

interface Identity {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export const defaultProvider = (_init?: unknown) => async (): Promise<Identity> => {
  const accessKeyId = process.env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = process.env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) {
    throw new LambdaCredentialsError('AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set');
  }
  const sessionToken = process.env.AWS_SESSION_TOKEN;
  return sessionToken ? { accessKeyId, secretAccessKey, sessionToken } : { accessKeyId, secretAccessKey };
};
