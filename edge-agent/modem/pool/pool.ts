/**
 * The modem pool: the agent's `SmsSender`. Modems are grouped (one group per carrier or site); a job goes to
 * the least busy healthy modem of its group and, when that modem fails it, to another one of the group.
 * A modem with N consecutive errors is blocked for a while, then re-probed; delivery reports are matched to
 * the parts the pool sent by modem and message reference.
 */
import type { ModemStatusEvent } from '../../../functions/contracts/index.ts';
import type { Logger } from '../../log.ts';
import type { DeliveryReport, SendHooks, SendOutcome, SmsSender } from '../../ports.ts';
import type { StatusReportUrc } from '../at/at-channel.ts';
import { AtDriver, type AtDriverOptions, type SmsMode, type SmsResult } from '../at/at-driver.ts';
import { canSend } from '../at/at-parsers.ts';
import { ModemError, ModemReplyError, PduEncodeError, SendAbortedError } from '../at/errors.ts';
import { parseNumber } from '../sms/address.ts';
import { deliveryOutcome } from '../sms/status-report.ts';
import { createTransport, type ModemTransport } from '../transport/transport.ts';
import { type Clock, systemClock, type TimerHandle } from './clock.ts';
import { ModemSlot, RequeueSignal } from './modem-slot.ts';

export interface ModemConfig {
  id: string;
  group: string;
  /** `tcp://host:port`, `serial:///dev/ttyUSB0?baud=115200` or `/dev/ttyUSB0`. */
  url: string;
  pin?: string | undefined;
  smsc?: string | undefined;
  /** PDU or text mode; default `auto` (PDU, text when the modem refuses PDU). */
  mode?: SmsMode | undefined;
}

export interface ModemPoolOptions {
  transportFactory?: (url: string) => ModemTransport;
  clock?: Clock;
  /** Consecutive errors that put a modem on the block list; default 3. */
  blockAfterErrors?: number;
  /** How long a blocked modem stays out before it is re-probed; default 60 s. */
  blockForMs?: number;
  /** How often idle modems are asked for signal and registration; default 30 s. 0 turns it off. */
  statusIntervalMs?: number;
  /** Ask the network for delivery reports (TP-SRR); default true. */
  statusReports?: boolean;
  validityMinutes?: number;
  driver?: Pick<AtDriverOptions, 'commandTimeoutMs' | 'sendTimeoutMs' | 'connectTimeoutMs' | 'pinPollMs'>;
  logger?: Logger;
}

export type ModemStatus = Omit<ModemStatusEvent, 'v' | 'at' | 'type'>;

type SendJob = Parameters<SmsSender['send']>[0];

/** How long a sent part waits for its delivery report before the pool forgets it. */
const REPORT_MEMORY_MS = 48 * 3600_000;
const MAX_REMEMBERED_PARTS = 65_536;

function failed(
  reason: Exclude<SendOutcome, { ok: true }>['reason'],
  detail: string,
  modem?: string,
): SendOutcome {
  const outcome: SendOutcome = { ok: false, reason, detail: detail.slice(0, 200) };
  if (modem !== undefined) outcome.modem = modem;
  return outcome;
}

/** The caller's "handed to modem" hook for one modem; its failure stops the send as an abort, not a modem error. */
function handOffHook(hooks: SendHooks | undefined, modem: string): (() => Promise<void>) | undefined {
  const hook = hooks?.onHandedToModem;
  if (!hook) return undefined;
  return async () => {
    try {
      await hook.call(hooks, modem);
    } catch (cause) {
      throw new SendAbortedError({ cause });
    }
  };
}

export class ModemPool implements SmsSender {
  private readonly slots: ModemSlot[] = [];
  private readonly byGroup = new Map<string, ModemSlot[]>();
  private readonly clock: Clock;
  private readonly blockAfterErrors: number;
  private readonly blockForMs: number;
  private readonly statusIntervalMs: number;
  private readonly statusReports: boolean;
  private readonly validityMinutes: number | undefined;
  private readonly deliveryListeners = new Set<(report: DeliveryReport) => void>();
  private readonly statusListeners = new Set<(status: ModemStatus) => void>();
  /** `${modem}:${mr}` → when the part was sent, for parts still waiting for a final report. */
  private readonly awaitingReport = new Map<string, number>();
  /** Reports that overtook their `+CMGS` (both in one read), held until the send is recorded. */
  private readonly earlyReports = new Map<string, StatusReportUrc>();
  private readonly timers = new Map<ModemSlot, TimerHandle>();
  private statusTimer: TimerHandle | undefined;
  private inflight = 0;
  private drained: (() => void) | undefined;
  private closing = false;
  private readonly logger: Logger | undefined;

