/**
 * The AT driver of one GSM modem (3GPP TS 27.005 / 27.007): initialisation, SMS-SUBMIT in PDU mode (text mode
 * when the modem refuses PDU mode), status and delivery reports.
 */
import { EventEmitter } from 'node:events';
import { parseNumber } from '../sms/address.ts';
import { encodeSubmit, nextConcatReference, relativeValidity } from '../sms/pdu.ts';
import { planTextMode, toUcs2Hex } from '../sms/text-mode.ts';
import type { ModemTransport } from '../transport/transport-types.ts';
import { AtChannel, type ExecOptions, type StatusReportUrc } from './at-channel.ts';
import {
  canSend,
  parseCmgs,
  parseCops,
  parseCpin,
  parseCregResponse,
  parseCsca,
  parseCsq,
  type Registration,
} from './at-parsers.ts';
import {
  CmeError,
  ModemClosedError,
  ModemError,
  ModemReplyError,
  PduEncodeError,
  PduModeRefusedError,
  SendAbortedError,
  SimLockedError,
} from './errors.ts';
import {
  GENERIC_PROFILE,
  identificationText,
  type ModemIdentity,
  type ModemProfile,
  profileByName,
  profileFor,
} from './profiles.ts';
import { SMS_FORMAT_COMMANDS, SYNC_ATTEMPTS } from './quirks.ts';

/**
 * `auto` uses PDU mode and falls back to text mode when the modem refuses it; `pdu` never falls back (a modem
 * that refuses is unusable); `text` uses text mode even when PDU mode would work.
 */
export type SmsMode = 'pdu' | 'text' | 'auto';

export interface AtDriverOptions {
  transport: ModemTransport;
  /** Default `auto`. */
  mode?: SmsMode | undefined;
  /** Entered when the SIM asks for it; never sent again after the SIM refused it once. */
  pin?: string | undefined;
  /** SMSC number; when absent the one stored in the SIM (AT+CSCA?) is used. */
  smsc?: string | undefined;
  /** A profile name from profiles.ts, or `auto` (default): chosen from the modem's AT+CGMI / AT+CGMM. */
  profile?: string | undefined;
  /** Per command; default the profile's (5 s). */
  commandTimeoutMs?: number | undefined;
  /** From Ctrl-Z to `+CMGS`, which waits for the network; default the profile's (60 s generic). */
  sendTimeoutMs?: number | undefined;
  /** A plain `AT` to a modem that is overdue or blocked; default the profile's (2 s). */
  probeTimeoutMs?: number | undefined;
  /**
   * A send is overdue, and the modem probed, after 4 × the average of its recent sends, but never sooner than
   * this; default 2 s. Before any send has finished, 5 × this (10 s).
   */
  minOverdueMs?: number | undefined;
  /** Waiting for the transport on init; default 10 s. */
  connectTimeoutMs?: number | undefined;
  /** Pause between AT+CPIN? polls after entering the PIN; default 500 ms. */
  pinPollMs?: number | undefined;
}

export interface SmsRequest {
  to: string;
  text: string;
  flash?: boolean | undefined;
  statusReport?: boolean | undefined;
  validityMinutes?: number | undefined;
  /** Honoured before each part: parts the modem already took are not taken back. */
  signal?: AbortSignal | undefined;
  /** Awaited after the last abort check, immediately before the first `AT+CMGS`; a rejection stops the send. */
  beforeFirstPart?: (() => Promise<void>) | undefined;
}

export interface SmsResult {
  /** `+CMGS: <mr>` of each part, in part order. */
  messageRefs: number[];
}

export interface ModemStatus {
  /** RSSI 0–31 from AT+CSQ, or null when the modem does not know (99). */
  signal: number | null;
  registration: Registration;
  operator: string | null;
}

export interface ModemInfo extends Omit<ModemStatus, 'operator'> {
  identity: ModemIdentity;
  /** The profile in use: the configured one, or the one the identity matched. */
  profile: string;
  mode: 'pdu' | 'text';
  smsc: string | undefined;
  /** Whether AT+CNMI accepted routing status reports as +CDS. */
  deliveryReports: boolean;
}

