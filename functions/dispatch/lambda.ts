import { IoTDataPlaneClient } from '@aws-sdk/client-iot-data-plane';
import { IotJobPublisher } from '../adapters/mqtt/iot-publisher.ts';
import { awsContext, requireEnv } from '../aws-env.ts';
import { buildDispatchHandler } from '../deps.ts';

const publisher = new IotJobPublisher(
  new IoTDataPlaneClient({ endpoint: `https://${requireEnv('IOT_ENDPOINT')}` }),
);

export const { handler } = buildDispatchHandler({ ...(await awsContext('dispatch')), publisher });
