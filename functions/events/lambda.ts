import { awsBaseContext } from '../aws-env.ts';
import { buildEventsHandler } from '../deps.ts';

export const { handler } = buildEventsHandler(awsBaseContext('events'));
