/**
 * The delivery report is asked for per SMS: a job with `report: false` goes out without TP-SRR (in PDU and in
 * text mode, where it is AT+CSMP's first octet), and one without the flag still asks, as every job used to.
 */
import { afterEach, expect, it } from 'vitest';
import { ModemPool } from '../../../../edge-agent/modem/pool/pool.ts';
import { TcpTransport } from '../../../../edge-agent/modem/transport/transport.ts';
import type { DeliveryReport } from '../../../../edge-agent/ports.ts';
import { type RunningSimulator, startSimulator } from '../../../../edge-agent/simulator/server.ts';

let sim: RunningSimulator | undefined;
let pool: ModemPool | undefined;
afterEach(async () => {
  await pool?.close();
  await sim?.close();
  pool = undefined;
  sim = undefined;
});

it.each(['pdu', 'text'] as const)(
  'asks for a report only for the jobs that want one (%s mode)',
  async (mode) => {
    sim = await startSimulator({ name: 'm0', sendDelayMs: 1, deliveryDelayMs: 5 });
    const target = new URL(sim.url);
    pool = new ModemPool([{ id: 'm0', group: 'g', url: sim.url, mode }], {
      transportFactory: () => new TcpTransport(target.hostname, Number(target.port), { initialDelayMs: 10 }),
      statusIntervalMs: 0,
      driver: { commandTimeoutMs: 300, sendTimeoutMs: 2_000, connectTimeoutMs: 1_000 },
    });
    await pool.start();
    const reports: DeliveryReport[] = [];
    const reported = new Promise<void>((resolve) =>
      pool?.onDeliveryReport((r) => {
        reports.push(r);
        resolve();
      }),
    );
    const base = { text: 'Your code is 481516', flash: false, modemGroup: 'g' };
    const quiet = await pool.send({ ...base, to: '+4520000001', report: false });
    const asked = await pool.send({ ...base, to: '+4520000002' });
    expect(quiet.ok && asked.ok).toBe(true);
    await reported;
    expect(sim.sent.map((m) => [m.to, m.statusReport])).toEqual([
      ['+4520000001', false],
      ['+4520000002', true],
    ]);
    expect(reports.map((r) => r.messageRef)).toEqual(asked.ok ? asked.messageRefs : []);
  },
);