export type DriverEvents = {
  statusReport: [report: StatusReportUrc];
  registration: [registration: Registration];
  urc: [line: string];
  connect: [];
  disconnect: [error: Error | undefined];
  trace: [direction: 'tx' | 'rx', text: string];
};

export class AtDriver extends EventEmitter<DriverEvents> {
  readonly channel: AtChannel;
  private readonly transport: ModemTransport;
  private readonly configuredProfile: ModemProfile | undefined;
  private profile: ModemProfile;
  private readonly connectTimeoutMs: number;
  private readonly minOverdueMs: number;
  /** Moving average of how long AT+CMGS took, body to `+CMGS`; undefined before the first send. */
  private sendAverageMs: number | undefined;
  private readonly pinPollMs: number;
  private info: ModemInfo | undefined;
  private pinRejected = false;
  private closed = false;

  constructor(private readonly options: AtDriverOptions) {
    super();
    this.transport = options.transport;
    const wanted = options.profile ?? 'auto';
    this.configuredProfile = wanted === 'auto' ? undefined : profileByName(wanted);
    if (wanted !== 'auto' && !this.configuredProfile)
      throw new TypeError(`unknown modem profile ${JSON.stringify(wanted)}`);
    this.profile = this.configuredProfile ?? GENERIC_PROFILE;
    this.minOverdueMs = options.minOverdueMs ?? 2_000;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    this.pinPollMs = options.pinPollMs ?? 500;
    if (options.smsc !== undefined && !parseNumber(options.smsc)) {
      throw new PduEncodeError(`smsc ${JSON.stringify(options.smsc)} is not a phone number`, 'invalid_smsc');
    }
    this.channel = new AtChannel(options.transport);
    this.channel.on('statusReport', (r) => this.emit('statusReport', r));
    this.channel.on('registration', (r) => this.emit('registration', r));
    this.channel.on('urc', (l) => this.emit('urc', l));
    this.channel.on('trace', (d, t) => this.emit('trace', d, t));
    this.channel.on('connect', () => this.emit('connect'));
    this.channel.on('disconnect', (e) => {
      // The modem may have rebooted with the link: settings are redone before the next send.
      this.info = undefined;
      this.emit('disconnect', e);
    });
  }

  get url(): string {
    return this.transport.url;
  }

  private get commandTimeoutMs(): number {
    return this.options.commandTimeoutMs ?? this.profile.timeouts.commandMs;
  }

  private get sendTimeoutMs(): number {
    return this.options.sendTimeoutMs ?? this.profile.timeouts.sendMs;
  }

  get probeTimeoutMs(): number {
    return this.options.probeTimeoutMs ?? this.profile.timeouts.probeMs;
  }

  /** When a send in progress counts as overdue and the modem is probed. */
  get overdueMs(): number {
    const expected = this.sendAverageMs === undefined ? 5 * this.minOverdueMs : 4 * this.sendAverageMs;
    return Math.min(this.sendTimeoutMs, Math.max(this.minOverdueMs, expected));
  }

