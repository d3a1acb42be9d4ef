/**
 * What the simulated modem answers to each command of 3GPP TS 27.007 / 27.005 it knows. Unknown commands get
 * `ERROR`, as on real hardware.
 */
import { createHash } from 'node:crypto';
import { fromUcs2Hex } from '../modem/sms/text-mode.ts';
import type { BodyTarget } from './modem-session.ts';
import { parseRanges } from './profiles.ts';
import type { SimulatedModem } from './simulated-modem.ts';

export class SimError extends Error {
  constructor(
    readonly type: 'error' | 'cms' | 'cme',
    readonly code = 0,
  ) {
    super(type === 'error' ? 'ERROR' : `${type} ${code}`);
  }
}

export type CommandResult = { kind: 'lines'; lines: string[] } | { kind: 'prompt'; target: BodyTarget };

const lines = (...l: string[]): CommandResult => ({ kind: 'lines', lines: l });
const OK = lines();

/** `+CMGF=1` → { name: '+CMGF', op: '=', args: '1' } */
function split(command: string): { name: string; op: '' | '?' | '=' | '=?'; args: string } {
  const m = /^([+^]?&?[A-Z]+)(=\?|\?|=)?(.*)$/i.exec(command);
  if (!m) return { name: command.toUpperCase(), op: '', args: '' };
  return { name: m[1]!.toUpperCase(), op: (m[2] ?? '') as '' | '?' | '=' | '=?', args: m[3]!.trim() };
}

function intArgs(args: string): number[] {
  return args.split(',').map((a) => (a.trim() === '' ? Number.NaN : Number(a.trim())));
}

function quoted(args: string): string | undefined {
  const m = /^"([^"]*)"/.exec(args.trim());
  return m ? m[1] : undefined;
}

function requireSim(modem: SimulatedModem, type: 'cms' | 'cme'): void {
  if (modem.pinState === 'SIM PIN') throw new SimError(type, type === 'cms' ? 311 : 11);
  if (modem.pinState === 'SIM PUK') throw new SimError(type, type === 'cms' ? 316 : 12);
}

function identity(modem: SimulatedModem, digits: number): string {
  const hash = createHash('sha256').update(modem.name).digest();
  let out = '';
  for (let i = 0; out.length < digits; i++) out += String((hash[i % hash.length] ?? 0) % 10);
  return out;
}

