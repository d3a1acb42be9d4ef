import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { StatusReportUrc } from '../../../../edge-agent/modem/at/at-channel.ts';
import { type Harness, startHarness, typedCommands } from './driver-harness.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('AtDriver against the simulator over TCP', () => {
  it('initialises the modem the way the issue lists it', async () => {
    h = await startHarness();
    const info = await h.driver.init();
    expect(info).toEqual({
      identity: { manufacturer: 'SMSPass', model: 'GSM-SIM-1', revision: 'Revision: SIM-1.0' },
      profile: 'generic',
      mode: 'pdu',
      smsc: '+4540390999',
      deliveryReports: true,
      registration: 'home',
      signal: 21,
    });
    expect(typedCommands(h.sim)).toEqual([
      'AT',
      'ATE0',
      'AT+CMEE=1',
      'AT+CGMI',
      'AT+CGMM',
      'AT+CGMR',
      'AT+CPIN?',
      'AT+CREG=1',
      'AT+CREG?',
      'AT+CSQ',
      'AT+CMGF=0',
      'AT+CSCA?',
      'AT+CNMI=2,1,0,1,0',
    ]);
  });

  it('sets a configured SMSC instead of reading the SIM one', async () => {
    h = await startHarness({ smsc: '' }, { smsc: '+4512000000' });
    expect((await h.driver.init()).smsc).toBe('+4512000000');
    expect(typedCommands(h.sim)).toContain('AT+CSCA="+4512000000",145');
  });

  it('sends a single SMS and a concatenated one; the simulator reassembles both into the outbox', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sim-outbox-'));
    const outboxPath = join(dir, 'nested', 'outbox.jsonl');
    h = await startHarness({ outboxPath, name: 'modem-a' });
    const long = `Login from 203.0.113.7 {vpn-gw-1} — ${'ünïcödé '.repeat(20)}`;
    const first = await h.driver.sendSms({ to: '+4512345678', text: 'Your code is 123456' });
    const second = await h.driver.sendSms({ to: '+4587654321', text: long });
    expect(first.messageRefs).toEqual([0]);
    expect(second.messageRefs).toEqual([1, 2, 3]);
    const lines = (await readFile(outboxPath, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => Object.keys(l))).toEqual([
      ['modem', 'to', 'text', 'at'],
      ['modem', 'to', 'text', 'at'],
    ]);
    expect(lines[0]).toMatchObject({ modem: 'modem-a', to: '+4512345678', text: 'Your code is 123456' });
    expect(lines[1]).toMatchObject({ modem: 'modem-a', to: '+4587654321', text: long });
    expect(Number.isNaN(Date.parse(lines[1].at))).toBe(false);
  });

  it('marks flash messages and reports delivery through +CDS with the part message reference', async () => {
    h = await startHarness();
    const reports: StatusReportUrc[] = [];
    const got = new Promise<void>((resolve) => {
      h!.driver.on('statusReport', (r) => {
        reports.push(r);
        if (reports.length === 2) resolve();
      });
    });
    await h.driver.sendSms({ to: '+4512345678', text: 'no report wanted' });
    const { messageRefs } = await h.driver.sendSms({
      to: '+4512345678',
      text: `flash ${'x'.repeat(200)}`,
      flash: true,
      statusReport: true,
      validityMinutes: 10,
    });
    await got;
    expect(reports.map((r) => r.messageReference).sort()).toEqual([...messageRefs].sort());
    expect(reports.every((r) => r.status === 0 && r.recipient === '+4512345678')).toBe(true);
    expect(h.sim.sent[1]).toMatchObject({ flash: true, statusReport: true });
    expect(h.sim.sent[0]).toMatchObject({ flash: false, statusReport: false });
  });

  it('never lets unsolicited codes complete or corrupt the command in flight', async () => {
    h = await startHarness({ sendDelayMs: 30 });
    await h.driver.init();
    const urcs: string[] = [];
    const registrations: string[] = [];
    h.driver.on('urc', (l) => urcs.push(l));
    h.driver.on('registration', (r) => registrations.push(r));
    // While the modem "transmits", it interleaves noise of every kind, including an incoming text SMS whose
    // body is literally "OK" and a +CDS for a message reference nobody asked about.
    h.driver.on('trace', (dir, text) => {
      if (dir === 'tx' && text === '<body>') {
        h!.sim.injectUrc('RING');
        h!.sim.injectUrc('^RSSI: 12');
        h!.sim.injectUrc('+CMTI: "SM",3');
        h!.sim.injectUrc('+CREG: 1,"1A2B","0C3D"');
        h!.sim.injectUrc('+CMT: "+4511223344",,"26/11/27,10:15:30+04"\r\nOK');
        h!.sim.injectUrc('+CIEV: 2,3');
      }
    });
    const result = await h.driver.sendSms({ to: '+4512345678', text: 'code 999' });
    expect(result.messageRefs).toEqual([0]);
    expect(urcs).toEqual([
      'RING',
      '^RSSI: 12',
      '+CMTI: "SM",3',
      '+CMT: "+4511223344",,"26/11/27,10:15:30+04"',
      '+CIEV: 2,3',
    ]);
    expect(registrations).toEqual(['home']);
    expect(await h.driver.status()).toEqual({ signal: 21, registration: 'home', operator: 'SIM Operator' });
  });

  it('tolerates echo, including the echo of the typed PDU', async () => {
    h = await startHarness();
    await h.driver.init();
    await h.driver.command('ATE1');
    const { messageRefs } = await h.driver.sendSms({ to: '+4512345678', text: 'echoed' });
    expect(messageRefs).toEqual([0]);
    expect(h.sim.sent[0]?.text).toBe('echoed');
    const echoed = h.sim.transcript
      .filter((e) => e.dir === 'out')
      .map((e) => e.data)
      .join('');
    expect(echoed).toContain('AT+CMGS=');
  });

  it('falls back to text mode when the modem refuses PDU mode', async () => {
    h = await startHarness({ textModeOnly: true });
    expect((await h.driver.init()).mode).toBe('text');
    await h.driver.sendSms({ to: '+4512345678', text: 'plain ascii {ok}' });
    await h.driver.sendSms({ to: '+4512345678', text: 'Код 4711 😀', flash: true });
    const r = await h.driver.sendSms({ to: '+4512345678', text: 'y'.repeat(200) });
    expect(r.messageRefs).toHaveLength(2);
    expect(h.sim.sent.map((s) => s.text)).toEqual([
      'plain ascii {ok}',
      'Код 4711 😀',
      'y'.repeat(160),
      'y'.repeat(40),
    ]);
    expect(h.sim.sent[1]).toMatchObject({ flash: true, mode: 'text' });
  });

  it('reports text-mode delivery reports too', async () => {
    h = await startHarness({ textModeOnly: true });
    const report = new Promise<StatusReportUrc>((resolve) => h!.driver.once('statusReport', resolve));
    const { messageRefs } = await h.driver.sendSms({ to: '+4512345678', text: 'hi', statusReport: true });
    expect((await report).messageReference).toBe(messageRefs[0]);
  });

  it('never writes the PIN or the message into its trace', async () => {
    h = await startHarness({}, { pin: '4321' });
    h.sim.setFault({ kind: 'sim_pin', pin: '4321' });
    const trace: string[] = [];
    h.driver.on('trace', (_d, t) => trace.push(t));
    await h.driver.sendSms({ to: '+4512345678', text: 'secret 246810' });
    expect(typedCommands(h.sim)).toContain('AT+CPIN="4321"');
    expect(trace.join('\n')).not.toMatch(/4321|246810/);
    expect(trace).toContain('AT+CPIN="****"');
  });

  it('numbers message references modulo 256 as the modem gives them', async () => {
    h = await startHarness();
    const refs: number[] = [];
    for (let i = 0; i < 258; i++)
      refs.push(...(await h.driver.sendSms({ to: '+4512345678', text: `n${i}` })).messageRefs);
    expect(refs.slice(254)).toEqual([254, 255, 0, 1]);
  });
});
