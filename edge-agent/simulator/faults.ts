/** Faults a simulated modem can be told to show, one at a time. */

export type SimulatorFault =
  /** Every AT+CMGS ends with `+CMS ERROR: <code>` (plain `ERROR` while AT+CMEE=0). */
  | { kind: 'cms_error'; code: number }
  /** Not registered: AT+CREG? says searching, AT+CSQ says 99, AT+CMGS fails with CMS 331. */
  | { kind: 'no_network' }
  /** The SIM asks for its PIN (default `1234`) until it is entered; three wrong tries lock it behind its PUK. */
  | { kind: 'sim_pin'; pin?: string }
  /**
   * Reads everything, answers nothing, sends nothing (a send in progress does not go out); for `seconds`, then
   * it answers again, or for good without it.
   */
  | { kind: 'hang'; seconds?: number }
  /**
   * Line noise. By default noise lines (high-bit bytes) surround every reply, which a careful client survives;
   * with `everything`, each byte out is replaced, as with a wrong baud rate.
   */
  | { kind: 'garbled'; everything?: boolean }
  /** Open connections are dropped now, and every connection is dropped as soon as a command arrives. */
  | { kind: 'disconnect' }
  /** Every reply waits `delayMs` first. */
  | { kind: 'slow'; delayMs: number };

export type SimulatorFaultKind = SimulatorFault['kind'];

/** Reads a fault from CLI/JSON input; returns undefined for anything malformed. */
export function parseFault(value: unknown): SimulatorFault | null | undefined {
  if (value === null) return null;
  if (typeof value !== 'object') return undefined;
  const v = value as Record<string, unknown>;
  switch (v.kind) {
    case 'cms_error':
      return typeof v.code === 'number' && Number.isInteger(v.code) && v.code >= 0
        ? { kind: 'cms_error', code: v.code }
        : undefined;
    case 'hang':
      if (v.seconds === undefined) return { kind: 'hang' };
      return typeof v.seconds === 'number' && v.seconds > 0
        ? { kind: 'hang', seconds: v.seconds }
        : undefined;
    case 'no_network':
    case 'disconnect':
      return { kind: v.kind };
    case 'sim_pin':
      return typeof v.pin === 'string' ? { kind: 'sim_pin', pin: v.pin } : { kind: 'sim_pin' };
    case 'garbled':
      return { kind: 'garbled', everything: v.everything === true };
    case 'slow':
      return typeof v.delayMs === 'number' && v.delayMs >= 0
        ? { kind: 'slow', delayMs: v.delayMs }
        : undefined;
    default:
      return undefined;
  }
}
