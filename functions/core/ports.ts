/** The ports the domain needs. Adapters (DynamoDB, SQS, MQTT, IoT) implement them. */
import type { SmsJob } from '../contracts/index.ts';
import type { DispatchMessage } from '../contracts/queue.ts';
import type { AuditEntry } from './audit.ts';
import type {
  Agent,
  ApiKeyRecord,
  Challenge,
  Delivery,
  DeliveryStatus,
  Tenant,
  User,
  UserGuard,
} from './model.ts';

export interface DirectoryStore {
  findKey(hash: string): Promise<ApiKeyRecord | undefined>;
  /** The key, its tenant and (when named) one user, in a single round trip. */
  loadForRequest(
    keyHash: string,
    tenantId: string,
    username?: string,
  ): Promise<{ key?: ApiKeyRecord; tenant?: Tenant; user?: User; guard?: UserGuard }>;
  getTenant(tenantId: string): Promise<Tenant | undefined>;
  getUser(tenantId: string, username: string): Promise<User | undefined>;
  listAgents(tenantId: string): Promise<Agent[]>;
  getAgent(tenantId: string, agentId: string): Promise<Agent | undefined>;
  setAgentState(tenantId: string, agentId: string, state: Agent['state'], at: string): Promise<void>;
  /** Keeps an agent's latest report of one modem (for routing) and a short history of them (for monitoring). */
  recordModemStatus(tenantId: string, agentId: string, status: ModemReport): Promise<void>;
  /** The newest reports of one modem, newest first. */
  modemHistory(tenantId: string, agentId: string, modem: string, limit?: number): Promise<ModemReport[]>;
}

export interface ModemReport {
  modem: string;
  group: string;
  healthy: boolean;
  signal: number | null;
  registration: string;
  queue: number;
  retries: number;
  errors: number;
  lastError: string | null;
  /** When the cloud heard it. */
  at: string;
}

export type { DispatchMessage };

export type VerifyWriteResult = 'accepted' | 'condition_failed';

export interface ChallengeStore {
  /**
   * Writes a new challenge; fails if the id exists. With `audit`, writes that entry in the same call (a store
   * may then skip the existence check: ids are 128 random bits).
   */
  create(challenge: Challenge, options?: { audit?: AuditEntry; messageLogDays?: number }): Promise<void>;
  get(tenantId: string, challengeId: string, consistent?: boolean): Promise<Challenge | undefined>;
  /**
   * The accept write also records who accepted and how (`actor`): the store lists the accepted challenge as
   * the `challenge.accepted` entry of the tenant's audit log, so a login writes no separate audit entry.
   * Accepts in one conditional write when the hash matches, the challenge is live, unexpired, has attempts
   * left and (when bound) `clientIp` is the one that made it. Returns the challenge as it was before, or
   * `undefined` when any condition failed, and the caller reads to learn why. `personal` compares the hash
   * with the copied personal passcode instead of the sent one.
   */
  acceptIfMatches(
    tenantId: string,
    challengeId: string,
    codeHash: string,
    nowIso: string,
    options: { nonce: string; clientIp?: string | undefined; personal?: boolean; actor?: string },
  ): Promise<Challenge | undefined>;
  /** Ends a live challenge because a new code replaced it; false when it was not live. */
  supersede(tenantId: string, challengeId: string, nowIso: string): Promise<boolean>;
  /** Counts one wrong attempt if the attempt count is still `seen`; marks the challenge rejected at the limit. */
  recordWrongAttempt(
    tenantId: string,
    challengeId: string,
    seen: number,
    maxAttempts: number,
    nonce: string,
  ): Promise<boolean>;
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
  /** Accepts a challenge whose chain reached the user's authenticator app (the caller checked the TOTP). */
  acceptWithoutCode(
    tenantId: string,
    challengeId: string,
    nowIso: string,
    options?: { clientIp?: string | undefined; actor?: string },
  ): Promise<Challenge | undefined>;
}

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

export interface DispatchQueue {
  send(message: DispatchMessage, delaySeconds?: number): Promise<void>;
}

export interface JobPublisher {
  publishJob(tenantId: string, agentId: string, job: SmsJob): Promise<void>;
}
