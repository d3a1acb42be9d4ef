/**
 * The modem pool: the agent's `SmsSender`. Modems are grouped (one group per carrier or site). A job waits in
 * its group's queue, and a modem takes the next one whenever it is free, so a slow or hung modem holds only the
 * job it is sending. A modem that stops answering is found by the driver's probe, taken out, and pinged until
 * it answers again; a job it never put on the air goes back to the front of the queue for another modem.
 * Delivery reports are matched to the parts the pool sent by modem and message reference.
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
import { ModemSlot, type PoolTask } from './modem-slot.ts';

export interface ModemConfig {
  id: string;
  group: string;
  /** `tcp://host:port`, `serial:///dev/ttyUSB0?baud=115200` or `/dev/ttyUSB0`. */
  url: string;
  pin?: string | undefined;
  smsc?: string | undefined;
  /** PDU or text mode; default `auto` (PDU, text when the modem refuses PDU). */
  mode?: SmsMode | undefined;
  /** A profile of edge-agent/modem/at/profiles.ts, or `auto` (default): chosen from the modem's identity. */
  profile?: string | undefined;
}

export interface ModemPoolOptions {
  /** Default: TCP or serial by the URL (serialport is loaded only for a serial URL). */
  transportFactory?: (url: string) => ModemTransport;
  clock?: Clock;
  /** Consecutive errors that put a modem on the block list; default 3. */
  blockAfterErrors?: number;
  /** How long a modem blocked for its errors stays out before it is re-probed; default 30 s, doubling to 5 min. */
  blockForMs?: number;
  /** How often a hung modem is pinged with `AT` (each waiting the probe timeout) until it answers; default 1 s. */
  pingEveryMs?: number;
  /**
   * How long jobs wait in a group whose modems are all hung, starting or unregistered before they fail
   * `no_modem`; default 30 s. A group whose modems are all blocked for errors fails its jobs at once.
   */
  noModemGraceMs?: number;
  /** How often idle modems are asked for their signal (AT+CSQ); default 60 s. 0 turns it off. */
  statusIntervalMs?: number;
  /** Ask the network for delivery reports (TP-SRR); default true. */
  statusReports?: boolean;
  validityMinutes?: number;
  driver?: Pick<
    AtDriverOptions,
    | 'commandTimeoutMs'
    | 'sendTimeoutMs'
    | 'connectTimeoutMs'
    | 'pinPollMs'
    | 'probeTimeoutMs'
    | 'minOverdueMs'
  >;
  logger?: Logger;
}

export type ModemStatus = Omit<ModemStatusEvent, 'v' | 'at' | 'type'>;

type SendJob = Parameters<SmsSender['send']>[0];

interface Group {
  name: string;
  slots: ModemSlot[];
  queue: PoolTask[];
  /** Fails the queue when the group has had no usable modem for the grace period. */
  noModemTimer: TimerHandle | undefined;
  /** Since when no modem of the group has been usable. */
  unusableSince: number | undefined;
}

/** How long a sent part waits for its delivery report before the pool forgets it. */
const REPORT_MEMORY_MS = 48 * 3600_000;
const MAX_REMEMBERED_PARTS = 65_536;
/** Modem failures (hung, link lost) before a job is given up rather than handed to yet another modem. */
const MAX_MODEM_FAILURES = 3;
const MAX_BLOCK_MS = 5 * 60_000;

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

function digits(number: string): string {
  return number.replace(/\D/g, '');
}

function asModemError(err: unknown): ModemError {
  return err instanceof ModemError ? err : new ModemReplyError(String(err), { cause: err });
}

export class ModemPool implements SmsSender {
  private readonly slots: ModemSlot[] = [];
  private readonly byGroup = new Map<string, Group>();
  private readonly clock: Clock;
  private readonly blockAfterErrors: number;
  private readonly blockForMs: number;
  private readonly pingEveryMs: number;
  private readonly noModemGraceMs: number;
  private readonly statusIntervalMs: number;
  private readonly statusReports: boolean;
  private readonly validityMinutes: number | undefined;
  private readonly deliveryListeners = new Set<(report: DeliveryReport) => void>();
  private unheardReports: DeliveryReport[] = [];
  private readonly statusListeners = new Set<(status: ModemStatus) => void>();
  /** `${modem}:${mr}` → when the part was sent, for parts still waiting for a final report. */
  private readonly awaitingReport = new Map<string, number>();
  /** Reports that overtook their `+CMGS` (both in one read), held until the send is recorded. */
  private readonly earlyReports = new Map<string, StatusReportUrc>();
  private statusTimer: TimerHandle | undefined;
  /** Jobs accepted and not settled yet, queued or on a modem. */
  private inflight = 0;
  private drained: (() => void) | undefined;
  private closing = false;
  private readonly logger: Logger | undefined;

