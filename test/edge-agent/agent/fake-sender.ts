import type { DeliveryReport, SendHooks, SendOutcome, SmsSender } from '../../../edge-agent/ports.ts';
import type { ModemStatusEvent, SmsJob } from '../../../functions/contracts/index.ts';

type Job = Pick<SmsJob, 'to' | 'text' | 'flash' | 'modemGroup'>;

/** An SmsSender for agent tests: records every send, answers from `outcome`, can hold sends at a gate. */
export class FakeSender implements SmsSender {
  readonly sends: Job[] = [];
  private listeners: Array<(r: DeliveryReport) => void> = [];
  private nextRef = 0;
  private gate: Promise<void> | undefined;
  private openGate: (() => void) | undefined;
  private sendWaiters: Array<() => void> = [];
  status: Omit<ModemStatusEvent, 'v' | 'at' | 'type'> = {
    modem: 'm1',
    group: 'g1',
    healthy: true,
    signal: 20,
    registration: 'home',
    operator: 'Test Net',
    queue: 0,
    sent: 0,
    failed: 0,
    retries: 0,
    errors: 0,
    lastError: null,
  };
  outcome: (job: Job) => SendOutcome = () => ({ ok: true, modem: 'm1', messageRefs: [this.nextRef++ % 256] });

  /** Holds every send until `release()`. */
  hold(): void {
    this.gate = new Promise((r) => {
      this.openGate = r;
    });
  }

  release(): void {
    this.openGate?.();
    this.gate = undefined;
  }

  /** Resolves once `n` sends have started. */
  async waitForSends(n: number): Promise<void> {
    while (this.sends.length < n) await new Promise<void>((r) => this.sendWaiters.push(r));
  }

  async send(job: Job, _signal?: AbortSignal, hooks?: SendHooks): Promise<SendOutcome> {
    this.sends.push({ to: job.to, text: job.text, flash: job.flash, modemGroup: job.modemGroup });
    // like the pool: the job is at the modem (and journalled so) before the gate, which stands for AT+CMGS
    await hooks?.onHandedToModem?.(this.status.modem);
    for (const w of this.sendWaiters.splice(0)) w();
    if (this.gate) await this.gate;
    return this.outcome(job);
  }

  groups(): string[] {
    return ['g1'];
  }

  statuses() {
    return [{ ...this.status }];
  }

  onDeliveryReport(listener: (report: DeliveryReport) => void): void {
    this.listeners.push(listener);
  }

  report(r: DeliveryReport): void {
    for (const l of this.listeners) l(r);
  }

  async close(): Promise<void> {}
}
