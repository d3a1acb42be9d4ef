import { IoTClient } from '@aws-sdk/client-iot';
import { handle } from 'hono/aws-lambda';
import { DynamoDirectoryStore } from '../adapters/dynamo/directory-store.ts';
import { IotAgentSessions } from '../adapters/iot/iot-identities.ts';
import { awsBaseContext } from '../aws-env.ts';
import { buildOperatorApp } from '../deps.ts';

const ctx = awsBaseContext('operator');
export const handler = handle(
  buildOperatorApp({
    ...ctx,
    // Suspension deactivates the tenant's agents' certificates (IoT Core then drops them); resume reactivates.
    agentSessions: new IotAgentSessions(new IoTClient({}), new DynamoDirectoryStore(ctx.dynamo, ctx.table)),
  }),
);
