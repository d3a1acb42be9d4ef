/**
 * The one grammar of a modem's address, shared by the config validator and the transports, so a config that
 * validates always opens. Kept apart from transport.ts so validating a config does not load `serialport`.
 */

export const DEFAULT_BAUD_RATE = 115_200;

export type TransportTarget =
  | { kind: 'tcp'; host: string; port: number }
  | { kind: 'serial'; path: string; baudRate: number };

/**
 * Reads `tcp://host:port` (a serial-to-IP converter such as a Moxa NPort), `serial:///dev/ttyUSB0?baud=115200`,
 * or a bare device path (`/dev/ttyUSB0`, `COM3`). Returns undefined for anything else.
 */
export function parseTransportUrl(url: string): TransportTarget | undefined {
  const trimmed = url.trim();
  if (/^\/dev\/[^\0\s]+$/.test(trimmed) || /^COM\d{1,3}$/i.test(trimmed))
    return { kind: 'serial', path: trimmed, baudRate: DEFAULT_BAUD_RATE };
  let parsed: URL;
  try {
    parsed = new URL(trimmed);
  } catch {
    return undefined;
  }
  if (parsed.protocol === 'tcp:') {
    const port = Number(parsed.port);
    const host = parsed.hostname.replace(/^\[|\]$/g, '');
    if (!host || !Number.isInteger(port) || port < 1 || port > 65535 || parsed.pathname !== '')
      return undefined;
    return { kind: 'tcp', host, port };
  }
  if (parsed.protocol === 'serial:') {
    const path = decodeURIComponent(parsed.pathname);
    const baudParam = parsed.searchParams.get('baud');
    if (!path || path === '/' || (baudParam !== null && !/^[1-9]\d{0,6}$/.test(baudParam))) return undefined;
    return { kind: 'serial', path, baudRate: baudParam === null ? DEFAULT_BAUD_RATE : Number(baudParam) };
  }
  return undefined;
}
