/**
 * The operator function's background jobs: work that outlasts API Gateway's 30 s integration timeout is
 * queued and run by the operator function from the jobs queue. A queue message survives the Lambda that sent it
 * being frozen or recycled, where a promise left running after the response would not.
 * - `tenant.purge`: a deleted tenant's personal data (the operator API queues it);
 * - `sync.complete`: the removal half of a large AD sync `complete` (the sync API queues it; the run reads
 *   `completing` until the job has run).
 * Both are safe to run twice: queues deliver at least once.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import * as z from 'zod';
import { RUN_ID } from '../contracts/sync.ts';
import { PoisonMessageError } from '../core/dispatch.ts';
import type { SyncService } from '../core/sync.ts';
import type { TenantService } from '../core/tenants.ts';
import type { RecordHandler } from '../queue/batch.ts';

export const OperatorJob = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('tenant.purge'), tenantId: z.string().min(1) }).strict(),
  z
    .object({
      kind: z.literal('sync.complete'),
      tenantId: z.string().min(1),
      runId: z.string().regex(RUN_ID),
      /** Who completed the run, for the audit entry (`key:<prefix>`). */
      actor: z.string().min(1).max(128),
    })
    .strict(),
]);
export type OperatorJob = z.infer<typeof OperatorJob>;

export interface OperatorJobServices {
  tenants: Pick<TenantService, 'runPurge'>;
  sync: Pick<SyncService, 'runRemoval'>;
}

export function operatorJobHandler(services: OperatorJobServices): RecordHandler {
  return async (record) => {
    let job: OperatorJob;
    try {
      job = OperatorJob.parse(JSON.parse(record.body));
    } catch (cause) {
      throw new PoisonMessageError('the operator job is malformed', { cause });
    }
    switch (job.kind) {
      case 'tenant.purge':
        await services.tenants.runPurge(job.tenantId);
        return;
      case 'sync.complete':
        await services.sync.runRemoval(job.tenantId, job.runId, job.actor);
        return;
    }
  };
}

/** Puts a job on the jobs queue (what the operator and sync functions hand their long work to). */
export function operatorJobSender(sqs: SQSClient, queueUrl: string): (job: OperatorJob) => Promise<void> {
  return async (job) => {
    await sqs.send(
      new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(OperatorJob.parse(job)) }),
    );
  };
}
