/**
 * Modem profiles: what differs between modem models, as data. The driver identifies the modem at init
 * (`AT+CGMI`, `AT+CGMM`, `AT+CGMR`) and takes the first profile whose `match` fits, or the one the configuration
 * names; `generic` (plain 3GPP TS 27.005 / 27.007) is the fallback. Forms of a setting that the driver tries in
 * turn (AT+CMGF, AT+CNMI) live in quirks.ts; a profile only reorders or replaces them.
 *
 * To add a model: append a profile with its manufacturer/model pattern and what its AT manual documents, and a
 * transcript under test/edge-agent/modem/fixtures/ that shows the driver picking it.
 */
import type { ModemErrorKind } from './errors.ts';
import { CNMI_CANDIDATES } from './quirks.ts';

export interface ModemIdentity {
  manufacturer: string | null;
  model: string | null;
  revision: string | null;
}

export interface ModemTimeouts {
  /** Any command but AT+CMGS; also the wait for AT+CMGS's `> ` prompt. */
  commandMs: number;
  /**
   * From Ctrl-Z to `+CMGS`: the modem waits for the network's RP-ACK. 27.005 sets no bound; the value is the
   * maximum response time the model's AT manual gives.
   */
  sendMs: number;
  /** A plain `AT` while the modem is blocked or overdue: a live modem answers it at once. */
  probeMs: number;
}

export interface ModemProfile {
  name: string;
  /** Tested against `${manufacturer} ${model}` from AT+CGMI / AT+CGMM. */
  match?: RegExp;
  /** Typed after identification, each must answer OK; e.g. switching vendor URCs off. */
  initCommands: readonly string[];
  /** AT+CNMI forms that route status reports as +CDS, tried in turn. */
  cnmi: readonly string[];
  /**
   * Unsolicited lines this model sends without a `+`/`^` prefix (start-up banners), which would otherwise be
   * taken as an information line of the command in flight. Matched as line prefixes.
   */
  urcLines: readonly string[];
  /** Vendor `+CMS ERROR` codes (512 and up) and what the pool should make of them. */
  cmsErrors: Readonly<Record<number, { kind: ModemErrorKind; text: string }>>;
  timeouts: ModemTimeouts;
}

const GENERIC_TIMEOUTS: ModemTimeouts = {
  commandMs: 5_000,
  // SIMCom's SIM800 manual gives 60 s for AT+CMGS, the shortest bound among the common modules: a modem
  // nobody profiled gets that, and a hung one is found by the probe long before.
  sendMs: 60_000,
  probeMs: 2_000,
};

export const GENERIC_PROFILE: ModemProfile = {
  name: 'generic',
  initCommands: [],
  cnmi: CNMI_CANDIDATES,
  urcLines: [],
  cmsErrors: {},
  timeouts: GENERIC_TIMEOUTS,
};

export const MODEM_PROFILES: readonly ModemProfile[] = [
  {
    // Quectel EC2x/EG9x/BG9x AT Commands Manual: AT+CMGS "maximum response time 120 s, determined by network".
    name: 'quectel',
    match: /quectel/i,
    initCommands: [],
    cnmi: CNMI_CANDIDATES,
    urcLines: ['RDY', 'POWERED DOWN'],
    cmsErrors: {},
    timeouts: { ...GENERIC_TIMEOUTS, sendMs: 120_000 },
  },
  {
    // SIM800 Series AT Command Manual: AT+CMGS max response time 60 s; banners after power-up; CMS 515 is
    // "please wait, init or command processing in progress".
    name: 'simcom',
    match: /simcom|^sim\d|\bsim(800|900|7[0-9]{3})/i,
    initCommands: [],
    cnmi: CNMI_CANDIDATES,
    urcLines: ['RDY', 'Call Ready', 'SMS Ready', 'NORMAL POWER DOWN', 'UNDER-VOLTAGE'],
    cmsErrors: { 515: { kind: 'temporary', text: 'please wait, init or command processing in progress' } },
    timeouts: GENERIC_TIMEOUTS,
  },
  {
    // Huawei (E3372, E1752, ME909): ^RSSI/^MODE/^BOOT reports every few seconds on the AT port unless
    // switched off; AT^CURC=0 does that, so the host is not woken for nothing.
    name: 'huawei',
    match: /huawei/i,
    initCommands: ['AT^CURC=0'],
    cnmi: CNMI_CANDIDATES,
    urcLines: [],
    cmsErrors: {},
    timeouts: GENERIC_TIMEOUTS,
  },
];

export const PROFILE_NAMES = ['auto', GENERIC_PROFILE.name, ...MODEM_PROFILES.map((p) => p.name)] as const;

export function profileByName(name: string): ModemProfile | undefined {
  if (name === GENERIC_PROFILE.name) return GENERIC_PROFILE;
  return MODEM_PROFILES.find((p) => p.name === name);
}

/** The profile for an identified modem; `generic` when nothing matches or the modem would not say. */
export function profileFor(identity: ModemIdentity): ModemProfile {
  const text = `${identity.manufacturer ?? ''} ${identity.model ?? ''}`.trim();
  if (text === '') return GENERIC_PROFILE;
  return MODEM_PROFILES.find((p) => p.match?.test(text)) ?? GENERIC_PROFILE;
}

/** The information text of an identification command: `+CGMI: Quectel` and `Quectel` alike, trimmed. */
export function identificationText(lines: string[]): string | null {
  const text = lines
    .map((l) => l.replace(/^\+CGM[IMR]:\s*/i, '').trim())
    .filter((l) => l.length > 0)
    .join(' ')
    .replace(/\s+/g, ' ');
  return text === '' ? null : text.slice(0, 64);
}