  constructor(configs: ModemConfig[], options: ModemPoolOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger;
    this.blockAfterErrors = options.blockAfterErrors ?? 3;
    this.blockForMs = options.blockForMs ?? 60_000;
    this.statusIntervalMs = options.statusIntervalMs ?? 30_000;
    this.statusReports = options.statusReports ?? true;
    this.validityMinutes = options.validityMinutes;
    const factory = options.transportFactory ?? ((url: string) => createTransport(url));
    const ids = new Set<string>();
    for (const config of configs) {
      if (ids.has(config.id))
        throw new TypeError(`modem id ${JSON.stringify(config.id)} is configured twice`);
      ids.add(config.id);
      const driver = new AtDriver({
        ...options.driver,
        transport: factory(config.url),
        pin: config.pin,
        smsc: config.smsc,
        mode: config.mode,
      });
      const slot = new ModemSlot(config.id, config.group, driver);
      this.slots.push(slot);
      const group = this.byGroup.get(config.group) ?? [];
      group.push(slot);
      this.byGroup.set(config.group, group);
      this.wire(slot);
    }
  }

  /** Probes every modem once and starts the periodic status refresh. Sends work before it resolves too. */
  async start(): Promise<void> {
    await Promise.all(this.slots.map((slot) => this.probe(slot)));
    this.scheduleStatusRefresh();
  }

  groups(): string[] {
    return [...this.byGroup.keys()];
  }

  statuses(): ModemStatus[] {
    return this.slots.map((slot) => this.statusOf(slot));
  }

  onDeliveryReport(listener: (report: DeliveryReport) => void): void {
    this.deliveryListeners.add(listener);
  }

  /** Called whenever a modem's health, registration or block state changes (for `modem.status` on change). */
  onStatusChange(listener: (status: ModemStatus) => void): void {
    this.statusListeners.add(listener);
  }

  async send(job: SendJob, signal?: AbortSignal, hooks?: SendHooks): Promise<SendOutcome> {
    if (this.closing) return failed('no_modem', 'the agent is shutting down');
    const group = this.byGroup.get(job.modemGroup);
    if (!group) return failed('no_modem', `this agent has no modem group ${JSON.stringify(job.modemGroup)}`);
    if (!parseNumber(job.to)) return failed('invalid', 'destination is not a phone number');
    this.inflight++;
    try {
      return await this.sendInGroup(job, group, signal, hooks);
    } finally {
      this.inflight--;
      if (this.inflight === 0) this.drained?.();
    }
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.clock.clearTimeout(this.statusTimer);
    for (const t of this.timers.values()) this.clock.clearTimeout(t);
    this.timers.clear();
    if (this.inflight > 0) await new Promise<void>((resolve) => (this.drained = resolve));
    for (const slot of this.slots) slot.state = 'closed';
    await Promise.all(this.slots.map((slot) => slot.driver.close()));
  }

  private async sendInGroup(
    job: SendJob,
    group: ModemSlot[],
    signal?: AbortSignal,
    hooks?: SendHooks,
  ): Promise<SendOutcome> {
    const tried = new Set<ModemSlot>();
    let lastError: ModemError | undefined;
    let lastModem: string | undefined;
    for (let slot = this.choose(group, tried); slot; slot = this.choose(group, tried)) {
      tried.add(slot);
      if (lastError) slot.retries++;
      let result: SmsResult;
      try {
        result = await slot.submit({
          to: job.to,
          text: job.text,
          flash: job.flash,
          statusReport: this.statusReports,
          validityMinutes: this.validityMinutes,
          signal,
          beforeFirstPart: handOffHook(hooks, slot.id),
        });
      } catch (err) {
        if (err instanceof RequeueSignal) {
          // It never reached that modem: not an attempt. The modem is blocked now, so it is not chosen again.
          tried.delete(slot);
          continue;
        }
        if (err instanceof PduEncodeError) return failed('invalid', err.message, slot.id);
        if (err instanceof SendAbortedError)
          return failed('temporary', 'aborted before a modem took it', slot.id);
        const error = err instanceof ModemError ? err : new ModemReplyError(String(err), { cause: err });
        this.recordError(slot, error);
        lastError = error;
        lastModem = slot.id;
        if (error.kind === 'permanent') return failed('permanent', error.message, slot.id);
        // Sending it again elsewhere could deliver it twice; the cloud's rule chain decides what comes next.
        if (error.maybeSent)
          return failed(error.kind, `${error.message}; the SMS may have gone out`, slot.id);
        continue;
      }
      this.recordSent(slot, result);
      return { ok: true, modem: slot.id, messageRefs: result.messageRefs };
    }
    if (lastError) return failed(lastError.kind, lastError.message, lastModem);
    return failed('no_modem', `no healthy modem in group ${JSON.stringify(job.modemGroup)}`);
  }

