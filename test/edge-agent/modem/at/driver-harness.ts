/** Starts a simulator and a driver connected to it over TCP, and tears both down. */
import { AtDriver, type AtDriverOptions } from '../../../../edge-agent/modem/at/at-driver.ts';
import { TcpTransport } from '../../../../edge-agent/modem/transport/transport.ts';
import {
  type RunningSimulator,
  type SimulatorOptions,
  startSimulator,
} from '../../../../edge-agent/simulator/server.ts';

export interface Harness {
  sim: RunningSimulator;
  driver: AtDriver;
  close(): Promise<void>;
}

export async function startHarness(
  simOptions: SimulatorOptions = {},
  driverOptions: Partial<Omit<AtDriverOptions, 'transport'>> = {},
): Promise<Harness> {
  const sim = await startSimulator({ sendDelayMs: 0, deliveryDelayMs: 5, ...simOptions });
  const transport = new TcpTransport(sim.host, sim.port, { initialDelayMs: 10, maxDelayMs: 100 });
  const driver = new AtDriver({
    transport,
    commandTimeoutMs: 2_000,
    sendTimeoutMs: 5_000,
    pinPollMs: 10,
    ...driverOptions,
  });
  return {
    sim,
    driver,
    close: async () => {
      await driver.close();
      await sim.close();
    },
  };
}

/** Every line the client typed, in order, as the simulator saw it. */
export function typedCommands(sim: RunningSimulator): string[] {
  return sim.transcript
    .filter((e) => e.dir === 'in')
    .map((e) => e.data)
    .join('')
    .replaceAll('\x1a', '\r')
    .split('\r')
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
}
