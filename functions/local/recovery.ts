/**
 * What a restart of the local stack does about the run it replaces: every live challenge whose step was
 * queued or handed to an agent is sent again under the same job id (from the dispatch outbox), or fails with
 * `lost_in_restart` when its message is gone; failover timers of live challenges are armed again. The agent's
 * journal makes a second copy of a job it already had harmless.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoChallengeStore } from '../adapters/dynamo/challenge-store.ts';
import { DynamoMessageLogStore } from '../adapters/dynamo/message-log-store.ts';
import { DynamoTenantStore } from '../adapters/dynamo/tenant-store.ts';
import type { Logger } from '../adapters/log.ts';
import { SqsDispatchQueue } from '../adapters/sqs/dispatch-queue.ts';
import { ChainRunner } from '../core/chain-runner.ts';
import { type Clock, systemClock } from '../core/clock.ts';
import { StepSweeper, type StepSweepReport } from '../core/recovery.ts';
import type { DispatchOutbox } from './dispatch-outbox.ts';

/** The longest a challenge lives (passcode validity is at most an hour). */
const LOOKBACK_MS = 2 * 3600_000;

export const LOST_IN_RESTART = 'lost_in_restart';

export interface RestartRecovery extends StepSweepReport {
  timers: number;
}

export async function recoverAfterRestart(deps: {
  dynamo: DynamoDBClient;
  table: string;
  sqs: SQSClient;
  dispatchQueueUrl: string;
  outbox: DispatchOutbox;
  log: Logger;
  clock?: Clock;
}): Promise<RestartRecovery> {
  const clock = deps.clock ?? systemClock;
  const queue = new SqsDispatchQueue(deps.sqs, deps.dispatchQueueUrl);
  const challenges = new DynamoChallengeStore(deps.dynamo, deps.table);
  const runner = new ChainRunner({ challenges, queue, clock, log: deps.log });
  const sweeper = new StepSweeper({
    messageLog: new DynamoMessageLogStore(deps.dynamo, deps.table, () => clock.now()),
    queue,
    runner,
    clock,
    log: deps.log,
  });
  const tenants = await new DynamoTenantStore(deps.dynamo, deps.table).list();
  const report = await sweeper.sweep({
    tenantIds: tenants.filter((t) => t.status !== 'deleted').map((t) => t.id),
    lookbackMs: LOOKBACK_MS,
    saved: (challengeId, step) => deps.outbox.step(challengeId, step),
    reason: LOST_IN_RESTART,
  });
  // A timer that finds its step done does nothing, so arming one again is always safe.
  let timers = 0;
  for (const timer of deps.outbox.timers()) {
    const dueMs = timer.dueAt ? Date.parse(timer.dueAt) - clock.now() : 0;
    await queue.send(timer, Math.max(0, Math.ceil(dueMs / 1000)));
    timers++;
  }
  return { ...report, timers };
}
