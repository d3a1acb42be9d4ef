/** AWS SDK clients pointed at the local stand-ins: only endpoint and credentials differ from production. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';

export const LOCAL_REGION = 'us-east-1';
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

export const localDynamo = (endpoint: string) =>
  new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials, maxAttempts: 3 });
export const localSqs = (endpoint: string) => new SQSClient({ endpoint, region: LOCAL_REGION, credentials, maxAttempts: 3 });
