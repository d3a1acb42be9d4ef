/**
 * The watch on an AT+CMGS in progress: once the answer is overdue the driver types `AT` beside it. A modem that
 * answers is alive and is given the rest of the send timeout; one that does not is hung, and the send ends at
 * once (maybe sent: the message was typed) instead of after the send timeout.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { AtDriver } from '../../../../edge-agent/modem/at/at-driver.ts';
import { ModemHungError } from '../../../../edge-agent/modem/at/errors.ts';
import { TcpTransport } from '../../../../edge-agent/modem/transport/transport.ts';

const INIT: Record<string, string> = {
  AT: 'OK',
  ATE0: 'OK',
  'AT+CMEE=1': 'OK',
  'AT+CPIN?': '+CPIN: READY\r\n\r\nOK',
  'AT+CREG?': '+CREG: 1,1\r\n\r\nOK',
  'AT+CSQ': '+CSQ: 21,99\r\n\r\nOK',
  'AT+CMGF=0': 'OK',
  'AT+CSCA?': '+CSCA: "+4540390999",145\r\n\r\nOK',
  'AT+CNMI=2,1,0,1,0': 'OK',
};

/** Where the next command line (CR) or message body (Ctrl-Z) ends. */
function nextEnd(text: string): number {
  const cr = text.indexOf('\r');
  const ctrlZ = text.indexOf('\x1a');
  if (cr < 0) return ctrlZ;
  return ctrlZ < 0 ? cr : Math.min(cr, ctrlZ);
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/**
 * A modem whose network takes `networkMs` to answer AT+CMGS. `probes` says what it does with an `AT` typed
 * meanwhile: `answer` at once (it reads commands while it waits), or `ignore` it (a hung modem).
 */
async function slowNetworkModem(networkMs: number, probes: 'answer' | 'ignore') {
  const typed: string[] = [];
  const server = net.createServer((socket) => {
    let pending = '';
    let sending = false;
    socket.on('data', (chunk) => {
      pending += chunk.toString('latin1');
      for (let end = nextEnd(pending); end >= 0; end = nextEnd(pending)) {
        const line = pending.slice(0, end).trim();
        const ctrlZ = pending[end] === '\x1a';
        pending = pending.slice(end + 1);
        if (ctrlZ) {
          sending = true;
          setTimeout(() => {
            sending = false;
            if (probes === 'answer') socket.write('\r\n+CMGS: 7\r\n\r\nOK\r\n');
          }, networkMs);
          continue;
        }
        if (!line) continue;
        typed.push(line);
        if (line.startsWith('AT+CMGS=')) socket.write('\r\n> ');
        else if (sending && probes === 'ignore') continue;
        else socket.write(`\r\n${INIT[line] ?? 'ERROR'}\r\n`);
      }
    });
    cleanups.push(async () => void socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const driver = new AtDriver({
    transport: new TcpTransport('127.0.0.1', (server.address() as net.AddressInfo).port),
    commandTimeoutMs: 1_000,
    sendTimeoutMs: 10_000,
    probeTimeoutMs: 300,
    minOverdueMs: 200,
  });
  cleanups.push(async () => {
    await driver.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  await driver.init();
  return { driver, typed };
}

describe('AT+CMGS watched for a hang', () => {
  it('a modem that answers the probe is left to finish the send', async () => {
    const { driver, typed } = await slowNetworkModem(2_500, 'answer');
    const result = await driver.sendSms({ to: '+4520123456', text: 'hello' });
    expect(result.messageRefs).toEqual([7]);
    const afterSubmit = typed.slice(typed.findIndex((c) => c.startsWith('AT+CMGS=')) + 1);
    // first probed after 1 s (no send timed yet: 5 × 200 ms), again each second; every probe answered
    expect(afterSubmit.filter((c) => c === 'AT').length).toBeGreaterThanOrEqual(2);
  });

  it('a modem that answers neither is hung: the send ends well before its timeout, maybe sent', async () => {
    const { driver } = await slowNetworkModem(60_000, 'ignore');
    const started = performance.now();
    const error = await driver.sendSms({ to: '+4520123456', text: 'hello' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModemHungError);
    expect(error).toMatchObject({ kind: 'modem', code: 'hung', maybeSent: true });
    // no time threshold as such: only that it did not wait out the 10 s send timeout
    expect(performance.now() - started).toBeLessThan(10_000);
  });
});
