import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Submit } from 'node-pdu';
import { afterEach, describe, expect, it } from 'vitest';
import { type RunningSimulator, startSimulator } from '../../../edge-agent/simulator/server.ts';
import { RawClient } from './raw-client.ts';

let sim: RunningSimulator | undefined;
let client: RawClient | undefined;
afterEach(async () => {
  client?.close();
  await sim?.close();
  sim = undefined;
  client = undefined;
});

async function open(options: Parameters<typeof startSimulator>[0] = {}) {
  sim = await startSimulator({ sendDelayMs: 0, ...options });
  client = await RawClient.connect(sim.port);
  return { sim, client };
}

const FINAL = /\r\n(OK|ERROR|\+CM[SE] ERROR: [^\r]*)\r\n/;

describe('the simulated modem, typed at like a terminal', () => {
  it('echoes by default, and stops after ATE0', async () => {
    const { client: c } = await open();
    expect(await c.type('AT\r', FINAL)).toBe('AT\r\r\nOK\r\n');
    expect(await c.type('ATE0\r', FINAL)).toBe('ATE0\r\r\nOK\r\n');
    expect(await c.type('AT\r', FINAL)).toBe('\r\nOK\r\n');
    expect(await c.type('ATE1\r', FINAL)).toBe('\r\nOK\r\n');
    expect(await c.type('at\r', FINAL)).toBe('at\r\r\nOK\r\n');
  });

  it('answers identity and status queries, alone or chained with ;', async () => {
    const { client: c } = await open({ name: 'north', operator: 'TDC', signal: 17 });
    await c.type('ATE0\r', FINAL);
    expect(await c.type('ATI\r', FINAL)).toContain('(north)');
    expect(await c.type('AT+CGMI\r', FINAL)).toBe('\r\nSMSPass\r\n\r\nOK\r\n');
    expect(await c.type('AT+CSQ;+CREG?;+COPS?\r', FINAL)).toBe(
      '\r\n+CSQ: 17,99\r\n\r\n+CREG: 0,1\r\n\r\n+COPS: 0,0,"TDC",7\r\n\r\nOK\r\n',
    );
    expect(await c.type('AT+CSCA?\r', FINAL)).toBe('\r\n+CSCA: "+4540390999",145\r\n\r\nOK\r\n');
    expect(await c.type('AT+CPIN?\r', FINAL)).toBe('\r\n+CPIN: READY\r\n\r\nOK\r\n');
  });

  it('reports errors as ERROR, numbers or words, as AT+CMEE asks', async () => {
    const { client: c } = await open();
    await c.type('ATE0\r', FINAL);
    expect(await c.type('AT+NOPE\r', FINAL)).toBe('\r\nERROR\r\n');
    expect(await c.type('AT+CPIN="1234"\r', FINAL)).toBe('\r\nERROR\r\n');
    await c.type('AT+CMEE=1\r', FINAL);
    expect(await c.type('AT+CPIN="1234"\r', FINAL)).toBe('\r\n+CME ERROR: 3\r\n');
    await c.type('AT+CMEE=2\r', FINAL);
    expect(await c.type('AT+CPIN="1234"\r', FINAL)).toBe('\r\n+CME ERROR: operation not allowed\r\n');
    expect(await c.type('AT+NOPE\r', FINAL)).toBe('\r\nERROR\r\n');
  });

  it('ignores lines that do not start with AT', async () => {
    const { client: c } = await open();
    await c.type('ATE0\r', FINAL);
    expect(await c.type('hello\rAT\r', FINAL)).toBe('\r\nOK\r\n');
  });

  it('takes a PDU built by node-pdu, an independent encoder, and writes the outbox line', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sim-'));
    const outboxPath = join(dir, 'a', 'b', 'outbox.jsonl');
    const { sim: s, client: c } = await open({ outboxPath, name: 'modem-x' });
    await c.type('ATE0;+CMEE=1\r', FINAL);
    const submit = new Submit('+4512345678', 'Hej fra node-pdu');
    const pdu = submit.toString();
    const length = pdu.length / 2 - 1;
    expect(await c.type(`AT+CMGS=${length}\r`, /> $/)).toBe('\r\n> ');
    expect(await c.type(`${pdu}\x1a`, FINAL)).toBe('\r\n+CMGS: 0\r\n\r\nOK\r\n');
    expect(s.sent[0]).toMatchObject({ to: '+4512345678', text: 'Hej fra node-pdu', modem: 'modem-x' });
    const line = JSON.parse((await readFile(outboxPath, 'utf8')).trim());
    expect(Object.keys(line)).toEqual(['modem', 'to', 'text', 'at']);
    expect(line).toMatchObject({ modem: 'modem-x', to: '+4512345678', text: 'Hej fra node-pdu' });
  });

  it('refuses a PDU whose length does not match, and cancels on ESC', async () => {
    const { sim: s, client: c } = await open();
    await c.type('ATE0;+CMEE=1\r', FINAL);
    const pdu = new Submit('+4512345678', 'x').toString();
    await c.type(`AT+CMGS=${pdu.length / 2}\r`, /> $/);
    expect(await c.type(`${pdu}\x1a`, FINAL)).toBe('\r\n+CMS ERROR: 304\r\n');
    await c.type('AT+CMGS=10\r', /> $/);
    expect(await c.type('0011\x1b', FINAL)).toBe('\r\nOK\r\n');
    await c.type('AT+CMGS=10\r', /> $/);
    expect(await c.type('not hex\x1a', FINAL)).toBe('\r\n+CMS ERROR: 304\r\n');
    expect(s.sent).toHaveLength(0);
  });

  it('refuses to send without an SMSC', async () => {
    const { client: c } = await open({ smsc: '' });
    await c.type('ATE0;+CMEE=1\r', FINAL);
    const pdu = new Submit('+4512345678', 'x').toString();
    await c.type(`AT+CMGS=${pdu.length / 2 - 1}\r`, /> $/);
    expect(await c.type(`${pdu}\x1a`, FINAL)).toBe('\r\n+CMS ERROR: 330\r\n');
  });

  it('speaks text mode, with a prompt after each line of text', async () => {
    const { sim: s, client: c } = await open();
    await c.type('ATE0;+CMEE=1;+CMGF=1\r', FINAL);
    await c.type('AT+CMGS="+4512345678"\r', /> $/);
    expect(await c.type('line one\r', /> $/)).toBe('\r\n> ');
    expect(await c.type('line two\x1a', FINAL)).toBe('\r\n+CMGS: 0\r\n\r\nOK\r\n');
    expect(s.sent[0]).toMatchObject({ to: '+4512345678', text: 'line one\nline two', mode: 'text' });
  });

  it('disconnect: drops the connection at the next command, and refuses new ones until cleared', async () => {
    const { sim: s, client: c } = await open();
    await c.type('ATE0\r', FINAL);
    s.setFault({ kind: 'disconnect' });
    await c.closed;
    const again = await RawClient.connect(s.port);
    await again.closed;
    s.setFault(null);
    client = await RawClient.connect(s.port);
    expect(await client.type('AT\r', FINAL)).toMatch(/OK/);
  });

  it('keeps settings across connections, as a modem behind a serial server does', async () => {
    const { sim: s, client: c } = await open();
    await c.type('ATE0;+CMGF=1\r', FINAL);
    c.close();
    client = await RawClient.connect(s.port);
    expect(await client.type('AT+CMGF?\r', FINAL)).toBe('\r\n+CMGF: 1\r\n\r\nOK\r\n');
  });

  it('records both directions in the transcript', async () => {
    const { sim: s, client: c } = await open();
    await c.type('AT\r', FINAL);
    expect(s.transcript.map((e) => [e.dir, e.data])).toEqual([
      ['in', 'AT\r'],
      ['out', 'AT\r'],
      ['out', '\r\nOK\r\n'],
    ]);
    expect(s.transcript.every((e) => typeof e.at === 'number')).toBe(true);
  });
});