export function handleCommand(modem: SimulatedModem, command: string): CommandResult {
  const { name, op, args } = split(command);
  const s = modem.settings;
  switch (name) {
    case '':
      return OK;
    case 'E':
      if (args !== '' && args !== '0' && args !== '1') throw new SimError('error');
      s.echo = args === '1';
      return OK;
    case 'V':
    case 'Q':
    case 'X':
    case '&C':
    case '&D':
    case '&K':
    case '&W':
      return OK;
    case 'Z':
    case '&F':
      modem.reset();
      return OK;
    case 'I':
      return lines(`SMSPass GSM modem simulator (${modem.name})`, 'Revision: SIM-1.0');
    case '+CGMI':
    case '+GMI':
      return lines(modem.profile.manufacturer);
    case '+CGMM':
    case '+GMM':
      return lines(modem.profile.model);
    case '+CGMR':
    case '+GMR':
      return lines(modem.profile.revision);
    case '+CFUN':
      return cfun(modem, op, args);
    case '+CGSN':
      return lines(`35${identity(modem, 13)}`);
    case '+CIMI':
      requireSim(modem, 'cme');
      return lines(`23801${identity(modem, 10)}`);
    case '+CMEE':
      if (op === '?') return lines(`+CMEE: ${s.cmee}`);
      if (op === '=?') return lines('+CMEE: (0-2)');
      if (op === '=' && ['0', '1', '2'].includes(args)) {
        s.cmee = Number(args);
        return OK;
      }
      throw new SimError('cme', 3);
    case '+CPIN':
      return cpin(modem, op, args);
    case '+CREG': {
      if (op === '?') {
        const home = modem.profile.roaming ? 5 : 1;
        const stat = modem.pinState !== 'READY' || s.cfun !== 1 ? 0 : modem.registered ? home : 2;
        return lines(modem.profile.creg(s.cregN, stat));
      }
      if (op === '=?') return lines('+CREG: (0-2)');
      const [n] = intArgs(args);
      if (op === '=' && n !== undefined && n >= 0 && n <= 2) {
        s.cregN = n;
        return OK;
      }
      throw new SimError('cme', 3);
    }
    case '+CSQ':
      return lines(modem.registered ? `+CSQ: ${modem.options.signal ?? 21},99` : '+CSQ: 99,99');
    case '+COPS':
      if (op === '?') {
        requireSim(modem, 'cme');
        return lines(
          modem.registered ? `+COPS: 0,0,"${modem.options.operator ?? 'SIM Operator'}",7` : '+COPS: 0',
        );
      }
      return OK;
    case '+CMGF':
      if (op === '?') return lines(`+CMGF: ${s.cmgf}`);
      if (op === '=?') return lines(modem.options.textModeOnly ? '+CMGF: (1)' : '+CMGF: (0,1)');
      if (args === '1' || (args === '0' && !modem.options.textModeOnly)) {
        s.cmgf = Number(args);
        return OK;
      }
      throw new SimError('cms', 303);
    case '+CSCA':
      if (op === '?') {
        requireSim(modem, 'cms');
        return lines(s.smsc ? `+CSCA: "${s.smsc}",${s.smsc.startsWith('+') ? 145 : 129}` : '+CSCA: "",129');
      }
      if (op === '=') {
        const number = quoted(args);
        if (number === undefined || !/^\+?\d{1,20}$/.test(number)) throw new SimError('cms', 304);
        s.smsc = number;
        return OK;
      }
      throw new SimError('cms', 302);
    case '+CSCS':
      if (op === '?') return lines(`+CSCS: "${s.cscs}"`);
      if (op === '=?') return lines('+CSCS: ("GSM","IRA","UCS2")');
      if (op === '=') {
        const charset = quoted(args)?.toUpperCase();
        if (charset === 'GSM' || charset === 'IRA' || charset === 'UCS2') {
          s.cscs = charset;
          return OK;
        }
      }
      throw new SimError('cme', 4);
    case '+CSMP': {
      if (op === '?') return lines(`+CSMP: ${s.csmp.fo},${s.csmp.vp},${s.csmp.pid},${s.csmp.dcs}`);
      const [fo, vp, pid, dcs] = intArgs(args);
      if (
        op !== '=' ||
        [fo, vp, pid, dcs].some((v) => v === undefined || Number.isNaN(v) || v < 0 || v > 255)
      ) {
        throw new SimError('cms', 305);
      }
      s.csmp = { fo: fo!, vp: vp!, pid: pid!, dcs: dcs! };
      return OK;
    }
    case '+CNMI': {
      if (op === '?') return lines(`+CNMI: 2,1,0,${s.cnmiDs},0`);
      if (op === '=?') return lines(modem.profile.cnmiTest);
      const values = intArgs(args);
      const [mode, , , ds] = values;
      if (op !== '=' || mode === undefined || Number.isNaN(mode) || mode > 3) throw new SimError('cms', 302);
      const allowed = parseRanges(modem.profile.cnmiTest);
      if (values.some((v, i) => !Number.isNaN(v) && allowed[i] !== undefined && !allowed[i]!.has(v))) {
        throw new SimError('cms', 303);
      }
      s.cnmiDs = ds === undefined || Number.isNaN(ds) ? 0 : ds;
      // after the OK, as a modem flushes the reports it buffered while no client listened (bfr 0)
      if (s.cnmiDs === 1) setTimeout(() => modem.flushHeldReports(), 0);
      return OK;
    }
    case '+CSMS':
      if (op === '?') return lines('+CSMS: 0,1,1,1');
      return lines('+CSMS: 1,1,1');
    case '+CPMS':
      return cpms(modem, op, args);
    case '+CMGL':
      return cmgl(modem, op, args);
    case '+CMGS':
      return cmgs(modem, op, args);
    default:
      if (modem.profile.vendorCommands.includes(name)) return OK;
      throw new SimError('error');
  }
}

