/** Starts dynalite and fauxqs, in this thread (tests) or in a worker thread (npm start, benchmarks). */
import { Worker } from 'node:worker_threads';
import { startDynalite } from './dynamo.ts';
import { startFauxqs } from './sqs.ts';

export interface StandIns {
  dynamoEndpoint: string;
  sqsEndpoint: string;
  close(): Promise<void>;
}

export interface StandInOptions {
  dynamoPort?: number;
  sqsPort?: number;
  dynamoPath?: string;
  /** Run them in a worker thread, on the second core; the worker loads its TypeScript through tsx. */
  worker?: boolean;
}

export async function startStandIns(options: StandInOptions = {}): Promise<StandIns> {
  if (!options.worker) {
    const dynamo = await startDynalite({
      port: options.dynamoPort ?? 0,
      ...(options.dynamoPath && { path: options.dynamoPath }),
    });
    try {
      const sqs = await startFauxqs({ port: options.sqsPort ?? 0 });
      return {
        dynamoEndpoint: dynamo.endpoint,
        sqsEndpoint: sqs.endpoint,
        close: async () => {
          await sqs.close();
          await dynamo.close();
        },
      };
    } catch (error) {
      await dynamo.close();
      throw error;
    }
  }
  const worker = new Worker(new URL('./stand-ins-worker.mjs', import.meta.url), {
    workerData: {
      dynamoPort: options.dynamoPort ?? 0,
      sqsPort: options.sqsPort ?? 0,
      dynamoPath: options.dynamoPath,
    },
  });
  const ready = await new Promise<{
    ok: boolean;
    error?: string;
    dynamoEndpoint?: string;
    sqsEndpoint?: string;
  }>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  if (!ready.ok) {
    await worker.terminate();
    throw new Error(ready.error ?? 'the stand-in worker failed');
  }
  return {
    dynamoEndpoint: ready.dynamoEndpoint!,
    sqsEndpoint: ready.sqsEndpoint!,
    close: async () => {
      const stopped = new Promise((resolve) => worker.once('message', resolve));
      worker.postMessage('stop');
      await Promise.race([stopped, new Promise((r) => setTimeout(r, 2000))]);
      await worker.terminate();
    },
  };
}
