/** The challenge store: challenges, their attempt slots and the steps of their rule chain. */

import type { Challenge, Delivery, DeliveryStatus } from '../model.ts';
import type { AuditEntry } from './audit.ts';

export interface ChallengeStore {
  /**
   * Writes a new challenge; fails if the id exists. With `audit`, writes that entry in the same call (a store
   * may then skip the existence check: ids are 128 random bits).
   */
  create(challenge: Challenge, options?: { audit?: AuditEntry; messageLogDays?: number }): Promise<void>;
  get(tenantId: string, challengeId: string, consistent?: boolean): Promise<Challenge | undefined>;
  /**
   * Settles one verify in one conditional write: takes attempt slot `seen` (the attempt count the caller read)
   * and records the verdict with it. A wrong guess counts the attempt (and rejects the challenge at its last
   * one). An accept also records who accepted and how: the store lists the accepted challenge as the
   * `challenge.accepted` entry of the tenant's audit log, so a login writes no separate audit entry. Returns
   * false when the slot was gone (another verify counted first, or the challenge ended or expired): the
   * caller reads again. So however many verifies race, each attempt slot carries exactly one verdict.
   */
  settleAttempt(
    tenantId: string,
    challengeId: string,
    seen: number,
    outcome: AttemptOutcome,
    options: { nonce: string; nowIso: string },
  ): Promise<boolean>;
  /** Ends a live challenge because a new code replaced it; false when it was not live. */
  supersede(tenantId: string, challengeId: string, nowIso: string): Promise<boolean>;
  /**
   * Claims a delivery step for dispatch. Succeeds when the step is new, or was claimed before by the same
   * job but never confirmed (a redelivered queue message). Fails when the challenge is gone, finished or
   * expired, or the step moved on.
   */
  claimStep(tenantId: string, challengeId: string, delivery: Delivery, nowIso: string): Promise<boolean>;
  /**
   * Moves a step's delivery status forward, only when the reporting agent is the one the step was sent to.
   * Also moves the challenge status when it is still in a delivery state.
   */
  updateStep(
    tenantId: string,
    challengeId: string,
    step: number,
    agentId: string,
    update: { status: DeliveryStatus; at: string; modem?: string; reason?: string; totp?: boolean },
  ): Promise<boolean>;
  /**
   * A step failed (an agent's `job.failed`, a provider's refusal, or its timeout). In one conditional write
   * either the next rule's step is queued (`advanced`, with the challenge as it now is), or, after the last
   * rule, the challenge fails (`ended`); when the challenge moved on, the step's failure is only recorded.
   */
  failStep(
    tenantId: string,
    challengeId: string,
    step: number,
    options: FailStepOptions,
  ): Promise<FailStepResult>;
}

/** The verdict a verify settles: an accept (by the sent code, the personal passcode or TOTP) or a wrong guess. */
export type AttemptOutcome =
  | {
      kind: 'accept';
      method: 'sent' | 'personal' | 'totp';
      /** For `sent`: the keyed hash of the typed code, checked once more by the store. */
      codeHash?: string;
      clientIp?: string | undefined;
      actor?: string;
    }
  | { kind: 'wrong'; maxAttempts: number };

export interface FailStepOptions {
  /** The statuses the step may be in for this failure to apply. */
  from: DeliveryStatus[];
  /** When given, the step must have gone to this agent (an agent reports only on its own jobs). */
  agentId?: string;
  at: string;
  reason: string;
  modem?: string;
  nowIso: string;
}

export type FailStepResult =
  | { outcome: 'advanced'; challenge: Challenge }
  | { outcome: 'ended' | 'recorded' | 'none' };
