import { handle } from 'hono/aws-lambda';
import { awsBaseContext } from '../aws-env.ts';
import { buildSyncApp } from '../deps.ts';

export const handler = handle(buildSyncApp(awsBaseContext('sync')));
