/**
 * The operator function's background jobs: work that outlasts API Gateway's 30 s integration timeout is
 * queued and run by the same function from the jobs queue.
 */
import * as z from 'zod';
import { PoisonMessageError } from '../core/dispatch.ts';
import type { TenantService } from '../core/tenants.ts';
import type { RecordHandler } from '../queue/batch.ts';

export const OperatorJob = z.object({ kind: z.literal('tenant.purge'), tenantId: z.string().min(1) });
export type OperatorJob = z.infer<typeof OperatorJob>;

export function operatorJobHandler(tenants: TenantService): RecordHandler {
  return async (record) => {
    let job: OperatorJob;
    try {
      job = OperatorJob.parse(JSON.parse(record.body));
    } catch (cause) {
      throw new PoisonMessageError('the operator job is malformed', { cause });
    }
    await tenants.runPurge(job.tenantId);
  };
}
