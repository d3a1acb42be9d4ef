/**
 * One AT command at a time over a transport, with unsolicited result codes routed aside.
 *
 * A line belongs to the command in flight when it is its echo, its final result, an information line with
 * the command's own prefix (`+CSQ:` for `AT+CSQ`), or a line without any `+`/`^` prefix (ATI output).
 * Every other `+…:`/`^…` line, and RING, is unsolicited and never completes or corrupts a command.
 */
import { EventEmitter } from 'node:events';
import { decodeStatusReport } from '../sms/status-report.ts';
import type { ModemTransport } from '../transport/transport-types.ts';
import { AtLineParser } from './at-line-parser.ts';
import {
  parseCdsPduHeader,
  parseCdsText,
  parseCregUrc,
  parseFinalResult,
  type Registration,
  responsePrefix,
} from './at-parsers.ts';
import { classifyCme, classifyCms } from './error-classes.ts';
import {
  AtCommandError,
  AtTimeoutError,
  CmeError,
  CmsError,
  ModemDisconnectedError,
  type ModemError,
  type ModemErrorKind,
  ModemHungError,
  ModemReplyError,
} from './errors.ts';

const CTRL_Z = '\x1a';
const ESC = '\x1b';

export interface ExecOptions {
  timeoutMs: number;
  /** Typed after the `> ` prompt and ended with Ctrl-Z (AT+CMGS). */
  body?: string;
  /** How long to wait for the prompt; defaults to `timeoutMs`. */
  promptTimeoutMs?: number;
  /** What a bare `ERROR` means for this command; `modem` unless said otherwise. */
  errorKind?: ModemErrorKind;
  /** How the command and body appear in traces, so PINs and passcodes never reach a log. */
  redactedCommand?: string;
  /**
   * For a command with a body: once the body is typed and no final result has come after `afterMs`, a plain
   * `AT` is typed beside it. A modem that answers it is alive (the network is slow) and is given the rest of
   * `timeoutMs`, probed again every `afterMs`; one that does not answer within `probeMs` is hung, and the
   * command ends with `ModemHungError` instead of waiting out `timeoutMs`.
   */
  watch?: { afterMs: number; probeMs: number };
}

export interface StatusReportUrc {
  messageReference: number;
  status: number;
  recipient: string | undefined;
  at: Date;
}

export type ChannelEvents = {
  statusReport: [report: StatusReportUrc];
  registration: [registration: Registration];
  /** Any other unsolicited line (RING, +CMTI, ^RSSI …) or a stray line nobody asked for. */
  urc: [line: string];
  /** A `+CDS` whose PDU could not be decoded. */
  badReport: [line: string, error: Error];
  connect: [];
  disconnect: [error: Error | undefined];
  trace: [direction: 'tx' | 'rx', text: string];
};

interface Inflight {
  command: string;
  prefix: string | undefined;
  body: string | undefined;
  stage: 'prompt' | 'final';
  lines: string[];
  echoes: string[];
  options: ExecOptions;
  timer: NodeJS.Timeout | undefined;
  watchTimer: NodeJS.Timeout | undefined;
  /** `AT` probes typed during this command and not answered yet. */
  probes: number;
  resolve: (lines: string[]) => void;
  reject: (error: ModemError) => void;
}

/** Lines that are unsolicited when they do not carry the prefix of the command in flight. */
function looksUnsolicited(line: string, banners: readonly string[]): boolean {
  if (/^[+^$%]/.test(line) || /^RING$/i.test(line)) return true;
  const upper = line.toUpperCase();
  return banners.some((b) => upper.startsWith(b.toUpperCase()));
}

/** Vendor `+CMS ERROR` codes a modem profile knows, consulted before the 3GPP table. */
export type CmsOverrides = Readonly<Record<number, { kind: ModemErrorKind; text: string }>>;

function stripControl(text: string): string {
  let out = '';
  for (const ch of text) if (ch.charCodeAt(0) >= 0x20) out += ch;
  return out;
}

/** Unsolicited codes followed by one line of payload (a PDU or text) that is not an AT line. */
const HEADER_WITH_PAYLOAD = /^\+(CMT|CBM|CDS):/i;

export class AtChannel extends EventEmitter<ChannelEvents> {
  private readonly parser = new AtLineParser();
  private inflight: Inflight | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  /** The next line is the payload of this URC header. */
  private payloadFor: 'cds' | 'skip' | undefined;
  /** Set after a timeout: the modem may still answer the abandoned command, one reply out of turn. */
  private needsResync = false;
  /** Lines that arrived with no command in flight, for the quiet check of a resync. */
  private strayLines = 0;
  /** The modem profile's unprefixed unsolicited lines (start-up banners). */
  private banners: readonly string[] = [];
  private cmsOverrides: CmsOverrides = {};

