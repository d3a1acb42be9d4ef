/**
 * The driver over a real pseudo-terminal pair made by socat: serialport opens both ends, the simulated modem
 * speaks on one and the agent's SerialTransport on the other, as with a USB modem on /dev/ttyUSB0.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SerialPort } from 'serialport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AtDriver } from '../../../../edge-agent/modem/at/at-driver.ts';
import { ModemDisconnectedError } from '../../../../edge-agent/modem/at/errors.ts';
import { SerialTransport } from '../../../../edge-agent/modem/transport/transport.ts';
import { SimulatedModem } from '../../../../edge-agent/simulator/simulated-modem.ts';

function hasSocat(): boolean {
  try {
    execFileSync('socat', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const socatMissing = !hasSocat();
if (socatMissing) {
  if (process.env.REQUIRE_PEERS === '1') {
    throw new Error('REQUIRE_PEERS=1 but socat is not installed: apt-get install -y socat');
  }
  console.warn('skipping the pty tests: socat is not installed (apt-get install -y socat)');
}

/** Starts socat with two linked ptys; resolves once both exist. */
function startSocat(modemLink: string, agentLink: string): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'socat',
      ['-d', '-d', `pty,raw,echo=0,link=${modemLink}`, `pty,raw,echo=0,link=${agentLink}`],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let seen = '';
    child.stderr!.on('data', (d: Buffer) => {
      seen += d.toString();
      if (/starting data transfer loop/.test(seen)) resolve(child);
    });
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`socat exited with ${code}: ${seen}`)));
  });
}

function stopSocat(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

function openPort(path: string): Promise<SerialPort> {
  return new Promise((resolve, reject) => {
    const port = new SerialPort({ path, baudRate: 115200, autoOpen: false });
    port.open((err) => (err ? reject(err) : resolve(port)));
  });
}

describe.skipIf(socatMissing)('AtDriver over a socat pty pair', () => {
  let dir: string;
  let socat: ChildProcess;
  let modemSide: SerialPort;
  let modem: SimulatedModem;
  let driver: AtDriver;
  let modemLink: string;
  let agentLink: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pty-'));
    modemLink = join(dir, 'modem');
    agentLink = join(dir, 'agent');
    socat = await startSocat(modemLink, agentLink);
    modem = new SimulatedModem({ name: 'pty-modem', sendDelayMs: 0, deliveryDelayMs: 5 });
    modemSide = await openPort(modemLink);
    modem.attach(modemSide);
    driver = new AtDriver({
      transport: new SerialTransport(agentLink, { initialDelayMs: 20, maxDelayMs: 200 }),
      commandTimeoutMs: 2000,
      connectTimeoutMs: 500,
    });
  });

  afterAll(async () => {
    await driver?.close();
    modem?.close();
    if (socat) await stopSocat(socat);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('initialises and sends a concatenated SMS through serialport', async () => {
    const info = await driver.init();
    expect(info).toMatchObject({ mode: 'pdu', registration: 'home' });
    const text = `pty ${'€'.repeat(100)}`;
    const report = new Promise<number>((r) => driver.once('statusReport', (s) => r(s.messageReference)));
    const { messageRefs } = await driver.sendSms({ to: '+4512345678', text, statusReport: true });
    expect(messageRefs).toHaveLength(2);
    expect(modem.sent.map((s) => s.text)).toEqual([text]);
    expect(messageRefs).toContain(await report);
  });

  it('survives a cable pull: the port vanishes, comes back, and sending works again', async () => {
    const lost = new Promise<void>((r) => driver.once('disconnect', () => r()));
    modem.close();
    await stopSocat(socat);
    await lost;
    await expect(driver.sendSms({ to: '+4512345678', text: 'while unplugged' })).rejects.toBeInstanceOf(
      ModemDisconnectedError,
    );
    socat = await startSocat(modemLink, agentLink);
    modemSide = await openPort(modemLink);
    modem.attach(modemSide);
    const { messageRefs } = await driver.sendSms({ to: '+4512345678', text: 'plugged back in' });
    expect(messageRefs).toHaveLength(1);
    expect(modem.sent.at(-1)?.text).toBe('plugged back in');
  });
});
