/** AWS SDK clients pointed at the local stand-ins: only endpoint and credentials differ from production. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';

// Lambda runs Node 22; the SDK's warning about Node 20 only concerns machines running the local stack.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export const LOCAL_REGION = 'us-east-1';
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

export const localDynamo = (endpoint: string) =>
  new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials, maxAttempts: 3 });
export const localSqs = (endpoint: string) =>
  new SQSClient({ endpoint, region: LOCAL_REGION, credentials, maxAttempts: 3 });
