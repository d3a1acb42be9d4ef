/**
 * The Hayes / 27.005 / 27.007 dialect of a simulated modem on one byte stream: echo, command lines, the
 * `> ` prompt and message input ended by Ctrl-Z (ESC cancels), final results, and faults.
 */
import { randomInt } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { PduDecodeError } from '../modem/at/errors.ts';
import { decodeSubmit } from '../modem/sms/pdu-decode.ts';
import { fromUcs2Hex } from '../modem/sms/text-mode.ts';
import { handleCommand, SimError } from './modem-commands.ts';
import type { SimulatedModem } from './simulated-modem.ts';

const CTRL_Z = 0x1a;
const ESC = 0x1b;
const MAX_INPUT = 4096;

export type BodyTarget = { kind: 'pdu'; length: number } | { kind: 'text'; to: string };

const CME_TEXT: Record<number, string> = {
  3: 'operation not allowed',
  4: 'operation not supported',
  11: 'SIM PIN required',
  12: 'SIM PUK required',
  16: 'incorrect password',
  30: 'no network service',
};

export class ModemSession {
  private input = '';
  private body: { target: BodyTarget; text: string } | undefined;
  /** Command lines run one after another, as a modem ignores nothing but answers in order. */
  private work: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly onData = (chunk: Buffer) => this.receive(chunk);

  constructor(
    private readonly modem: SimulatedModem,
    private readonly stream: Duplex,
  ) {
    stream.on('data', this.onData);
    stream.on('error', () => this.destroy());
    stream.once('close', () => {
      this.closed = true;
    });
  }

  detach(): void {
    this.closed = true;
    this.stream.off('data', this.onData);
  }

  destroy(): void {
    this.closed = true;
    this.stream.destroy();
  }

  /** Forgets a half-typed line or message body. */
  resetInput(): void {
    this.input = '';
    this.body = undefined;
  }

  /** Writes an unsolicited code between replies; a hung modem sends nothing. */
  unsolicited(text: string): void {
    if (this.modem.fault?.kind === 'hang') return;
    this.write(text);
  }

  private write(text: string): void {
    if (this.closed || this.stream.destroyed) return;
    let out = text;
    if (this.modem.fault?.kind === 'garbled' && this.modem.fault.everything) {
      out = Array.from(text, () => String.fromCharCode(0x80 + randomInt(0x80))).join('');
    }
    this.modem.record('out', out);
    this.stream.write(Buffer.from(out, 'latin1'));
  }

  private receive(chunk: Buffer): void {
    if (this.closed) return;
    const text = chunk.toString('latin1');
    this.modem.record('in', text);
    const fault = this.modem.fault;
    if (fault?.kind === 'hang') return;
    if (this.modem.settings.echo) this.write(text);
    for (const ch of text) this.receiveChar(ch);
  }

  private receiveChar(ch: string): void {
    const code = ch.charCodeAt(0);
    if (this.body) {
      if (code === CTRL_Z) {
        const { target, text } = this.body;
        this.body = undefined;
        this.enqueue(() => this.submit(target, text));
      } else if (code === ESC) {
        this.body = undefined;
        this.enqueue(async () => this.final('OK'));
      } else if (ch === '\r' && this.body.target.kind === 'text') {
        this.body.text += '\n';
        this.write('\r\n> ');
      } else if (this.body.text.length < MAX_INPUT * 2) {
        this.body.text += ch;
      }
      return;
    }
    if (ch === '\r') {
      const line = this.input.trim();
      this.input = '';
      if (line.length > 0) this.enqueue(() => this.commandLine(line));
    } else if (ch !== '\n' && this.input.length < MAX_INPUT) {
      this.input += ch;
    }
  }

  private enqueue(task: () => Promise<void>): void {
    this.work = this.work.then(task).catch(() => {
      // A reply that cannot be written (stream gone) ends the session; nothing else to do.
    });
  }

  private async reply(text: string): Promise<void> {
    const fault = this.modem.fault;
    if (fault?.kind === 'hang') return;
    if (fault?.kind === 'slow') await sleep(fault.delayMs);
    if (fault?.kind === 'garbled' && !fault.everything) this.write(`\r\n${noise()}\r\n`);
    this.write(text);
  }

  private final(result: string): Promise<void> {
    return this.reply(`\r\n${result}\r\n`);
  }

  private errorText(error: SimError): string {
    const { cmee } = this.modem.settings;
    if (error.type === 'error' || cmee === 0) return 'ERROR';
    if (error.type === 'cms') return `+CMS ERROR: ${error.code}`;
    return cmee === 2 ? `+CME ERROR: ${CME_TEXT[error.code] ?? 'unknown'}` : `+CME ERROR: ${error.code}`;
  }

