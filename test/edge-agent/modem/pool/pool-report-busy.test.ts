/**
 * A delivery report for a send of an earlier process (the agent restarted, so no message reference of this
 * process names it) can arrive while the same modem is busy with a new send. It must still reach the agent's
 * recipient match as an unmatched report: at once when it names another number, and once the new send has
 * ended when it names the same number but is not one of the new send's parts.
 */
import { afterEach, expect, it } from 'vitest';
import { ModemPool } from '../../../../edge-agent/modem/pool/pool.ts';
import { encodeStatusReport } from '../../../../edge-agent/modem/sms/status-report.ts';
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

/** The `+CDS` a modem shows for a part it sent before the agent restarted. */
function oldReport(messageReference: number, recipient: string): string {
  const at = new Date(Date.now() - 60_000);
  const { pdu, tpduLength } = encodeStatusReport({
    messageReference,
    recipient,
    submittedAt: at,
    dischargedAt: new Date(),
    status: 0,
  });
  return `+CDS: ${tpduLength}\r\n${pdu}`;
}

it.each([
  ['another number', '+4520000009'],
  ['the number of the send under way', '+4520000001'],
])(
  'passes on a report of an earlier send that arrives mid-send, naming %s',
  async (_label, oldRecipient) => {
    // the network takes a while with the new SMS, so the modem is busy when the old report comes in
    sim = await startSimulator({ name: 'm0', sendDelayMs: 1_500, deliveryDelayMs: 5 });
    const target = new URL(sim.url);
    pool = new ModemPool([{ id: 'm0', group: 'g', url: sim.url, mode: 'pdu' }], {
      transportFactory: () => new TcpTransport(target.hostname, Number(target.port), { initialDelayMs: 10 }),
      statusIntervalMs: 0,
      driver: { commandTimeoutMs: 500, sendTimeoutMs: 10_000, connectTimeoutMs: 1_000 },
    });
    await pool.start();
    const reports: DeliveryReport[] = [];
    pool.onDeliveryReport((r) => reports.push(r));

    const typed = sim.transcript.length;
    const sending = pool.send({
      to: '+4520000001',
      text: 'Your code is 481516',
      flash: false,
      modemGroup: 'g',
    });
    // the PDU and its Ctrl-Z reached the modem: it is busy with the new send until +CMGS
    while (!sim.transcript.slice(typed).some((t) => t.dir === 'in' && String(t.data).includes('\x1a')))
      await new Promise((r) => setTimeout(r, 5));
    sim.injectUrc(oldReport(200, oldRecipient));

    const outcome = await sending;
    expect(outcome.ok).toBe(true);
    const refs = outcome.ok ? outcome.messageRefs : [];
    expect(refs).not.toContain(200);
    // the new send's own report, matched by reference, and the old one, passed on for the recipient match
    while (reports.length < 2) await new Promise((r) => setTimeout(r, 5));
    const old = reports.find((r) => r.messageRef === 200);
    expect(old).toMatchObject({ modem: 'm0', unmatched: true, recipient: oldRecipient, status: 0 });
    const own = reports.find((r) => r.messageRef !== 200);
    expect(own?.unmatched).toBeUndefined();
    expect(refs).toContain(own?.messageRef);
  },
  30_000,
);