  /**
   * Whether the modem answers a plain `AT` within the probe timeout; waits for any command in flight first.
   * How a blocked modem is watched until it answers again.
   */
  ping(): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    return this.channel.lock(() => this.channel.ping(this.probeTimeoutMs));
  }

  /** AT+CSQ alone: the one thing about an idle modem no standard unsolicited code reports. */
  signalStrength(): Promise<number | null> {
    if (this.closed) return Promise.reject(new ModemClosedError());
    return this.channel.lock(async () => {
      await this.transport.waitConnected(this.connectTimeoutMs);
      return this.signal();
    });
  }

  /** What the last successful init found; undefined before init and after a disconnect or timeout. */
  get modemInfo(): ModemInfo | undefined {
    return this.info;
  }

  /** Runs the init sequence; safe to call again (it is how a blocked modem is re-probed). */
  init(): Promise<ModemInfo> {
    if (this.closed) return Promise.reject(new ModemClosedError());
    return this.channel.lock(() => this.initLocked());
  }

  /** Sends one SMS, all of its parts back to back, and returns the message reference of each. */
  sendSms(request: SmsRequest): Promise<SmsResult> {
    if (this.closed) return Promise.reject(new ModemClosedError());
    if (!parseNumber(request.to)) {
      return Promise.reject(
        new PduEncodeError(`to ${JSON.stringify(request.to)} is not a phone number`, 'invalid_number'),
      );
    }
    return this.channel.lock(async () => {
      if (request.signal?.aborted) throw new SendAbortedError({ cause: request.signal.reason });
      const info = this.info ?? (await this.initLocked());
      try {
        return info.mode === 'pdu' ? await this.sendPdu(request) : await this.sendText(request);
      } catch (err) {
        // After a timeout or a garbled reply the modem's state is unknown: init again before the next send.
        if (err instanceof ModemError && err.kind === 'modem') this.info = undefined;
        throw err;
      }
    });
  }

  /** Signal, registration and operator, fresh from the modem. */
  status(): Promise<ModemStatus> {
    if (this.closed) return Promise.reject(new ModemClosedError());
    return this.channel.lock(async () => {
      await this.transport.waitConnected(this.connectTimeoutMs);
      const signal = await this.signal();
      const registration = await this.registration();
      const cops = await this.cmd('AT+COPS?');
      const operator = cops.map(parseCops).find((c) => c !== undefined)?.operator ?? null;
      return { signal, registration, operator };
    });
  }

  /** A raw command for diagnostics (`edge-agent check`): resolves with the information lines. */
  command(line: string, timeoutMs = this.commandTimeoutMs): Promise<string[]> {
    if (this.closed) return Promise.reject(new ModemClosedError());
    return this.channel.exec(line, { timeoutMs });
  }

  /** Waits for the command in flight, then closes the transport. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.channel.lock(async () => undefined);
    await this.transport.close();
  }

  private cmd(command: string, extra: Partial<ExecOptions> = {}): Promise<string[]> {
    return this.channel.run(command, { timeoutMs: this.commandTimeoutMs, ...extra });
  }

  private async initLocked(): Promise<ModemInfo> {
    this.info = undefined;
    await this.transport.waitConnected(this.connectTimeoutMs);
    await this.synchronise();
    await this.cmd('ATE0');
    await this.cmd('AT+CMEE=1');
    const identity = await this.identify();
    this.profile = this.configuredProfile ?? profileFor(identity);
    this.channel.configure(this.profile);
    await this.unlockSim();
    for (const command of this.profile.initCommands) await this.optional(command);
    // registration changes then arrive as +CREG URCs, so nobody has to poll AT+CREG?
    await this.optional('AT+CREG=1');
    const registration = await this.registration();
    const signal = await this.signal();
    const mode = await this.selectMode();
    const smsc = await this.setupSmsc();
    const deliveryReports = await this.routeStatusReports();
    const info: ModemInfo = {
      identity,
      profile: this.profile.name,
      mode,
      smsc,
      deliveryReports,
      registration,
      signal,
    };
    this.info = info;
    return info;
  }

  /** AT+CGMI, AT+CGMM, AT+CGMR; a modem that refuses one just leaves that field unknown. */
  private async identify(): Promise<ModemIdentity> {
    const ask = async (command: string) => identificationText((await this.optional(command)) ?? []);
    return {
      manufacturer: await ask('AT+CGMI'),
      model: await ask('AT+CGMM'),
      revision: await ask('AT+CGMR'),
    };
  }

  /** A command the modem may refuse (ERROR, +CME/+CMS ERROR): undefined then. A timeout still fails init. */
  private async optional(command: string): Promise<string[] | undefined> {
    try {
      return await this.cmd(command);
    } catch (err) {
      if (!(err instanceof ModemError) || err.code === 'timeout' || err.code === 'disconnected') throw err;
      return undefined;
    }
  }

  /** A plain `AT`, retried (see SYNC_ATTEMPTS). */
  private async synchronise(): Promise<void> {
    let last: unknown;
    for (let i = 0; i < SYNC_ATTEMPTS; i++) {
      try {
        await this.cmd('AT');
        return;
      } catch (err) {
        last = err;
        if (!(err instanceof ModemError) || err.code === 'disconnected') break;
      }
    }
    throw last;
  }

  private async unlockSim(): Promise<void> {
    let state = await this.pinState();
    if (state === 'READY') return;
    if (state !== 'SIM PIN' || this.options.pin === undefined || this.pinRejected) {
      throw new SimLockedError(this.pinRejected ? `${state}, configured PIN was refused` : state);
    }
    try {
      await this.cmd(`AT+CPIN="${this.options.pin}"`, { redactedCommand: 'AT+CPIN="****"' });
    } catch (err) {
      if (err instanceof CmeError && (err.cme === 16 || err.cme === 12)) {
        // Another wrong try would burn the SIM's last attempts and lock it behind its PUK.
        this.pinRejected = true;
        throw new SimLockedError('SIM PIN refused');
      }
      throw err;
    }
    for (let i = 0; i < 20; i++) {
      state = await this.pinState();
      if (state === 'READY') return;
      await new Promise((r) => setTimeout(r, this.pinPollMs));
    }
    throw new SimLockedError(state);
  }

  private async pinState(): Promise<string> {
    const lines = await this.cmd('AT+CPIN?');
    const state = lines.map(parseCpin).find((s) => s !== undefined);
    if (!state) throw new ModemReplyError(`AT+CPIN? gave no +CPIN line: ${JSON.stringify(lines)}`);
    return state;
  }

  private async registration(): Promise<Registration> {
    const lines = await this.cmd('AT+CREG?');
    const reg = lines.map(parseCregResponse).find((r) => r !== undefined);
    if (!reg) throw new ModemReplyError(`AT+CREG? gave no +CREG line: ${JSON.stringify(lines)}`);
    return reg;
  }

  private async signal(): Promise<number | null> {
    const lines = await this.cmd('AT+CSQ');
    const csq = lines.map(parseCsq).find((c) => c !== undefined);
    if (!csq) throw new ModemReplyError(`AT+CSQ gave no +CSQ line: ${JSON.stringify(lines)}`);
    return csq.rssi === 99 || csq.rssi > 31 ? null : csq.rssi;
  }

  private async selectMode(): Promise<'pdu' | 'text'> {
    const wanted = this.options.mode ?? 'auto';
    if (wanted !== 'text') {
      try {
        await this.cmd(SMS_FORMAT_COMMANDS.pdu);
        return 'pdu';
      } catch (err) {
        if (!(err instanceof ModemError) || err.code === 'timeout' || err.code === 'disconnected') throw err;
        if (wanted === 'pdu') throw new PduModeRefusedError({ cause: err });
      }
    }
    await this.cmd(SMS_FORMAT_COMMANDS.text);
    return 'text';
  }

  private async setupSmsc(): Promise<string | undefined> {
    const configured = this.options.smsc;
    if (configured !== undefined) {
      const n = parseNumber(configured)!;
      const toa = n.international ? 145 : 129;
      await this.cmd(`AT+CSCA="${n.international ? '+' : ''}${n.digits}",${toa}`);
      return configured;
    }
    const lines = await this.cmd('AT+CSCA?');
    return lines.map(parseCsca).find((s) => s !== undefined);
  }

  private async routeStatusReports(): Promise<boolean> {
    for (const candidate of this.profile.cnmi) {
      try {
        await this.cmd(candidate);
        return true;
      } catch (err) {
        if (!(err instanceof ModemError) || err.code === 'timeout' || err.code === 'disconnected') throw err;
      }
    }
    return false;
  }

  private checkAbort(signal: AbortSignal | undefined): void {
    if (signal?.aborted) throw new SendAbortedError({ cause: signal.reason });
  }

  private async sendPdu(request: SmsRequest): Promise<SmsResult> {
    const parts = encodeSubmit({
      to: request.to,
      text: request.text,
      flash: request.flash,
      statusReport: request.statusReport,
      validityMinutes: request.validityMinutes,
      smsc: this.options.smsc,
      reference: nextConcatReference(),
    });
    return this.sendParts(
      parts.length,
      async (i) => {
        const part = parts[i]!;
        const command = `AT+CMGS=${part.tpduLength}`;
        const lines = await this.submit(command, part.pdu, command);
        return this.messageRef(command, lines);
      },
      request.signal,
      request.beforeFirstPart,
    );
  }

  private async sendText(request: SmsRequest): Promise<SmsResult> {
    const plan = planTextMode(request.text);
    const firstOctet = 0x11 | (request.statusReport ? 0x20 : 0);
    const vp = request.validityMinutes === undefined ? 167 : relativeValidity(request.validityMinutes);
    const dcs = (plan.charset === 'UCS2' ? 0x08 : 0) | (request.flash ? 0x10 : 0);
    await this.cmd(`AT+CSMP=${firstOctet},${vp},0,${dcs}`);
    await this.cmd(`AT+CSCS="${plan.charset}"`);
    const to = parseNumber(request.to)!;
    const da = `${to.international ? '+' : ''}${to.digits}`;
    const daField = plan.charset === 'UCS2' ? toUcs2Hex(da) : da;
    const toa = to.international ? 145 : 129;
    const command = `AT+CMGS="${daField}",${toa}`;
    return this.sendParts(
      plan.parts.length,
      async (i) => {
        const part = plan.parts[i]!;
        // The number stays out of traces and error messages, which reach logs and modem.status.
        const lines = await this.submit(
          command,
          plan.charset === 'UCS2' ? toUcs2Hex(part) : part,
          'AT+CMGS=<da>',
        );
        return this.messageRef('AT+CMGS=<da>', lines);
      },
      request.signal,
      request.beforeFirstPart,
    );
  }

  /** One AT+CMGS: the prompt within the command timeout, then the network's answer, watched for a hang. */
  private async submit(command: string, body: string, redactedCommand: string): Promise<string[]> {
    const started = performance.now();
    const lines = await this.cmd(command, {
      body,
      timeoutMs: this.sendTimeoutMs,
      promptTimeoutMs: this.commandTimeoutMs,
      errorKind: 'temporary',
      redactedCommand,
      watch: { afterMs: this.overdueMs, probeMs: this.probeTimeoutMs },
    });
    const took = performance.now() - started;
    this.sendAverageMs = this.sendAverageMs === undefined ? took : 0.8 * this.sendAverageMs + 0.2 * took;
    return lines;
  }

  private messageRef(command: string, lines: string[]): number {
    const mr = lines.map(parseCmgs).find((m) => m !== undefined);
    if (mr === undefined) {
      const error = new ModemReplyError(`${command}: OK without +CMGS: ${JSON.stringify(lines)}`);
      error.maybeSent = true;
      throw error;
    }
    return mr;
  }

  /** Sends parts in order; once one part is out, any later failure may leave a partial message behind. */
  private async sendParts(
    count: number,
    sendPart: (index: number) => Promise<number>,
    signal?: AbortSignal,
    beforeFirstPart?: () => Promise<void>,
  ) {
    const messageRefs: number[] = [];
    for (let i = 0; i < count; i++) {
      if (i === 0) {
        this.checkAbort(signal);
        await beforeFirstPart?.();
      }
      try {
        messageRefs.push(await sendPart(i));
      } catch (err) {
        if (err instanceof ModemError && messageRefs.length > 0) err.maybeSent = true;
        throw err;
      }
    }
    return { messageRefs };
  }
}

export { canSend };
