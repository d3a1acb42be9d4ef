/**
 * The quirk lists (edge-agent/modem/at/quirks.ts) as the driver walks them, fed by a modem that answers each
 * command with a recorded reply. One case per modem behaviour; a new quirk gets a new case here.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { AtDriver, type ModemInfo } from '../../../../edge-agent/modem/at/at-driver.ts';
import { CNMI_CANDIDATES, SMS_FORMAT_COMMANDS } from '../../../../edge-agent/modem/at/quirks.ts';
import { TcpTransport } from '../../../../edge-agent/modem/transport/transport.ts';

/** What a plain modem answers during init; each case overrides the commands its modem answers differently. */
const PLAIN_INIT: Record<string, string> = {
  AT: 'OK',
  ATE0: 'OK',
  'AT+CMEE=1': 'OK',
  'AT+CPIN?': '+CPIN: READY\r\n\r\nOK',
  'AT+CREG?': '+CREG: 0,1\r\n\r\nOK',
  'AT+CSQ': '+CSQ: 21,99\r\n\r\nOK',
  'AT+CMGF=0': 'OK',
  'AT+CMGF=1': 'OK',
  'AT+CSCA?': '+CSCA: "+4540390999",145\r\n\r\nOK',
};

interface RecordedModem {
  typed: string[];
  driver: AtDriver;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A TCP modem that answers every command line from `replies`, and ERROR to anything it was not given. */
async function recordedModem(replies: Record<string, string>): Promise<RecordedModem> {
  const typed: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let pending = '';
    socket.on('data', (chunk) => {
      pending += chunk.toString('latin1');
      let end = pending.indexOf('\r');
      while (end >= 0) {
        const command = pending.slice(0, end).trim();
        pending = pending.slice(end + 1);
        if (command) {
          typed.push(command);
          socket.write(`\r\n${replies[command] ?? 'ERROR'}\r\n`);
        }
        end = pending.indexOf('\r');
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as net.AddressInfo;
  const driver = new AtDriver({
    transport: new TcpTransport('127.0.0.1', port, { initialDelayMs: 10, maxDelayMs: 100 }),
    commandTimeoutMs: 2_000,
  });
  cleanups.push(async () => {
    await driver.close();
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { typed, driver };
}

const cnmiTyped = (typed: string[]) => typed.filter((c) => c.startsWith('AT+CNMI'));

describe('modem quirks: AT+CNMI forms for delivery reports', () => {
  it('a modem that takes the first form is never asked another', async () => {
    const m = await recordedModem({ ...PLAIN_INIT, [CNMI_CANDIDATES[0]!]: 'OK' });
    expect(await m.driver.init()).toMatchObject<Partial<ModemInfo>>({ deliveryReports: true });
    expect(cnmiTyped(m.typed)).toEqual(CNMI_CANDIDATES.slice(0, 1));
  });

  it.each(CNMI_CANDIDATES.slice(1).map((form, i) => [form, i + 1] as const))(
    'a modem that refuses the forms before %s (+CMS ERROR: 303) gets it',
    async (form, index) => {
      const refused = Object.fromEntries(CNMI_CANDIDATES.slice(0, index).map((c) => [c, '+CMS ERROR: 303']));
      const m = await recordedModem({ ...PLAIN_INIT, ...refused, [form]: 'OK' });
      expect(await m.driver.init()).toMatchObject<Partial<ModemInfo>>({ deliveryReports: true, mode: 'pdu' });
      expect(cnmiTyped(m.typed)).toEqual(CNMI_CANDIDATES.slice(0, index + 1));
    },
  );

  it('a modem that refuses every form still initialises, without delivery reports', async () => {
    const m = await recordedModem(PLAIN_INIT);
    expect(await m.driver.init()).toMatchObject<Partial<ModemInfo>>({ deliveryReports: false });
    expect(cnmiTyped(m.typed)).toEqual([...CNMI_CANDIDATES]);
  });
});

describe('modem quirks: AT+CMGF', () => {
  it('a modem that answers ERROR to PDU mode is run in text mode', async () => {
    const m = await recordedModem({
      ...PLAIN_INIT,
      [SMS_FORMAT_COMMANDS.pdu]: 'ERROR',
      [CNMI_CANDIDATES[0]!]: 'OK',
    });
    expect(await m.driver.init()).toMatchObject<Partial<ModemInfo>>({ mode: 'text' });
    expect(m.typed.filter((c) => c.startsWith('AT+CMGF'))).toEqual([
      SMS_FORMAT_COMMANDS.pdu,
      SMS_FORMAT_COMMANDS.text,
    ]);
  });
});
