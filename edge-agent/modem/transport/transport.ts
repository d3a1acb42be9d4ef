/**
 * Transports to a modem: a local serial device through `serialport`, or a serial-to-IP converter (Moxa NPort
 * and the like, or the simulator) through `net`. Both reconnect with backoff after a cable pull or a reboot.
 */
import { existsSync, watch } from 'node:fs';
import net from 'node:net';
import { basename, dirname } from 'node:path';
import type { Duplex } from 'node:stream';
import type { SerialPort } from 'serialport';
import { ReconnectingTransport, type ReconnectingTransportOptions } from './reconnecting-transport.ts';
import type { ModemTransport } from './transport-types.ts';
import { DEFAULT_BAUD_RATE, parseTransportUrl } from './transport-url.ts';

export { ReconnectingTransport } from './reconnecting-transport.ts';
export type { ModemTransport, TransportEvents } from './transport-types.ts';
export { DEFAULT_BAUD_RATE, parseTransportUrl, type TransportTarget } from './transport-url.ts';

export interface TcpTransportOptions extends ReconnectingTransportOptions {
  connectTimeoutMs?: number;
}

export class TcpTransport extends ReconnectingTransport {
  constructor(
    readonly host: string,
    readonly port: number,
    options: TcpTransportOptions = {},
  ) {
    const connectTimeoutMs = options.connectTimeoutMs ?? 5_000;
    super(`tcp://${host}:${port}`, () => openTcp(host, port, connectTimeoutMs), options);
  }
}

function openTcp(host: string, port: number, timeoutMs: number): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    const fail = (err: Error) => {
      socket.destroy();
      reject(err);
    };
    socket.setTimeout(timeoutMs, () => fail(new Error(`connect to ${host}:${port} timed out`)));
    socket.once('error', fail);
    socket.once('connect', () => {
      socket.off('error', fail);
      socket.setTimeout(0);
      socket.setNoDelay(true);
      // A converter that reboots leaves a half-open socket; keepalive notices it without any AT traffic.
      socket.setKeepAlive(true, 10_000);
      resolve(socket);
    });
  });
}

export interface SerialTransportOptions extends ReconnectingTransportOptions {
  baudRate?: number;
}

export class SerialTransport extends ReconnectingTransport {
  constructor(
    readonly path: string,
    options: SerialTransportOptions = {},
  ) {
    const baudRate = options.baudRate ?? DEFAULT_BAUD_RATE;
    super(`serial://${path}?baud=${baudRate}`, () => openSerial(path, baudRate), options);
  }
}

/** serialport and its native binding cost memory; an agent with only TCP modems never loads them. */
let serialPortModule: Promise<typeof import('serialport')> | undefined;

async function openSerial(path: string, baudRate: number): Promise<Duplex> {
  serialPortModule ??= import('serialport');
  const { SerialPort } = await serialPortModule;
  return new Promise((resolve, reject) => {
    const port = new SerialPort({ path, baudRate, autoOpen: false });
    port.open((err) => {
      if (err) {
        reject(err);
        return;
      }
      closeWhenDeviceRemoved(port, path);
      resolve(port);
    });
  });
}

/**
 * Unplugging a USB modem removes its device node. serialport notices most removals through a read error, but
 * when the other end of a tty hangs up, reads return 0 bytes and its binding retries forever without closing
 * the port. Watching the node (inotify, no polling) closes the port either way, so the reconnect loop starts.
 */
function closeWhenDeviceRemoved(port: SerialPort, path: string): void {
  let watcher: ReturnType<typeof watch> | undefined;
  try {
    watcher = watch(dirname(path), (_event, filename) => {
      if (filename === basename(path) && !existsSync(path)) port.destroy(new Error(`${path} was removed`));
    });
    watcher.on('error', () => watcher?.close());
  } catch {
    return; // the directory cannot be watched: rely on serialport's own read errors
  }
  port.once('close', () => watcher?.close());
}

export type TransportFactory = (url: string) => ModemTransport;

/** Builds the transport for a configured modem URL; throws a `TypeError` naming the URL when it is not one. */
export function createTransport(url: string, options: ReconnectingTransportOptions = {}): ModemTransport {
  const target = parseTransportUrl(url);
  if (!target) {
    throw new TypeError(
      `modem url ${JSON.stringify(url)} is not tcp://host:port, serial:///dev/path?baud=N or a device path`,
    );
  }
  return target.kind === 'tcp'
    ? new TcpTransport(target.host, target.port, options)
    : new SerialTransport(target.path, { ...options, baudRate: target.baudRate });
}