  constructor(
    readonly transport: ModemTransport,
    private readonly resyncQuietMs = 200,
  ) {
    super();
    transport.on('data', (chunk) => this.onData(chunk));
    transport.on('connect', () => {
      this.parser.reset();
      this.payloadFor = undefined;
      this.emit('connect');
    });
    transport.on('disconnect', (error) => {
      const current = this.inflight;
      if (current) {
        const name = current.options.redactedCommand ?? current.command;
        const dropped = new ModemDisconnectedError(`${transport.url} dropped during ${name}`, {
          cause: error,
        });
        dropped.maybeSent = current.body !== undefined && current.stage === 'final';
        this.finish(current, dropped);
      }
      this.emit('disconnect', error);
    });
  }

  get busy(): boolean {
    return this.inflight !== undefined;
  }

  /** What the modem profile says about unsolicited banners and vendor error codes. */
  configure(profile: { urcLines: readonly string[]; cmsErrors: CmsOverrides }): void {
    this.banners = profile.urcLines;
    this.cmsOverrides = profile.cmsErrors;
  }

  /**
   * One plain `AT` with a short timeout and no resync first: whether the modem answers at all. Must be called
   * while holding `lock`. A late answer from a command abandoned earlier counts too (the modem is alive); the
   * next `run` resyncs anyway.
   */
  async ping(timeoutMs: number): Promise<boolean> {
    try {
      await this.runOne('AT', { timeoutMs });
      return true;
    } catch {
      return false;
    }
  }

  /** Runs `fn` with the channel to itself: no other caller's command interleaves. */
  lock<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Sends one command and resolves with its information lines; must be called while holding `lock`. */
  async run(command: string, options: ExecOptions): Promise<string[]> {
    if (this.needsResync) await this.resync(Math.min(options.timeoutMs, 5_000));
    return this.runOne(command, options);
  }

  /**
   * Brings replies back in step after a timeout: `AT` until one OK is followed by silence, so a late reply
   * to the abandoned command is never taken as the answer to the next one.
   */
  private async resync(timeoutMs: number): Promise<void> {
    this.needsResync = false;
    for (let i = 0; i < 5; i++) {
      await this.runOne('AT', { timeoutMs });
      const before = this.strayLines;
      await new Promise((r) => setTimeout(r, this.resyncQuietMs));
      if (this.strayLines === before) return;
    }
    this.needsResync = true;
    throw new ModemReplyError('modem keeps answering out of turn');
  }

  private runOne(command: string, options: ExecOptions): Promise<string[]> {
    if (this.inflight)
      return Promise.reject(new ModemReplyError(`${command} issued while ${this.inflight.command} runs`));
    return new Promise<string[]>((resolve, reject) => {
      const p: Inflight = {
        command,
        prefix: responsePrefix(command),
        body: options.body,
        stage: options.body === undefined ? 'final' : 'prompt',
        lines: [],
        echoes: [command.toUpperCase()],
        options,
        timer: undefined,
        watchTimer: undefined,
        probes: 0,
        resolve,
        reject,
      };
      this.inflight = p;
      this.arm(
        p,
        options.body === undefined ? options.timeoutMs : (options.promptTimeoutMs ?? options.timeoutMs),
      );
      this.write(p, `${command}\r`, options.redactedCommand ?? command);
    });
  }

  /** `lock` + `run` for a single command. */
  exec(command: string, options: ExecOptions): Promise<string[]> {
    return this.lock(() => this.run(command, options));
  }

  private write(p: Inflight, data: string, traced: string): void {
    try {
      this.emit('trace', 'tx', traced);
      this.transport.write(data);
    } catch (err) {
      this.finish(
        p,
        err instanceof ModemDisconnectedError ? err : new ModemDisconnectedError(String(err), { cause: err }),
      );
    }
  }

  private arm(p: Inflight, ms: number): void {
    clearTimeout(p.timer);
    p.timer = setTimeout(() => {
      if (this.inflight !== p) return;
      // A modem left at the prompt would swallow the next command as message text; ESC cancels it.
      if (p.body !== undefined) {
        try {
          this.transport.write(ESC);
        } catch {
          // disconnected: nothing to cancel
        }
      }
      this.needsResync = true;
      const error = new AtTimeoutError(p.options.redactedCommand ?? p.command, ms);
      error.maybeSent = p.body !== undefined && p.stage === 'final';
      this.finish(p, error);
    }, ms);
  }

  /** After the body is typed: probe the modem each time the answer is `afterMs` overdue. */
  private watch(p: Inflight): void {
    const watch = p.options.watch;
    if (!watch || p.body === undefined) return;
    clearTimeout(p.watchTimer);
    p.watchTimer = setTimeout(() => {
      if (this.inflight !== p) return;
      p.probes++;
      this.write(p, 'AT\r', 'AT');
      p.watchTimer = setTimeout(() => {
        if (this.inflight !== p) return;
        const error = new ModemHungError(p.options.redactedCommand ?? p.command, watch.probeMs);
        error.maybeSent = p.stage === 'final';
        this.needsResync = true;
        this.finish(p, error);
      }, watch.probeMs);
    }, watch.afterMs);
  }

