/**
 * One simulated GSM modem: its settings and SIM, what it has sent, and the sessions (TCP connections or a pty)
 * currently talking to it. Settings live here rather than in a session because a real modem keeps them when
 * the serial server in front of it drops a TCP connection.
 */
import type { Duplex } from 'node:stream';
import { encodeStatusReport } from '../modem/sms/status-report.ts';
import type { SimulatorFault } from './faults.ts';
import { ModemSession } from './modem-session.ts';
import { Outbox } from './outbox.ts';
import { SIMULATOR_PROFILES, type SimulatorProfile, type SimulatorProfileName } from './profiles.ts';

export interface TranscriptEntry {
  dir: 'in' | 'out';
  data: string;
  at: number;
}

export interface SentSms {
  modem: string;
  to: string;
  text: string;
  at: string;
  messageRefs: number[];
  flash: boolean;
  statusReport: boolean;
  mode: 'pdu' | 'text';
}

export interface SimulatedModemOptions {
  name: string;
  /** Time the "network" takes for each AT+CMGS; default 10 ms. */
  sendDelayMs?: number | undefined;
  /** Appends `{"modem","to","text","at"}` per complete SMS. */
  outboxPath?: string | undefined;
  /** Emit +CDS for parts that asked for a report, when AT+CNMI routes them; default true. */
  deliveryReports?: boolean | undefined;
  deliveryDelayMs?: number | undefined;
  /** TP-Status in the reports; 0 = delivered. */
  deliveryStatus?: number | undefined;
  /** SMSC stored in the SIM; default +4540390999. An empty string means none. */
  smsc?: string | undefined;
  operator?: string | undefined;
  /** RSSI for AT+CSQ, 0–31; default 21. */
  signal?: number | undefined;
  /** Answers as a recorded modem (simulator/profiles.ts); default `generic`. */
  profile?: SimulatorProfileName | undefined;
  /** Refuse AT+CMGF=0, as some old modems do. */
  textModeOnly?: boolean | undefined;
  /** Transcript entries kept (oldest dropped first); default 10 000. */
  transcriptLimit?: number | undefined;
  now?: () => Date | undefined;
}

export interface ModemSettings {
  echo: boolean;
  cmee: number;
  cmgf: number;
  cscs: string;
  csmp: { fo: number; vp: number; pid: number; dcs: number };
  cnmiDs: number;
  cregN: number;
  smsc: string;
  /** AT+CFUN: 1 full, 0 minimum, 4 radio off (not registered in 0 and 4). */
  cfun: number;
  /** AT+CPMS: read, write and receive storage. */
  cpms: [string, string, string];
}

function defaultSettings(smsc: string): ModemSettings {
  return {
    echo: true,
    cmee: 0,
    cmgf: 0,
    cscs: 'IRA',
    csmp: { fo: 17, vp: 167, pid: 0, dcs: 0 },
    cnmiDs: 0,
    cregN: 0,
    smsc,
    cfun: 1,
    cpms: ['SM', 'SM', 'SM'],
  };
}

interface PendingConcat {
  parts: Array<string | undefined>;
  refs: number[];
  flash: boolean;
  statusReport: boolean;
  createdAt: number;
}

export interface Submission {
  to: string;
  text: string;
  flash: boolean;
  statusReport: boolean;
  mode: 'pdu' | 'text';
  concat?: { reference: number; total: number; sequence: number } | undefined;
}

const MAX_PENDING_CONCAT = 1000;

export class SimulatedModem {
  readonly name: string;
  readonly transcript: TranscriptEntry[] = [];
  readonly sent: SentSms[] = [];
  readonly options: SimulatedModemOptions;
  settings: ModemSettings;
  pinState: 'READY' | 'SIM PIN' | 'SIM PUK' = 'READY';
  pinAttempts = 3;
  readonly profile: SimulatorProfile;
  private currentFault: SimulatorFault | null = null;
  private faultTimer: NodeJS.Timeout | undefined;
  private nextMr = 0;
  private readonly sessions = new Set<ModemSession>();
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Status reports that fell due while no client was connected, for the next one that routes them. */
  private heldReports: string[] = [];
  private readonly concat = new Map<string, PendingConcat>();
  private readonly outbox: Outbox | undefined;

  constructor(options: SimulatedModemOptions) {
    this.options = options;
    this.name = options.name;
    this.profile = SIMULATOR_PROFILES[options.profile ?? 'generic'];
    this.settings = defaultSettings(options.smsc ?? '+4540390999');
    this.outbox = options.outboxPath ? new Outbox(options.outboxPath) : undefined;
  }

  get fault(): SimulatorFault | null {
    return this.currentFault;
  }

  setFault(fault: SimulatorFault | null): void {
    clearTimeout(this.faultTimer);
    this.currentFault = fault;
    if (fault?.kind === 'hang' && fault.seconds !== undefined) {
      this.faultTimer = setTimeout(() => {
        if (this.currentFault !== fault) return;
        this.currentFault = null;
        // whatever was typed half-way through the hang (a message body, a line) is gone
        for (const session of this.sessions) session.resetInput();
      }, fault.seconds * 1000);
    }
    if (fault?.kind === 'sim_pin') {
      this.pinState = 'SIM PIN';
      this.pinAttempts = 3;
    } else if (this.pinState !== 'READY') {
      this.pinState = 'READY';
    }
    if (fault?.kind === 'disconnect') for (const s of this.sessions) s.destroy();
  }

