/** Seeds the demo tenant, keeping the keys and agent the data folder remembers from the previous run. */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type DataFolder, readPrevious } from '../data-folder.ts';
import { type DemoSeed, seedTenant } from '../seed.ts';
import { finished, type Part } from './part.ts';

export async function seedDemoTenant(options: {
  dynamo: DynamoDBClient;
  table: string;
  folder: DataFolder;
}): Promise<{ seed: DemoSeed } & Part> {
  const seed = await seedTenant(options.dynamo, options.table, { previous: readPrevious(options.folder) });
  return finished({ seed });
}
