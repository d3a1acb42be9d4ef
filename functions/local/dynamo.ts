/** dynalite on 127.0.0.1, on disk under a folder or in memory, with the same table the CDK stack makes. */

import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceNotFoundException,
} from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { ACCEPTED_AUDIT_FIELDS } from '../adapters/dynamo/keys.ts';

export const TABLE_DEFINITION: Omit<CreateTableCommandInput, 'TableName'> = {
  BillingMode: 'PAY_PER_REQUEST',
  AttributeDefinitions: [
    { AttributeName: 'pk', AttributeType: 'S' },
    { AttributeName: 'sk', AttributeType: 'S' },
    { AttributeName: 'gsi1pk', AttributeType: 'S' },
    { AttributeName: 'gsi1sk', AttributeType: 'S' },
    { AttributeName: 'gsi2pk', AttributeType: 'S' },
    { AttributeName: 'gsi2sk', AttributeType: 'S' },
    { AttributeName: 'gsi3pk', AttributeType: 'S' },
    { AttributeName: 'gsi3sk', AttributeType: 'S' },
  ],
  KeySchema: [
    { AttributeName: 'pk', KeyType: 'HASH' },
    { AttributeName: 'sk', KeyType: 'RANGE' },
  ],
  GlobalSecondaryIndexes: [
    {
      IndexName: 'gsi1',
      KeySchema: [
        { AttributeName: 'gsi1pk', KeyType: 'HASH' },
        { AttributeName: 'gsi1sk', KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'ALL' },
    },
    {
      // The message log (challenges by tenant and month). Keys only: a challenge's updates (job.sent, accept)
      // then never write to the index; the listing reads the items themselves.
      IndexName: 'gsi2',
      KeySchema: [
        { AttributeName: 'gsi2pk', KeyType: 'HASH' },
        { AttributeName: 'gsi2sk', KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'KEYS_ONLY' },
    },
    {
      // Accepted challenges as `challenge.accepted` audit entries: only the fields the entry shows, so the
      // audit log keeps no second copy of each challenge for its 400 days.
      IndexName: 'gsi3',
      KeySchema: [
        { AttributeName: 'gsi3pk', KeyType: 'HASH' },
        { AttributeName: 'gsi3sk', KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: [...ACCEPTED_AUDIT_FIELDS] },
    },
  ],
};

export interface LocalDynamo {
  endpoint: string;
  close(): Promise<void>;
}

export async function startDynalite(options: { port?: number; path?: string } = {}): Promise<LocalDynamo> {
  const server: Server = dynalite({
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
    ...(options.path && { path: options.path }),
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

/** Creates the table unless it exists (a second `npm start` keeps its data). */
export async function ensureTable(client: DynamoDBClient, table: string): Promise<void> {
  try {
    const out = await client.send(new DescribeTableCommand({ TableName: table }));
    // dynalite cannot add an index to an existing table: a `.local` table from before the message log (gsi2)
    // keeps working, but lists no messages until `.local/dynamo` is removed.
    const have = new Set((out.Table?.GlobalSecondaryIndexes ?? []).map((i) => i.IndexName));
    const missing = (TABLE_DEFINITION.GlobalSecondaryIndexes ?? []).filter((i) => !have.has(i.IndexName));
    if (missing.length > 0)
      console.warn(
        `table ${table} lacks ${missing.map((i) => i.IndexName).join(', ')}; remove the local data folder's dynamo/ to recreate it`,
      );
    return;
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
  }
  await client.send(new CreateTableCommand({ TableName: table, ...TABLE_DEFINITION }));
}