  /** Speaks the modem's protocol on any byte stream; returns a function that detaches it. */
  attach(stream: Duplex): () => void {
    const session = new ModemSession(this, stream);
    this.sessions.add(session);
    stream.once('close', () => this.sessions.delete(session));
    return () => {
      session.detach();
      this.sessions.delete(session);
    };
  }

  /** Sends an unsolicited line (RING, +CMTI: "SM",3, ^RSSI: 12 …) to every session. */
  injectUrc(line: string): void {
    for (const s of this.sessions) s.unsolicited(`\r\n${line}\r\n`);
  }

  reset(): void {
    this.settings = defaultSettings(this.options.smsc ?? '+4540390999');
  }

  get registered(): boolean {
    return this.currentFault?.kind !== 'no_network' && this.pinState === 'READY' && this.settings.cfun === 1;
  }

  now(): Date {
    return this.options.now?.() ?? new Date();
  }

  record(direction: 'in' | 'out', data: string): void {
    this.transcript.push({ dir: direction, data, at: Date.now() });
    const limit = this.options.transcriptLimit ?? 10_000;
    if (this.transcript.length > limit) this.transcript.splice(0, this.transcript.length - limit);
  }

  /** Takes one submitted part; returns its message reference once it counts as sent. */
  async submit(part: Submission): Promise<number> {
    const mr = this.nextMr;
    this.nextMr = (this.nextMr + 1) & 0xff;
    const complete = this.collect(part, mr);
    if (complete) {
      const at = this.now().toISOString();
      this.sent.push({ modem: this.name, ...complete, at, mode: part.mode });
      await this.outbox?.append({ modem: this.name, to: complete.to, text: complete.text, at });
    }
    if (part.statusReport) this.scheduleReport(mr, part.to);
    return mr;
  }

  private collect(part: Submission, mr: number): Omit<SentSms, 'modem' | 'at' | 'mode'> | undefined {
    const single = { to: part.to, text: part.text, flash: part.flash, statusReport: part.statusReport };
    if (!part.concat || part.concat.total === 1) return { ...single, messageRefs: [mr] };
    const key = `${part.to}|${part.concat.reference}|${part.concat.total}`;
    let pending = this.concat.get(key);
    if (!pending) {
      if (this.concat.size >= MAX_PENDING_CONCAT) {
        const oldest = this.concat.keys().next().value;
        if (oldest !== undefined) this.concat.delete(oldest);
      }
      pending = {
        parts: new Array<string | undefined>(part.concat.total).fill(undefined),
        refs: [],
        flash: part.flash,
        statusReport: part.statusReport,
        createdAt: Date.now(),
      };
      this.concat.set(key, pending);
    }
    pending.parts[part.concat.sequence - 1] = part.text;
    pending.refs.push(mr);
    if (pending.parts.some((p) => p === undefined)) return undefined;
    this.concat.delete(key);
    return {
      to: part.to,
      text: pending.parts.join(''),
      flash: pending.flash,
      statusReport: pending.statusReport,
      messageRefs: pending.refs,
    };
  }

  private scheduleReport(mr: number, to: string): void {
    if (this.options.deliveryReports === false || this.settings.cnmiDs !== 1) return;
    const submittedAt = this.now();
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      const status = this.options.deliveryStatus ?? 0;
      const dischargedAt = this.now();
      if (this.settings.cmgf === 0) {
        const { pdu, tpduLength } = encodeStatusReport({
          smsc: this.settings.smsc || undefined,
          messageReference: mr,
          recipient: to,
          submittedAt,
          dischargedAt,
          status,
        });
        this.report(`\r\n+CDS: ${tpduLength}\r\n${pdu}\r\n`);
      } else {
        const stamp = (d: Date) =>
          d.toISOString().replace(/^\d\d(\d\d)-(\d\d)-(\d\d)T(\d\d:\d\d:\d\d).*$/, '$1/$2/$3,$4+00');
        const line = `+CDS: 6,${mr},"${to}",${to.startsWith('+') ? 145 : 129},"${stamp(submittedAt)}","${stamp(dischargedAt)}",${status}`;
        this.report(`\r\n${line}\r\n`);
      }
    }, this.options.deliveryDelayMs ?? 20);
    this.timers.add(timer);
  }

  private report(urc: string): void {
    if (this.sessions.size === 0) {
      this.heldReports = [...this.heldReports.slice(-63), urc];
      return;
    }
    for (const s of this.sessions) s.unsolicited(urc);
  }

  /** Sends the reports held while no client was connected (a client just asked for reports again). */
  flushHeldReports(): void {
    if (this.sessions.size === 0) return;
    const held = this.heldReports;
    this.heldReports = [];
    for (const urc of held) for (const s of this.sessions) s.unsolicited(urc);
  }

  nextDelay(): number {
    return this.options.sendDelayMs ?? 10;
  }

  /** Drops every session and pending timer. */
  close(): void {
    clearTimeout(this.faultTimer);
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const s of this.sessions) s.destroy();
    this.sessions.clear();
  }
}

/** Speaks the simulated modem's protocol on `stream` (a TCP socket, one end of a pty, a PassThrough pair). */
export function attachModemProtocol(stream: Duplex, modem: SimulatedModem): () => void {
  return modem.attach(stream);
}