  private async commandLine(line: string): Promise<void> {
    if (this.modem.fault?.kind === 'disconnect') {
      this.destroy();
      return;
    }
    if (!/^AT/i.test(line)) return; // a modem ignores lines that do not start with AT
    const commands = splitCommandLine(line.slice(2));
    if (commands === undefined) {
      await this.final(this.errorText(new SimError('error')));
      return;
    }
    const info: string[] = [];
    for (const command of commands) {
      try {
        const result = handleCommand(this.modem, command);
        if (result.kind === 'prompt') {
          if (info.length > 0) await this.reply(info.map((l) => `\r\n${l}\r\n`).join(''));
          this.body = { target: result.target, text: '' };
          await this.reply('\r\n> ');
          return;
        }
        info.push(...result.lines);
      } catch (err) {
        if (!(err instanceof SimError)) throw err;
        await this.final(this.errorText(err));
        return;
      }
    }
    await this.reply(`${info.map((l) => `\r\n${l}\r\n`).join('')}\r\nOK\r\n`);
  }

  private async submit(target: BodyTarget, typed: string): Promise<void> {
    const delay = this.modem.nextDelay();
    try {
      const part = this.parseBody(target, typed);
      if (delay > 0) await sleep(delay);
      const fault = this.modem.fault;
      // a modem that hung while the network was busy with it sent nothing and says nothing
      if (fault?.kind === 'hang') return;
      if (!this.modem.registered) throw new SimError('cms', 331);
      if (fault?.kind === 'cms_error') throw new SimError('cms', fault.code);
      const mr = await this.modem.submit(part);
      await this.reply(`\r\n+CMGS: ${mr}\r\n\r\nOK\r\n`);
    } catch (err) {
      if (!(err instanceof SimError)) throw err;
      await this.final(this.errorText(err));
    }
  }

  private parseBody(target: BodyTarget, typed: string) {
    const settings = this.modem.settings;
    if (target.kind === 'pdu') {
      const hex = typed.replace(/\s+/g, '');
      let decoded: ReturnType<typeof decodeSubmit>;
      try {
        decoded = decodeSubmit(hex);
      } catch (err) {
        if (err instanceof PduDecodeError) throw new SimError('cms', 304);
        throw err;
      }
      if (decoded.tpduLength !== target.length) throw new SimError('cms', 304);
      if (decoded.smsc === undefined && !settings.smsc) throw new SimError('cms', 330);
      return {
        to: decoded.to,
        text: decoded.text,
        flash: decoded.flash,
        statusReport: decoded.statusReport,
        mode: 'pdu' as const,
        concat: decoded.concat,
      };
    }
    const ucs2 = settings.cscs === 'UCS2';
    const text = ucs2 ? fromUcs2Hex(typed.replace(/\n/g, '')) : typed;
    if (text === undefined) throw new SimError('cms', 305);
    if (text.length > (ucs2 ? 70 : 160)) throw new SimError('cms', 305);
    if (!settings.smsc) throw new SimError('cms', 330);
    const dcs = settings.csmp.dcs;
    return {
      to: target.to,
      text,
      flash: (dcs & 0xf3) === 0x10,
      statusReport: (settings.csmp.fo & 0x20) !== 0,
      mode: 'text' as const,
    };
  }
}

/** `+CMGF=0;+CSQ` or `E0V1` after the `AT`: the commands on one line, or undefined if it cannot be read. */
export function splitCommandLine(rest: string): string[] | undefined {
  const commands: string[] = [];
  let i = 0;
  while (i < rest.length) {
    const ch = rest[i]!;
    if (ch === ';' || ch === ' ') {
      i++;
      continue;
    }
    if (ch === '+' || ch === '^') {
      let end = i + 1;
      let quoted = false;
      while (end < rest.length && (quoted || rest[end] !== ';')) {
        if (rest[end] === '"') quoted = !quoted;
        end++;
      }
      commands.push(rest.slice(i, end).trim());
      i = end;
      continue;
    }
    const basic = /^(&?[A-Z])(\d*)/i.exec(rest.slice(i));
    if (!basic) return undefined;
    commands.push(basic[0]);
    i += basic[0].length;
  }
  if (commands.length === 0) commands.push('');
  return commands;
}

function noise(): string {
  const length = 3 + randomInt(12);
  let out = '';
  for (let i = 0; i < length; i++) out += String.fromCharCode(0x80 + randomInt(0x80));
  return out;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
