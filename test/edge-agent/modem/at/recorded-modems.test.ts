/**
 * The AT driver against replies recorded from real modems (Gammu's test suite, see
 * test/edge-agent/modem/fixtures/), and the simulator's profiles against the same recordings.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { AtDriver } from '../../../../edge-agent/modem/at/at-driver.ts';
import { TcpTransport } from '../../../../edge-agent/modem/transport/transport.ts';
import { isSimulatorProfile } from '../../../../edge-agent/simulator/profiles.ts';
import { startSimulator } from '../../../../edge-agent/simulator/server.ts';
import { RawClient } from '../../simulator/raw-client.ts';
import { loadTranscripts, replayModem, type Transcript } from '../fixtures/recorded.ts';

/** What any 27.007 / 27.005 modem answers during init; not recorded, and overridden by each transcript. */
const PLAIN: Record<string, string[]> = {
  AT: ['OK'],
  ATE0: ['OK'],
  'AT+CMEE=1': ['OK'],
  'AT+CPIN?': ['+CPIN: READY', 'OK'],
  'AT+CREG=1': ['OK'],
  'AT+CREG?': ['+CREG: 1,1', 'OK'],
  'AT+CSQ': ['+CSQ: 21,99', 'OK'],
  'AT+CMGF=0': ['OK'],
  'AT+CSCA?': ['+CSCA: "+4540390999",145', 'OK'],
  'AT+CNMI=2,1,0,1,0': ['OK'],
};

const transcripts = loadTranscripts();
const byFile = (file: string): Transcript => {
  const t = transcripts.find((x) => x.file === file);
  if (!t) throw new Error(`no fixture ${file}`);
  return t;
};

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function initAgainst(file: string) {
  const modem = await replayModem(byFile(file), PLAIN);
  const driver = new AtDriver({
    transport: new TcpTransport('127.0.0.1', modem.port, { initialDelayMs: 10, maxDelayMs: 100 }),
    commandTimeoutMs: 1_000,
  });
  cleanups.push(async () => {
    await driver.close();
    await modem.close();
  });
  return { info: await driver.init(), typed: modem.typed };
}

describe('the AT driver against recorded modems', () => {
  it.each([
    ['huawei-creg.txt', 'home'],
    ['telit-creg.txt', 'home'],
    ['sierra-312u-creg.txt', 'roaming'],
  ])('%s: reads the registration (%s) from the recorded +CREG line', async (file, registration) => {
    const { info } = await initAgainst(file);
    expect(info.registration).toBe(registration);
  });

  it.each([
    ['cgmm-multiband.txt', 'MULTIBAND 900E 1800'],
    ['cgmm-nokia-5210.txt', 'Nokia 5210'],
  ])(
    '%s: takes the model from AT+CGMM and, with no profile matching it, runs the generic one',
    async (file, model) => {
      const { info } = await initAgainst(file);
      expect(info.identity).toEqual({ manufacturer: null, model, revision: null });
      expect(info.profile).toBe('generic');
    },
  );

  it.each(['cnmi-01.txt', 'cnmi-02.txt', 'cnmi-03.txt'])(
    '%s: settles on an AT+CNMI form inside the recorded ranges, with delivery reports',
    async (file) => {
      const { info, typed } = await initAgainst(file);
      expect(info.deliveryReports).toBe(true);
      const cnmi = typed.filter((c) => c.startsWith('AT+CNMI='));
      // the form that stuck is the last one typed, and the one the recorded ranges allow
      expect(cnmi.at(-1)).toBe('AT+CNMI=2,1,0,1,0');
    },
  );

  it('every transcript names the recording it came from', () => {
    expect(transcripts.length).toBeGreaterThanOrEqual(5);
    for (const t of transcripts)
      expect(t.source).toMatch(/^gammu\/gammu tests\/at-[^ ]+ \(commit [0-9a-f]{40}\)$/);
  });
});

describe('the simulator answers as the recorded modems did', () => {
  const withProfile = transcripts.filter((t) => t.simulatorProfile !== undefined);

  it.each(withProfile.map((t) => [t.file, t] as const))('%s', async (_file, t) => {
    const profile = t.simulatorProfile!;
    expect(isSimulatorProfile(profile)).toBe(true);
    if (!isSimulatorProfile(profile)) return;
    const sim = await startSimulator({ profile, sendDelayMs: 0 });
    const client = await RawClient.connect(sim.port);
    cleanups.push(async () => {
      client.close();
      await sim.close();
    });
    const FINAL = /\r\n(OK|ERROR|\+CM[SE] ERROR: [^\r]*)\r\n/;
    await client.type('ATE0\r', FINAL);
    for (const setup of t.setup) await client.type(`${setup}\r`, FINAL);
    for (const [command, recorded] of t.replies) {
      const reply = await client.type(`${command}\r`, FINAL);
      expect(reply.split('\r\n').filter((l) => l !== '')).toEqual(recorded);
    }
  });
});

describe('the simulator speaks the usual 27.007 / 27.005 start-up commands', () => {
  it('answers AT+CFUN, AT+CGSN, AT+CIMI, AT+CSCS, AT+CPMS and AT+CMGL as a modem does', async () => {
    const sim = await startSimulator({ sendDelayMs: 0 });
    const c = await RawClient.connect(sim.port);
    cleanups.push(async () => {
      c.close();
      await sim.close();
    });
    const FINAL = /\r\n(OK|ERROR|\+CM[SE] ERROR: [^\r]*)\r\n/;
    const ask = async (command: string) =>
      (await c.type(`${command}\r`, FINAL)).split('\r\n').filter((l) => l !== '');
    await ask('ATE0');
    expect(await ask('AT+CFUN=1')).toEqual(['OK']);
    expect(await ask('AT+CFUN?')).toEqual(['+CFUN: 1', 'OK']);
    expect(await ask('AT+CFUN=?')).toEqual(['+CFUN: (0,1,4),(0,1)', 'OK']);
    expect(await ask('AT+CGSN')).toEqual([expect.stringMatching(/^\d{15}$/), 'OK']);
    expect(await ask('AT+CIMI')).toEqual([expect.stringMatching(/^\d{15}$/), 'OK']);
    expect(await ask('AT+CSCS="GSM"')).toEqual(['OK']);
    expect(await ask('AT+CSCS?')).toEqual(['+CSCS: "GSM"', 'OK']);
    expect(await ask('AT+CPMS="SM","SM","SM"')).toEqual(['+CPMS: 0,30,0,30,0,30', 'OK']);
    expect(await ask('AT+CPMS?')).toEqual(['+CPMS: "SM",0,30,"SM",0,30,"SM",0,30', 'OK']);
    expect(await ask('AT+CMGL=?')).toEqual(['+CMGL: (0-4)', 'OK']);
    expect(await ask('AT+CMGL=4')).toEqual(['OK']);
    // radio off: not registered, and back on when asked
    expect(await ask('AT+CFUN=4')).toEqual(['OK']);
    expect(await ask('AT+CREG?')).toEqual(['+CREG: 0,0', 'OK']);
    expect(await ask('AT+CFUN=1')).toEqual(['OK']);
    expect(await ask('AT+CREG?')).toEqual(['+CREG: 0,1', 'OK']);
    expect(await ask('AT+CFUN=7')).toEqual(['ERROR']);
  });
});
