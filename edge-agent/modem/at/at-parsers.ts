/**
 * Pure parsers for the information and result lines of 3GPP TS 27.005 / 27.007. Each returns undefined for a
 * line it does not recognise, so a bad modem reply becomes a typed error upstream, never an exception here.
 */

export type FinalResult =
  | { type: 'ok' }
  | { type: 'error' }
  | { type: 'cms'; code: number; text: string }
  | { type: 'cme'; code: number; text: string }
  | { type: 'other'; text: string };

/** `+CME ERROR: <text>` under AT+CMEE=2, mapped back to numbers for the few a sender cares about. */
const CME_TEXT: Record<string, number> = {
  'sim not inserted': 10,
  'sim pin required': 11,
  'sim puk required': 12,
  'sim failure': 13,
  'sim busy': 14,
  'incorrect password': 16,
  'no network service': 30,
  'network timeout': 31,
};

export function parseFinalResult(line: string): FinalResult | undefined {
  const upper = line.toUpperCase();
  if (upper === 'OK' || upper === '0') return { type: 'ok' };
  if (upper === 'ERROR' || upper === '4') return { type: 'error' };
  if (upper === 'NO CARRIER' || upper === 'BUSY' || upper === 'NO ANSWER' || upper === 'NO DIALTONE') {
    return { type: 'other', text: line };
  }
  const m = /^\+(CMS|CME) ERROR:\s*(.*)$/i.exec(line);
  if (!m) return undefined;
  const kind = m[1]!.toLowerCase() as 'cms' | 'cme';
  const rest = m[2]!.trim();
  const num = /^\d+$/.test(rest) ? Number(rest) : kind === 'cme' ? CME_TEXT[rest.toLowerCase()] : undefined;
  return { type: kind, code: num ?? -1, text: rest };
}

/** `+CSQ: <rssi>,<ber>`; rssi 0–31, or 99 for unknown. */
export function parseCsq(line: string): { rssi: number; ber: number } | undefined {
  const m = /^\+CSQ:\s*(\d+)\s*,\s*(\d+)/i.exec(line);
  if (!m) return undefined;
  const rssi = Number(m[1]);
  const ber = Number(m[2]);
  if (rssi > 99 || ber > 99) return undefined;
  return { rssi, ber };
}

export type Registration = 'home' | 'roaming' | 'searching' | 'denied' | 'unknown' | 'not_registered';

/** 27.007 §7.2 `<stat>`; 6–7 are SMS-only registrations, which are enough to send. */
export function registrationFromStat(stat: number): Registration {
  switch (stat) {
    case 1:
    case 6:
    case 9:
      return 'home';
    case 5:
    case 7:
    case 10:
      return 'roaming';
    case 2:
      return 'searching';
    case 3:
      return 'denied';
    case 0:
    case 8:
      return 'not_registered';
    default:
      return 'unknown';
  }
}

export function canSend(registration: Registration): boolean {
  return registration === 'home' || registration === 'roaming';
}

/** The answer to `AT+CREG?`: `+CREG: <n>,<stat>[,<lac>,<ci>[,<AcT>]]`. */
export function parseCregResponse(line: string): Registration | undefined {
  const m = /^\+C(?:E|G)?REG:\s*(\d+)\s*,\s*(\d+)/i.exec(line);
  if (!m) return undefined;
  return registrationFromStat(Number(m[2]));
}

/** The unsolicited form: `+CREG: <stat>[,<lac>,<ci>[,<AcT>]]`. */
export function parseCregUrc(line: string): Registration | undefined {
  const m = /^\+CREG:\s*(\d+)\s*(?:,\s*"|$)/i.exec(line);
  if (!m) return undefined;
  return registrationFromStat(Number(m[1]));
}

/** `+COPS: <mode>[,<format>,"<oper>"[,<AcT>]]`; undefined operator when not registered. */
export function parseCops(line: string): { operator: string | null } | undefined {
  const m = /^\+COPS:\s*(\d+)(?:\s*,\s*(\d+)\s*,\s*"([^"]*)")?/i.exec(line);
  if (!m) return undefined;
  const name = m[3]?.trim();
  return { operator: name ? name.slice(0, 64) : null };
}

export type PinState = 'READY' | 'SIM PIN' | 'SIM PUK' | 'SIM PIN2' | 'SIM PUK2' | 'PH-SIM PIN' | string;

export function parseCpin(line: string): PinState | undefined {
  const m = /^\+CPIN:\s*(.+)$/i.exec(line);
  return m ? m[1]!.trim().toUpperCase() : undefined;
}

/** `+CMGS: <mr>[,<scts>]`. */
export function parseCmgs(line: string): number | undefined {
  const m = /^\+CMGS:\s*(\d+)/i.exec(line);
  if (!m) return undefined;
  const mr = Number(m[1]);
  return mr <= 255 ? mr : undefined;
}

/** `+CSCA: "<sca>",<tosca>`; undefined when the SMSC is not set. */
export function parseCsca(line: string): string | undefined {
  const m = /^\+CSCA:\s*"([^"]*)"/i.exec(line);
  const number = m?.[1]?.trim();
  return number ? number : undefined;
}

/** `+CDS: <length>` in PDU mode (the PDU follows on the next line). */
export function parseCdsPduHeader(line: string): number | undefined {
  const m = /^\+CDS:\s*(\d+)\s*$/i.exec(line);
  return m ? Number(m[1]) : undefined;
}

/** `+CDS: <fo>,<mr>,[<ra>],[<tora>],<scts>,<dt>,<st>` in text mode. */
export function parseCdsText(line: string): { messageReference: number; status: number } | undefined {
  const m = /^\+CDS:\s*(\d+)\s*,\s*(\d+)\s*,.*,\s*(\d+)\s*$/i.exec(line);
  if (!m) return undefined;
  const mr = Number(m[2]);
  const st = Number(m[3]);
  if (mr > 255 || st > 255) return undefined;
  return { messageReference: mr, status: st };
}

/** The name a command's own information lines carry: `AT+CSQ` → `+CSQ`, `AT^SYSINFO` → `^SYSINFO`. */
export function responsePrefix(command: string): string | undefined {
  const m = /^AT([+^$%][A-Z0-9]+)/i.exec(command.trim());
  return m ? m[1]!.toUpperCase() : undefined;
}
