/**
 * dynalite and fauxqs in a worker thread: they are servers on loopback ports either way, and in their own
 * thread they use the second core instead of competing with the functions for the first.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { startDynalite } from './dynamo.ts';
import { startFauxqs } from './sqs.ts';

const options = workerData as { dynamoPort: number; sqsPort: number; dynamoPath?: string };
try {
  const dynamo = await startDynalite({
    port: options.dynamoPort,
    ...(options.dynamoPath && { path: options.dynamoPath }),
  });
  const sqs = await startFauxqs({ port: options.sqsPort });
  parentPort!.postMessage({ ok: true, dynamoEndpoint: dynamo.endpoint, sqsEndpoint: sqs.endpoint });
  parentPort!.on('message', async (message: unknown) => {
    if (message !== 'stop') return;
    await Promise.allSettled([sqs.close(), dynamo.close()]);
    parentPort!.postMessage({ stopped: true });
  });
} catch (error) {
  parentPort!.postMessage({ ok: false, error: error instanceof Error ? error.message : String(error) });
}
