/**
 * One modem inside the pool: its driver, the one job it is sending (modems pull work from their group's queue
 * and hold nothing else), its health and its counters for `modem.status`.
 */

import type { SendHooks } from '../../ports.ts';
import type { AtDriver, SmsRequest } from '../at/at-driver.ts';
import type { Registration } from '../at/at-parsers.ts';
import type { ModemError } from '../at/errors.ts';
import type { TimerHandle } from './clock.ts';

export type SlotState = 'starting' | 'ready' | 'unregistered' | 'blocked' | 'closed';

/** A job waiting in a group's queue or being sent by one modem. */
export interface PoolTask {
  request: SmsRequest;
  /** The caller's hooks: "handed to modem" is called with the modem that takes the job, before `AT+CMGS`. */
  hooks: SendHooks | undefined;
  /** Modems that refused it for a reason another modem may not have (a temporary network error). */
  readonly refusedBy: Set<ModemSlot>;
  /** Times a modem failed before the job reached the network (hung, dropped, no prompt). */
  modemFailures: number;
  lastError: ModemError | undefined;
  lastModem: string | undefined;
  settle(outcome: import('../../ports.ts').SendOutcome): void;
  /** Removes the job's abort listener once a modem has taken it. */
  taken(): void;
}

export class ModemSlot {
  state: SlotState = 'starting';
  signal: number | null = null;
  registration: Registration = 'unknown';
  operator: string | null = null;
  profile: string | null = null;
  sent = 0;
  failed = 0;
  retries = 0;
  errors = 0;
  consecutiveErrors = 0;
  /** Blocks in a row without a successful send in between; lengthens the next block. */
  blocksInARow = 0;
  lastError: string | null = null;
  /** An init sequence is running for it (start, after a block, or after the link came back). */
  probing = false;
  /** The job it is sending, if any. */
  task: PoolTask | undefined;
  /** When it last finished a job; the modem idle longest takes the next one, so equal modems take turns. */
  freeSince = 0;
  /** The pending re-probe of a blocked modem. */
  recovery: TimerHandle | undefined;
  /** Why it is blocked: `hung` (pinged until it answers, likely back soon) or its `errors`. */
  blockedFor: 'hung' | 'errors' | undefined;

  constructor(
    readonly id: string,
    readonly group: string,
    readonly driver: AtDriver,
  ) {}

  get healthy(): boolean {
    return this.state === 'ready';
  }

  /** Free to take the next job of its group. */
  get free(): boolean {
    return this.state === 'ready' && this.task === undefined;
  }

  /** Sending, free to, or running its init. */
  get usable(): boolean {
    return this.state === 'ready' || this.task !== undefined || this.probing;
  }

  /**
   * May be usable before long: starting, waiting for the network, or hung and being pinged. A modem blocked
   * for its errors (a locked SIM, refused settings) is not worth a job's wait.
   */
  get mayRecover(): boolean {
    return (
      this.usable ||
      this.state === 'starting' ||
      this.state === 'unregistered' ||
      (this.state === 'blocked' && this.blockedFor === 'hung')
    );
  }
}