  /** The least busy usable modem not tried yet; ready ones first, then ones still starting up. */
  private choose(group: ModemSlot[], tried: Set<ModemSlot>): ModemSlot | undefined {
    let best: ModemSlot | undefined;
    for (const state of ['ready', 'starting'] as const) {
      for (const slot of group) {
        if (slot.state !== state || tried.has(slot)) continue;
        if (!best || slot.load < best.load || (slot.load === best.load && slot.picks < best.picks))
          best = slot;
      }
      if (best) break;
    }
    if (best) best.picks++;
    return best;
  }

  private recordSent(slot: ModemSlot, result: SmsResult): void {
    slot.sent++;
    const wasFailing = slot.consecutiveErrors > 0;
    slot.consecutiveErrors = 0;
    if (slot.state === 'starting') this.setState(slot, 'ready');
    else if (wasFailing) this.changed(slot);
    if (!this.statusReports) return;
    const now = this.clock.now();
    for (const mr of result.messageRefs) this.awaitingReport.set(`${slot.id}:${mr}`, now);
    this.forgetOldReports(now);
    for (const mr of result.messageRefs) {
      const early = this.earlyReports.get(`${slot.id}:${mr}`);
      if (early) {
        this.earlyReports.delete(`${slot.id}:${mr}`);
        this.onStatusReport(slot, early);
      }
    }
  }

  private recordError(slot: ModemSlot, error: ModemError): void {
    slot.failed++;
    slot.errors++;
    slot.lastError = error.message.slice(0, 200);
    if (error.kind === 'permanent') {
      this.changed(slot);
      return;
    }
    slot.consecutiveErrors++;
    if (slot.consecutiveErrors >= this.blockAfterErrors) this.block(slot);
    else this.changed(slot);
  }

  private block(slot: ModemSlot): void {
    if (this.closing) return;
    slot.blockedUntil = this.clock.now() + this.blockForMs;
    this.setState(slot, 'blocked');
    slot.requeueWaiting();
    this.schedule(slot, this.blockForMs, () => {
      slot.blockedUntil = undefined;
      void this.probe(slot);
    });
  }

  /** Runs the init sequence; a modem that passes and is registered is ready, one that fails is blocked. */
  private async probe(slot: ModemSlot): Promise<void> {
    if (this.closing || slot.probing) return;
    slot.probing = true;
    if (slot.state !== 'blocked') this.setState(slot, 'starting');
    try {
      const info = await slot.driver.init();
      slot.signal = info.signal;
      slot.registration = info.registration;
      slot.consecutiveErrors = 0;
      const cops = await slot.driver.status().catch(() => undefined);
      if (cops) slot.operator = cops.operator;
      this.setState(slot, canSend(info.registration) ? 'ready' : 'unregistered');
    } catch (err) {
      const error = err instanceof ModemError ? err : new ModemReplyError(String(err), { cause: err });
      slot.errors++;
      slot.lastError = error.message.slice(0, 200);
      this.block(slot);
    } finally {
      slot.probing = false;
    }
  }

  private async refresh(slot: ModemSlot): Promise<void> {
    try {
      const status = await slot.driver.status();
      slot.signal = status.signal;
      slot.operator = status.operator;
      this.applyRegistration(slot, status.registration);
    } catch (err) {
      this.recordError(
        slot,
        err instanceof ModemError ? err : new ModemReplyError(String(err), { cause: err }),
      );
    }
  }