  constructor(configs: ModemConfig[], options: ModemPoolOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger;
    this.blockAfterErrors = options.blockAfterErrors ?? 3;
    this.blockForMs = options.blockForMs ?? 30_000;
    this.pingEveryMs = options.pingEveryMs ?? 1_000;
    this.noModemGraceMs = options.noModemGraceMs ?? 30_000;
    this.statusIntervalMs = options.statusIntervalMs ?? 60_000;
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
        profile: config.profile,
      });
      const slot = new ModemSlot(config.id, config.group, driver);
      this.slots.push(slot);
      let group = this.byGroup.get(config.group);
      if (!group) {
        group = {
          name: config.group,
          slots: [],
          queue: [],
          noModemTimer: undefined,
          unusableSince: undefined,
        };
        this.byGroup.set(config.group, group);
      }
      group.slots.push(slot);
      this.wire(slot);
    }
  }

  /** Probes every modem once and starts the periodic signal refresh. Jobs queue before it resolves. */
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
    // reports a modem flushed while it started, before anyone listened (those of an earlier process)
    const early = this.unheardReports.splice(0);
    for (const report of early) this.notify(listener, report);
  }

  /** Called whenever a modem's health, registration or block state changes (for `modem.status` on change). */
  onStatusChange(listener: (status: ModemStatus) => void): void {
    this.statusListeners.add(listener);
  }

  send(job: SendJob, signal?: AbortSignal, hooks?: SendHooks): Promise<SendOutcome> {
    if (this.closing) return Promise.resolve(failed('no_modem', 'the agent is shutting down'));
    const group = this.byGroup.get(job.modemGroup);
    if (!group)
      return Promise.resolve(
        failed('no_modem', `this agent has no modem group ${JSON.stringify(job.modemGroup)}`),
      );
    if (!parseNumber(job.to)) return Promise.resolve(failed('invalid', 'destination is not a phone number'));
    if (signal?.aborted) return Promise.resolve(failed('temporary', 'aborted before a modem took it'));
    if (this.hopeless(group)) return Promise.resolve(this.noModem(group));
    this.inflight++;
    return new Promise<SendOutcome>((resolve) => {
      const onAbort = () => {
        const at = group.queue.indexOf(task);
        if (at < 0) return;
        group.queue.splice(at, 1);
        task.settle(failed('temporary', 'aborted before a modem took it'));
      };
      const task: PoolTask = {
        request: {
          to: job.to,
          text: job.text,
          flash: job.flash,
          statusReport: this.statusReports && job.report !== false,
          validityMinutes: this.validityMinutes,
          signal,
        },
        hooks,
        refusedBy: new Set(),
        modemFailures: 0,
        lastError: undefined,
        lastModem: undefined,
        settle: (outcome) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(outcome);
          this.inflight--;
          if (this.inflight === 0) this.drained?.();
        },
        taken: () => signal?.removeEventListener('abort', onAbort),
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      group.queue.push(task);
      this.dispatch(group);
    });
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.clock.clearTimeout(this.statusTimer);
    for (const slot of this.slots) this.clock.clearTimeout(slot.recovery);
    // queued jobs still go out on the modems that can send them; a group without one has nobody to wait for
    for (const group of this.byGroup.values()) {
      this.clock.clearTimeout(group.noModemTimer);
      if (!group.slots.some((s) => s.usable)) this.failQueue(group);
    }
    if (this.inflight > 0) await new Promise<void>((resolve) => (this.drained = resolve));
    for (const slot of this.slots) slot.state = 'closed';
    await Promise.all(this.slots.map((slot) => slot.driver.close()));
  }

  /** Hands queued jobs to the free modems of the group, the one idle longest first. */
  private dispatch(group: Group): void {
    this.watchUsable(group);
    if (group.queue.length === 0) return;
    // sends before start(), or after a link came back: a modem nobody is initialising gets its init now
    for (const slot of group.slots) if (slot.state === 'starting' && !slot.probing) void this.probe(slot);
    const free = group.slots.filter((s) => s.free).sort((a, b) => a.freeSince - b.freeSince);
    for (const slot of free) {
      const at = group.queue.findIndex((t) => !t.refusedBy.has(slot));
      if (at < 0) continue;
      const [task] = group.queue.splice(at, 1);
      if (task) void this.run(slot, task, group);
    }
  }

  private async run(slot: ModemSlot, task: PoolTask, group: Group): Promise<void> {
    slot.task = task;
    task.taken();
    if (task.lastError) slot.retries++;
    let result: SmsResult | undefined;
    let error: unknown;
    try {
      result = await slot.driver.sendSms({
        ...task.request,
        beforeFirstPart: handOffHook(task.hooks, slot.id),
      });
    } catch (err) {
      error = err;
    }
    slot.task = undefined;
    slot.freeSince = this.clock.now();
    if (result) {
      this.recordSent(slot, result, task.request.statusReport === true);
      task.settle({ ok: true, modem: slot.id, messageRefs: result.messageRefs });
    } else {
      this.onSendError(slot, task, group, error);
    }
    this.releaseHeldReports(slot);
    this.dispatch(group);
  }

  private onSendError(slot: ModemSlot, task: PoolTask, group: Group, err: unknown): void {
    if (err instanceof PduEncodeError) {
      task.settle(failed('invalid', err.message, slot.id));
      return;
    }
    if (err instanceof SendAbortedError) {
      task.settle(failed('temporary', 'aborted before a modem took it', slot.id));
      return;
    }
    const error = asModemError(err);
    task.lastError = error;
    task.lastModem = slot.id;
    this.recordError(slot, error);
    if (error.kind === 'permanent') {
      task.settle(failed('permanent', error.message, slot.id));
      return;
    }
    // Sending it again could deliver it twice; the cloud's rule chain decides what comes next.
    if (error.maybeSent) {
      task.settle(failed(error.kind, `${error.message}; the SMS may have gone out`, slot.id));
      return;
    }
    // It never reached the network: back to the front of the queue, for whichever modem is free first.
    if (error.kind === 'modem') task.modemFailures++;
    else task.refusedBy.add(slot);
    const anotherMay = group.slots.some((s) => !task.refusedBy.has(s) && s.state !== 'closed');
    if (task.modemFailures >= MAX_MODEM_FAILURES || !anotherMay) {
      task.settle(failed(error.kind, error.message, slot.id));
      return;
    }
    group.queue.unshift(task);
  }

  /** Starts or stops the grace period of a group that has no modem able to send. */
  private watchUsable(group: Group): void {
    const usable = group.slots.some((s) => s.usable);
    if (usable) {
      group.unusableSince = undefined;
      this.clock.clearTimeout(group.noModemTimer);
      group.noModemTimer = undefined;
      return;
    }
    // nobody will come back for these jobs: closing stops the recovery of blocked modems
    if (this.closing || !group.slots.some((s) => s.mayRecover)) {
      this.failQueue(group);
      return;
    }
    if (group.unusableSince !== undefined || this.closing) return;
    group.unusableSince = this.clock.now();
    group.noModemTimer = this.clock.setTimeout(() => {
      group.noModemTimer = undefined;
      this.failQueue(group);
    }, this.noModemGraceMs);
  }

  /** No modem of the group may send soon, or none has been usable for the whole grace period. */
  private hopeless(group: Group): boolean {
    if (group.slots.some((s) => s.usable)) return false;
    if (!group.slots.some((s) => s.mayRecover)) return true;
    return group.unusableSince !== undefined && this.clock.now() - group.unusableSince >= this.noModemGraceMs;
  }

  private noModem(group: Group): SendOutcome {
    return failed('no_modem', `no healthy modem in group ${JSON.stringify(group.name)}`);
  }

  private failQueue(group: Group): void {
    for (const task of group.queue.splice(0)) {
      task.settle(
        task.lastError
          ? failed(task.lastError.kind, task.lastError.message, task.lastModem)
          : this.noModem(group),
      );
    }
  }

  private recordSent(slot: ModemSlot, result: SmsResult, reportAsked: boolean): void {
    slot.sent++;
    slot.blocksInARow = 0;
    const wasFailing = slot.consecutiveErrors > 0;
    slot.consecutiveErrors = 0;
    if (wasFailing) this.changed(slot);
    if (!reportAsked) return;
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
    // A modem that did not answer, or lost its link, is out at once: the next job would only meet it again.
    const dead = error.code === 'hung' || error.code === 'timeout' || error.code === 'disconnected';
    if (dead) this.block(slot, 'hung');
    else if (slot.consecutiveErrors >= this.blockAfterErrors) this.block(slot, 'errors');
    else this.changed(slot);
  }

  /**
   * Takes a modem out of its group. A hung one is pinged every `pingEveryMs` until it answers; one blocked for
   * its errors (or a failed init) waits `blockForMs`, doubling with each block in a row, before that starts.
   */
  private block(slot: ModemSlot, why: 'hung' | 'errors'): void {
    if (slot.state === 'closed') return;
    if (this.closing) {
      // out for the rest of the drain, so it takes no queued job only to hang on it again
      slot.blockedFor = why;
      this.setState(slot, 'blocked');
      const group = this.byGroup.get(slot.group);
      if (group) this.watchUsable(group);
      return;
    }
    if (why === 'errors') slot.blocksInARow++;
    const wait =
      why === 'hung'
        ? this.pingEveryMs
        : Math.min(MAX_BLOCK_MS, this.blockForMs * 2 ** (slot.blocksInARow - 1));
    if (slot.state !== 'blocked') {
      this.logger?.warn('modem blocked', {
        modem: slot.id,
        group: slot.group,
        why,
        retryInMs: wait,
        lastError: slot.lastError,
      });
    }
    slot.blockedFor = why;
    this.setState(slot, 'blocked');
    this.scheduleRecovery(slot, wait);
    const group = this.byGroup.get(slot.group);
    if (group) this.watchUsable(group);
  }

  private scheduleRecovery(slot: ModemSlot, ms: number): void {
    this.clock.clearTimeout(slot.recovery);
    slot.recovery = this.clock.setTimeout(() => {
      slot.recovery = undefined;
      void this.recover(slot);
    }, ms);
  }

  /** A blocked modem: `AT` until it answers, then its init; back in its group when that passes. */
  private async recover(slot: ModemSlot): Promise<void> {
    if (this.closing || slot.state !== 'blocked' || slot.probing) return;
    const started = this.clock.now();
    if (!(await slot.driver.ping())) {
      // an unanswered ping already waited its timeout: the next one goes out at once
      const waited = this.clock.now() - started;
      if (!this.closing) this.scheduleRecovery(slot, Math.max(0, this.pingEveryMs - waited));
      return;
    }
    await this.probe(slot);
  }

  /** Runs the init sequence; a modem that passes and is registered is ready, one that fails is blocked. */
  private async probe(slot: ModemSlot): Promise<void> {
    if (this.closing || slot.probing) return;
    slot.probing = true;
    if (slot.state !== 'blocked') this.setState(slot, 'starting');
    const group = this.byGroup.get(slot.group);
    if (group) this.watchUsable(group);
    try {
      const info = await slot.driver.init();
      slot.signal = info.signal;
      slot.registration = info.registration;
      slot.profile = info.profile;
      slot.consecutiveErrors = 0;
      const cops = await slot.driver.status().catch(() => undefined);
      if (cops) slot.operator = cops.operator;
      slot.probing = false;
      slot.blockedFor = undefined;
      this.setState(slot, canSend(info.registration) ? 'ready' : 'unregistered');
    } catch (err) {
      const error = asModemError(err);
      slot.probing = false;
      slot.errors++;
      slot.lastError = error.message.slice(0, 200);
      const silent = error.code === 'timeout' || error.code === 'disconnected' || error.code === 'hung';
      this.block(slot, silent ? 'hung' : 'errors');
    } finally {
      slot.probing = false;
      if (group) this.dispatch(group);
    }
  }

  private async refreshSignal(slot: ModemSlot): Promise<void> {
    try {
      const signal = await slot.driver.signalStrength();
      if (signal !== slot.signal) {
        slot.signal = signal;
        this.changed(slot);
      }
    } catch (err) {
      this.recordError(slot, asModemError(err));
    }
  }

  private applyRegistration(slot: ModemSlot, registration: ModemSlot['registration']): void {
    const before = slot.registration;
    slot.registration = registration;
    if (slot.state === 'ready' && !canSend(registration)) this.setState(slot, 'unregistered');
    else if (slot.state === 'unregistered' && canSend(registration)) this.setState(slot, 'ready');
    else if (before !== registration) this.changed(slot);
    const group = this.byGroup.get(slot.group);
    if (group) this.dispatch(group);
  }

  private scheduleStatusRefresh(): void {
    if (this.statusIntervalMs <= 0 || this.closing) return;
    this.statusTimer = this.clock.setTimeout(() => {
      void Promise.all(
        this.slots
          .filter((s) => (s.state === 'ready' || s.state === 'unregistered') && s.task === undefined)
          .map((s) => this.refreshSignal(s)),
      ).finally(() => this.scheduleStatusRefresh());
    }, this.statusIntervalMs);
  }

  private wire(slot: ModemSlot): void {
    const driver = slot.driver;
    driver.on('statusReport', (report) => this.onStatusReport(slot, report));
    driver.on('registration', (registration) => this.applyRegistration(slot, registration));
    driver.on('disconnect', () => {
      if (slot.state === 'ready' || slot.state === 'unregistered') this.setState(slot, 'starting');
      const group = this.byGroup.get(slot.group);
      if (group) this.watchUsable(group);
    });
    driver.on('connect', () => {
      // A link that came back (cable, converter) is probed at once unless the modem is serving a block.
      if (slot.state === 'starting' && slot.task === undefined) void this.probe(slot);
    });
  }

  private onStatusReport(slot: ModemSlot, report: StatusReportUrc): void {
    const key = `${slot.id}:${report.messageReference}`;
    if (!this.awaitingReport.has(key)) {
      // It may belong to the send under way (its +CMGS not read yet), unless it names another number.
      if (slot.task !== undefined && this.mayBelongTo(report, slot.task)) {
        this.earlyReports.set(key, report);
        if (this.earlyReports.size > 256) {
          const oldest = this.earlyReports.keys().next().value;
          if (oldest !== undefined) this.earlyReports.delete(oldest);
        }
      } else {
        this.unmatchedReport(slot, report);
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

  private mayBelongTo(report: StatusReportUrc, task: PoolTask): boolean {
    if (report.recipient === undefined) return true;
    return digits(report.recipient) === digits(task.request.to);
  }

  /**
   * Reports held for the send that just ended and not claimed by its message references: sends of an earlier
   * process (the agent restarted), which the agent may still match by modem and recipient.
   */
  private releaseHeldReports(slot: ModemSlot): void {
    const prefix = `${slot.id}:`;
    for (const [key, report] of [...this.earlyReports]) {
      if (!key.startsWith(prefix)) continue;
      this.earlyReports.delete(key);
      this.unmatchedReport(slot, report);
    }
  }

  /** A report for no part this process sent: passed on with its recipient, for the agent's match. */
  private unmatchedReport(slot: ModemSlot, report: StatusReportUrc): void {
    if (report.recipient === undefined || deliveryOutcome(report.status) === 'pending') return;
    const delivery: DeliveryReport = {
      modem: slot.id,
      messageRef: report.messageReference,
      status: report.status,
      at: report.at,
      recipient: report.recipient,
      unmatched: true,
    };
    if (this.deliveryListeners.size === 0)
      this.unheardReports = [...this.unheardReports.slice(-63), delivery];
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

  private setState(slot: ModemSlot, state: ModemSlot['state']): void {
    if (slot.state === state) return;
    const fields = {
      modem: slot.id,
      group: slot.group,
      from: slot.state,
      to: state,
      lastError: slot.lastError,
    };
    if (state !== 'blocked') this.logger?.info('modem state', fields);
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
      // jobs its group has waiting, plus the one this modem is sending
      queue: (this.byGroup.get(slot.group)?.queue.length ?? 0) + (slot.task ? 1 : 0),
      sent: slot.sent,
      failed: slot.failed,
      retries: slot.retries,
      errors: slot.errors,
      lastError: slot.lastError,
    };
  }
}
