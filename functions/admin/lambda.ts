import { handle } from 'hono/aws-lambda';
import { awsBaseContext } from '../aws-env.ts';
import { buildAdminApp } from '../deps.ts';

export const handler = handle(buildAdminApp(awsBaseContext('admin')));