  private finish(p: Inflight, result: string[] | ModemError): void {
    if (this.inflight !== p) return;
    clearTimeout(p.timer);
    clearTimeout(p.watchTimer);
    // An unanswered probe's OK may still come, and must not be taken as the next command's answer.
    if (p.probes > 0) this.needsResync = true;
    this.inflight = undefined;
    if (Array.isArray(result)) p.resolve(result);
    else p.reject(result);
  }

  private onData(chunk: Buffer): void {
    for (const token of this.parser.push(chunk)) {
      if (token.type === 'prompt') this.onPrompt();
      else this.onLine(token.text);
    }
  }

  private onPrompt(): void {
    const p = this.inflight;
    if (p?.stage !== 'prompt' || p.body === undefined) return;
    p.stage = 'final';
    p.echoes.push(p.body.toUpperCase());
    if (p.options.watch) p.echoes.push('AT');
    this.arm(p, p.options.timeoutMs);
    this.watch(p);
    this.write(p, `${p.body}${CTRL_Z}`, p.options.redactedCommand ? '<body>' : p.body);
  }

  private onLine(raw: string): void {
    // Echoed Ctrl-Z/ESC and other control bytes are not part of any reply.
    const line = stripControl(raw).trim();
    if (line.length === 0) return;

    if (this.payloadFor) {
      const kind = this.payloadFor;
      this.payloadFor = undefined;
      if (kind === 'cds') this.onStatusReportPdu(line);
      return;
    }

    const p = this.inflight;
    if (p) {
      const upper = line.toUpperCase();
      if (p.echoes.includes(upper)) {
        this.emit('trace', 'rx', '<echo>');
        return;
      }
      this.emit('trace', 'rx', line);
      const final = parseFinalResult(line);
      if (final) {
        this.onFinal(p, final);
        return;
      }
      if (p.prefix && upper.startsWith(`${p.prefix}:`)) {
        p.lines.push(line);
        return;
      }
      if (!looksUnsolicited(line, this.banners)) {
        p.lines.push(line);
        return;
      }
    } else {
      this.strayLines++;
      this.emit('trace', 'rx', line);
    }
    this.onUnsolicited(line);
  }

  private onFinal(p: Inflight, final: NonNullable<ReturnType<typeof parseFinalResult>>): void {
    const name = p.options.redactedCommand ?? p.command;
    switch (final.type) {
      case 'ok':
        if (
          p.probes > 0 &&
          p.stage === 'final' &&
          p.prefix &&
          !p.lines.some((l) => l.toUpperCase().startsWith(`${p.prefix}:`))
        ) {
          // the probe's answer: the modem is alive and still waiting for the network
          p.probes--;
          this.watch(p);
          return;
        }
        if (p.stage === 'prompt') this.finish(p, new ModemReplyError(`${name}: OK without a prompt`));
        else this.finish(p, p.lines);
        return;
      case 'error':
        this.finish(p, new AtCommandError(name, p.options.errorKind ?? 'modem'));
        return;
      case 'cms': {
        const c = this.cmsOverrides[final.code] ?? classifyCms(final.code);
        this.finish(p, new CmsError(final.code, c.kind, final.code < 0 ? final.text : c.text, name));
        return;
      }
      case 'cme': {
        const c = classifyCme(final.code);
        this.finish(p, new CmeError(final.code, c.kind, final.code < 0 ? final.text : c.text, name));
        return;
      }
      case 'other':
        this.finish(p, new ModemReplyError(`${name}: ${final.text}`));
        return;
    }
  }

  private onUnsolicited(line: string): void {
    if (HEADER_WITH_PAYLOAD.test(line)) {
      if (parseCdsPduHeader(line) !== undefined) {
        this.payloadFor = 'cds';
        return;
      }
      const text = parseCdsText(line);
      if (text) {
        this.emit('statusReport', { ...text, recipient: undefined, at: new Date() });
        return;
      }
      // +CMT / +CBM: an incoming message we do not handle; its payload line must not look like a reply.
      this.payloadFor = 'skip';
      this.emit('urc', line);
      return;
    }
    const registration = parseCregUrc(line);
    if (registration) {
      this.emit('registration', registration);
      return;
    }
    this.emit('urc', line);
  }

  private onStatusReportPdu(line: string): void {
    try {
      const report = decodeStatusReport(line);
      this.emit('statusReport', {
        messageReference: report.messageReference,
        status: report.status,
        recipient: report.recipient,
        at: report.dischargedAt,
      });
    } catch (err) {
      this.emit('badReport', line, err instanceof Error ? err : new Error(String(err)));
    }
  }
}
