import { handle } from 'hono/aws-lambda';
import { awsBaseContext } from '../aws-env.ts';
import { buildOperatorApp } from '../deps.ts';

export const handler = handle(buildOperatorApp(awsBaseContext('operator')));
