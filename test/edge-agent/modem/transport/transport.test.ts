import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ModemDisconnectedError } from '../../../../edge-agent/modem/at/errors.ts';
import {
  createTransport,
  parseTransportUrl,
  SerialTransport,
  TcpTransport,
} from '../../../../edge-agent/modem/transport/transport.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function listen(port = 0): Promise<{ server: net.Server; port: number; sockets: Set<net.Socket> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('data', (d) => s.write(`echo:${d}`));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const address = server.address() as net.AddressInfo;
      resolve({ server, port: address.port, sockets });
    });
  });
}

function closeServer(server: net.Server, sockets: Set<net.Socket>): Promise<void> {
  for (const s of sockets) s.destroy();
  return new Promise((resolve) => server.close(() => resolve()));
}

const once = <T>(emitter: { once(e: string, l: (...a: never[]) => void): unknown }, event: string) =>
  new Promise<T>((resolve) => emitter.once(event, ((...args: unknown[]) => resolve(args[0] as T)) as never));

describe('transport URLs', () => {
  it('reads tcp, serial and bare device forms', () => {
    expect(parseTransportUrl('tcp://127.0.0.1:4001')).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 4001 });
    expect(parseTransportUrl('tcp://[::1]:4001')).toEqual({ kind: 'tcp', host: '::1', port: 4001 });
    expect(parseTransportUrl('serial:///dev/ttyUSB0?baud=9600')).toEqual({
      kind: 'serial',
      path: '/dev/ttyUSB0',
      baudRate: 9600,
    });
    expect(parseTransportUrl('/dev/ttyACM1')).toEqual({
      kind: 'serial',
      path: '/dev/ttyACM1',
      baudRate: 115200,
    });
    expect(parseTransportUrl('COM3')).toEqual({ kind: 'serial', path: 'COM3', baudRate: 115200 });
    expect(parseTransportUrl('tcp://host')).toBeUndefined();
    expect(parseTransportUrl('serial:///dev/ttyS0?baud=fast')).toBeUndefined();
    expect(parseTransportUrl('http://x:1')).toBeUndefined();
  });

  it('refuses what the config validator refuses, since both use this one grammar', () => {
    expect(parseTransportUrl('tcp://10.0.0.5:4001/port1')).toBeUndefined();
    expect(parseTransportUrl('/dev/tty USB0')).toBeUndefined();
    expect(parseTransportUrl('serial:///dev/ttyS0?baud=1e3')).toBeUndefined();
    expect(parseTransportUrl('serial:///dev/ttyS0?baud=0')).toBeUndefined();
    expect(parseTransportUrl('COM1000')).toBeUndefined();
  });

  it('builds the matching transport, and names the bad URL otherwise', () => {
    expect(createTransport('tcp://127.0.0.1:4001')).toBeInstanceOf(TcpTransport);
    const serial = createTransport('serial:///dev/ttyUSB0?baud=9600');
    expect(serial).toBeInstanceOf(SerialTransport);
    expect(serial.url).toBe('serial:///dev/ttyUSB0?baud=9600');
    expect(() => createTransport('modem-1')).toThrow(/"modem-1"/);
  });
});

describe('TcpTransport', () => {
  it('carries bytes both ways', async () => {
    const { server, port, sockets } = await listen();
    const t = new TcpTransport('127.0.0.1', port, { initialDelayMs: 10 });
    cleanups.push(
      () => closeServer(server, sockets),
      () => t.close(),
    );
    await t.waitConnected(2000);
    const data = once<Buffer>(t, 'data');
    t.write('AT\r');
    expect((await data).toString()).toBe('echo:AT\r');
  });

  it('reconnects after the peer drops the connection (a converter reboot)', async () => {
    const { server, port, sockets } = await listen();
    const t = new TcpTransport('127.0.0.1', port, { initialDelayMs: 10, maxDelayMs: 50 });
    cleanups.push(
      () => closeServer(server, sockets),
      () => t.close(),
    );
    await t.waitConnected(2000);
    const disconnected = once(t, 'disconnect');
    const reconnected = new Promise<void>((r) => t.on('disconnect', () => t.once('connect', () => r())));
    for (const s of sockets) s.destroy();
    await disconnected;
    expect(() => t.write('x')).toThrow(ModemDisconnectedError);
    await reconnected;
    expect(t.isConnected).toBe(true);
  });

  it('keeps retrying while nothing listens, and connects once the port is back', async () => {
    const first = await listen();
    const port = first.port;
    await closeServer(first.server, first.sockets);
    const t = new TcpTransport('127.0.0.1', port, { initialDelayMs: 10, maxDelayMs: 40 });
    cleanups.push(() => t.close());
    const failures: Error[] = [];
    t.on('connectError', (e) => failures.push(e));
    t.open();
    await new Promise<void>((r) => t.on('connectError', () => failures.length >= 2 && r()));
    expect(t.isConnected).toBe(false);
    const again = await listen(port);
    cleanups.push(() => closeServer(again.server, again.sockets));
    await t.waitConnected(5000);
    expect(t.isConnected).toBe(true);
  });

  it('gives up waiting with a ModemDisconnectedError, and close stops the retries', async () => {
    const first = await listen();
    await closeServer(first.server, first.sockets);
    const t = new TcpTransport('127.0.0.1', first.port, { initialDelayMs: 10 });
    await expect(t.waitConnected(50)).rejects.toBeInstanceOf(ModemDisconnectedError);
    await t.close();
    await expect(t.waitConnected(50)).rejects.toThrow(/closed/);
  });
});
