/**
 * The modem simulator as a TCP server on 127.0.0.1, standing where a serial-to-IP converter (a Moxa NPort)
 * would: each connection talks to the same simulated modem.
 */
import net from 'node:net';
import type { SimulatorFault } from './faults.ts';
import {
  type SentSms,
  SimulatedModem,
  type SimulatedModemOptions,
  type TranscriptEntry,
} from './simulated-modem.ts';

export interface SimulatorOptions extends Omit<SimulatedModemOptions, 'name'> {
  name?: string | undefined;
  /** 0 (default) picks a free port. */
  port?: number | undefined;
  host?: string | undefined;
}

export interface RunningSimulator {
  host: string;
  port: number;
  name: string;
  /** `tcp://host:port`, ready for the agent's modem configuration. */
  url: string;
  transcript: TranscriptEntry[];
  sent: SentSms[];
  modem: SimulatedModem;
  setFault(fault: SimulatorFault | null): void;
  injectUrc(line: string): void;
  close(): Promise<void>;
}

export async function startSimulator(options: SimulatorOptions = {}): Promise<RunningSimulator> {
  const name = options.name ?? 'sim0';
  const modem = new SimulatedModem({ ...options, name });
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.setNoDelay(true);
    socket.once('close', () => sockets.delete(socket));
    if (modem.fault?.kind === 'disconnect') {
      socket.destroy();
      return;
    }
    modem.attach(socket);
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('simulator did not bind a TCP port');
  const port = address.port;
  return {
    host,
    port,
    name,
    url: `tcp://${host}:${port}`,
    transcript: modem.transcript,
    sent: modem.sent,
    modem,
    setFault: (fault) => modem.setFault(fault),
    injectUrc: (line) => modem.injectUrc(line),
    close: async () => {
      modem.close();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