  private applyRegistration(slot: ModemSlot, registration: ModemSlot['registration']): void {
    const before = slot.registration;
    slot.registration = registration;
    if (slot.state === 'ready' && !canSend(registration)) this.setState(slot, 'unregistered');
    else if (slot.state === 'unregistered' && canSend(registration)) this.setState(slot, 'ready');
    else if (before !== registration) this.changed(slot);
  }

  private scheduleStatusRefresh(): void {
    if (this.statusIntervalMs <= 0 || this.closing) return;
    this.statusTimer = this.clock.setTimeout(() => {
      void Promise.all(
        this.slots
          .filter((s) => (s.state === 'ready' || s.state === 'unregistered') && s.load === 0)
          .map((s) => this.refresh(s)),
      ).finally(() => this.scheduleStatusRefresh());
    }, this.statusIntervalMs);
  }

  private wire(slot: ModemSlot): void {
    const driver = slot.driver;
    driver.on('statusReport', (report) => this.onStatusReport(slot, report));
    driver.on('registration', (registration) => this.applyRegistration(slot, registration));
    driver.on('disconnect', () => {
      if (slot.state === 'ready' || slot.state === 'unregistered') this.setState(slot, 'starting');
    });
    driver.on('connect', () => {
      // A link that came back (cable, converter) is probed at once unless the modem is serving a block.
      if (slot.state === 'starting' && slot.load === 0) void this.probe(slot);
    });
  }

  private onStatusReport(slot: ModemSlot, report: StatusReportUrc): void {
    const key = `${slot.id}:${report.messageReference}`;
    if (!this.awaitingReport.has(key)) {
      if (slot.load > 0) {
        this.earlyReports.set(key, report);
        if (this.earlyReports.size > 256) {
          const oldest = this.earlyReports.keys().next().value;
          if (oldest !== undefined) this.earlyReports.delete(oldest);
        }
      }
      return;
    }
    const outcome = deliveryOutcome(report.status);
    if (outcome === 'pending') return;
    this.awaitingReport.delete(key);
    const delivery: DeliveryReport = {
      modem: slot.id,
      messageRef: report.messageReference,
      status: report.status,
      at: report.at,
    };
    for (const listener of this.deliveryListeners) this.notify(listener, delivery);
  }

  private forgetOldReports(now: number): void {
    if (this.awaitingReport.size <= MAX_REMEMBERED_PARTS) {
      const oldest = this.awaitingReport.entries().next().value;
      if (!oldest || now - oldest[1] < REPORT_MEMORY_MS) return;
    }
    for (const [key, at] of this.awaitingReport) {
      if (this.awaitingReport.size > MAX_REMEMBERED_PARTS || now - at >= REPORT_MEMORY_MS) {
        this.awaitingReport.delete(key);
      } else {
        break;
      }
    }
  }

  /** A listener that throws must not take the modem's byte stream down with it. */
  private notify<T>(listener: (value: T) => void, value: T): void {
    try {
      listener(value);
    } catch (err) {
      this.logger?.error('modem pool listener failed', { error: String(err) });
    }
  }

  private schedule(slot: ModemSlot, ms: number, fn: () => void): void {
    this.clock.clearTimeout(this.timers.get(slot));
    this.timers.set(
      slot,
      this.clock.setTimeout(() => {
        this.timers.delete(slot);
        fn();
      }, ms),
    );
  }

  private setState(slot: ModemSlot, state: ModemSlot['state']): void {
    if (slot.state === state) return;
    const fields = {
      modem: slot.id,
      group: slot.group,
      from: slot.state,
      to: state,
      lastError: slot.lastError,
    };
    if (state === 'blocked') this.logger?.warn('modem blocked', { ...fields, forMs: this.blockForMs });
    else this.logger?.info('modem state', fields);
    slot.state = state;
    this.changed(slot);
  }

  private changed(slot: ModemSlot): void {
    const status = this.statusOf(slot);
    for (const listener of this.statusListeners) this.notify(listener, status);
  }

  private statusOf(slot: ModemSlot): ModemStatus {
    return {
      modem: slot.id,
      group: slot.group,
      healthy: slot.healthy,
      signal: slot.signal,
      registration: slot.registration,
      operator: slot.operator,
      queue: slot.load,
      sent: slot.sent,
      failed: slot.failed,
      retries: slot.retries,
      errors: slot.errors,
      lastError: slot.lastError,
    };
  }
}