/** 27.007 §8.2: 1 full functionality, 0 minimum, 4 radio off; an optional second field 1 resets first. */
function cfun(modem: SimulatedModem, op: string, args: string): CommandResult {
  if (op === '?') return lines(`+CFUN: ${modem.settings.cfun}`);
  if (op === '=?') return lines('+CFUN: (0,1,4),(0,1)');
  const [fun, rst] = intArgs(args);
  if (
    op !== '=' ||
    fun === undefined ||
    ![0, 1, 4].includes(fun) ||
    (rst !== undefined && rst !== 0 && rst !== 1)
  ) {
    throw new SimError('cme', 3);
  }
  if (rst === 1) modem.reset();
  modem.settings.cfun = fun;
  return OK;
}

const STORAGES = ['SM', 'ME'];

/** 27.005 §3.2.2: the three storages, with used and total counts (nothing is ever stored here). */
function cpms(modem: SimulatedModem, op: string, args: string): CommandResult {
  if (op === '=?') return lines(modem.profile.cpmsTest);
  const show = () => modem.settings.cpms.map((m) => `"${m}",0,30`).join(',');
  if (op === '?') return lines(`+CPMS: ${show()}`);
  if (op !== '=') throw new SimError('cms', 302);
  requireSim(modem, 'cms');
  const wanted = args.split(',').map((a) => a.trim().replace(/^"|"$/g, '').toUpperCase());
  if (wanted.length < 1 || wanted.length > 3 || wanted.some((m) => !STORAGES.includes(m))) {
    throw new SimError('cms', 302);
  }
  const [mem1, mem2, mem3] = modem.settings.cpms;
  modem.settings.cpms = [wanted[0] ?? mem1, wanted[1] ?? mem2, wanted[2] ?? mem3];
  return lines(`+CPMS: ${modem.settings.cpms.map(() => '0,30').join(',')}`);
}

const TEXT_STATS = ['"REC UNREAD"', '"REC READ"', '"STO UNSENT"', '"STO SENT"', '"ALL"'];

/** 27.005 §3.4.2: lists stored messages; this modem stores none, so a valid list is empty. */
function cmgl(modem: SimulatedModem, op: string, args: string): CommandResult {
  const text = modem.settings.cmgf === 1;
  if (op === '=?') return lines(text ? `+CMGL: (${TEXT_STATS.join(',')})` : '+CMGL: (0-4)');
  requireSim(modem, 'cms');
  if (op === '') return OK;
  if (op !== '=') throw new SimError('cms', 302);
  const stat = args.trim().toUpperCase();
  const valid = text ? TEXT_STATS.includes(stat) : /^[0-4]$/.test(stat);
  if (!valid) throw new SimError('cms', text ? 305 : 304);
  return OK;
}

function cpin(modem: SimulatedModem, op: string, args: string): CommandResult {
  if (op === '?') return lines(`+CPIN: ${modem.pinState}`);
  if (op !== '=') throw new SimError('cme', 3);
  const pin = quoted(args) ?? args;
  if (modem.pinState === 'READY') throw new SimError('cme', 3);
  if (modem.pinState === 'SIM PUK') throw new SimError('cme', 12);
  const fault = modem.fault;
  const expected = fault?.kind === 'sim_pin' ? (fault.pin ?? '1234') : '1234';
  if (pin === expected) {
    modem.pinState = 'READY';
    return OK;
  }
  modem.pinAttempts--;
  if (modem.pinAttempts <= 0) modem.pinState = 'SIM PUK';
  throw new SimError('cme', 16);
}

function cmgs(modem: SimulatedModem, op: string, args: string): CommandResult {
  if (op !== '=') throw new SimError('cms', 302);
  requireSim(modem, 'cms');
  if (modem.settings.cmgf === 0) {
    const length = Number(args);
    if (!Number.isInteger(length) || length < 7 || length > 176) throw new SimError('cms', 304);
    return { kind: 'prompt', target: { kind: 'pdu', length } };
  }
  const raw = quoted(args);
  if (raw === undefined) throw new SimError('cms', 305);
  const to = modem.settings.cscs === 'UCS2' ? fromUcs2Hex(raw) : raw;
  if (to === undefined || !/^\+?[0-9*#]{1,20}$/.test(to)) throw new SimError('cms', 305);
  return { kind: 'prompt', target: { kind: 'text', to } };
}
