/**
 * One modem inside the pool: its driver, its own job queue (worked one job at a time, no polling), its health
 * and its counters for `modem.status`.
 */

import type { AtDriver, SmsRequest, SmsResult } from '../at/at-driver.ts';
import type { Registration } from '../at/at-parsers.ts';
import { SendAbortedError } from '../at/errors.ts';

export type SlotState = 'starting' | 'ready' | 'unregistered' | 'blocked' | 'closed';

export interface SlotTask {
  request: SmsRequest;
  resolve(result: SmsResult): void;
  reject(error: unknown): void;
}

/** A queued job leaves a modem that was blocked before it got its turn; the pool sends it elsewhere. */
export class RequeueSignal extends Error {
  constructor() {
    super('modem left the pool before this job got its turn');
    this.name = 'RequeueSignal';
  }
}

export class ModemSlot {
  state: SlotState = 'starting';
  signal: number | null = null;
  registration: Registration = 'unknown';
  operator: string | null = null;
  sent = 0;
  failed = 0;
  retries = 0;
  errors = 0;
  consecutiveErrors = 0;
  lastError: string | null = null;
  blockedUntil: number | undefined;
  /** An init sequence is running for it (start, re-probe, or after the link came back). */
  probing = false;
  /** How often it was picked; breaks ties between equally busy modems so they take turns. */
  picks = 0;
  private readonly queue: SlotTask[] = [];
  private working = false;

  constructor(
    readonly id: string,
    readonly group: string,
    readonly driver: AtDriver,
  ) {}

  /** Jobs waiting plus the one being sent. */
  get load(): number {
    return this.queue.length + (this.working ? 1 : 0);
  }

  get healthy(): boolean {
    return this.state === 'ready';
  }

  submit(request: SmsRequest): Promise<SmsResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ request, resolve, reject });
      void this.work();
    });
  }

  /** Hands every job that has not started back to the pool. */
  requeueWaiting(): void {
    for (const task of this.queue.splice(0)) task.reject(new RequeueSignal());
  }

  private async work(): Promise<void> {
    if (this.working) return;
    this.working = true;
    try {
      for (let task = this.queue.shift(); task; task = this.queue.shift()) {
        if (task.request.signal?.aborted) {
          task.reject(new SendAbortedError({ cause: task.request.signal.reason }));
          continue;
        }
        try {
          task.resolve(await this.driver.sendSms(task.request));
        } catch (err) {
          task.reject(err);
          // Let the pool count the error (and maybe block this modem, handing the queue back) before the next
          // job is started on a modem that just failed.
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
      }
    } finally {
      this.working = false;
    }
  }
}
