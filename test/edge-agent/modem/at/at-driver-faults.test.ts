import { afterEach, describe, expect, it } from 'vitest';
import {
  AtTimeoutError,
  CmsError,
  ModemDisconnectedError,
  type ModemError,
  SimLockedError,
} from '../../../../edge-agent/modem/at/errors.ts';
import { type Harness, startHarness, typedCommands } from './driver-harness.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function rejection(p: Promise<unknown>): Promise<ModemError> {
  try {
    await p;
  } catch (err) {
    return err as ModemError;
  }
  throw new Error('expected a rejection');
}

const sms = { to: '+4512345678', text: 'code 123456' };

describe('AtDriver with every fault the simulator injects', () => {
  it.each([
    [500, 'temporary'],
    [42, 'temporary'],
    [1, 'permanent'],
    [21, 'permanent'],
    [330, 'modem'],
    [310, 'modem'],
  ] as const)('cms_error %i is classified %s', async (code, kind) => {
    h = await startHarness();
    await h.driver.init();
    h.sim.setFault({ kind: 'cms_error', code });
    const err = await rejection(h.driver.sendSms(sms));
    expect(err).toBeInstanceOf(CmsError);
    expect(err).toMatchObject({ kind, code: `cms_${code}`, cms: code });
    expect(h.sim.sent).toHaveLength(0);
    h.sim.setFault(null);
    expect((await h.driver.sendSms(sms)).messageRefs).toHaveLength(1);
  });

  it('no_network: init sees it, and a send fails as a modem problem (CMS 331)', async () => {
    h = await startHarness();
    h.sim.setFault({ kind: 'no_network' });
    const info = await h.driver.init();
    expect(info).toMatchObject({ registration: 'searching', signal: null });
    expect(await h.driver.status()).toEqual({ signal: null, registration: 'searching', operator: null });
    const err = await rejection(h.driver.sendSms(sms));
    expect(err).toMatchObject({ kind: 'modem', code: 'cms_331' });
  });

  it('sim_pin without a configured PIN: init fails with SimLockedError', async () => {
    h = await startHarness();
    h.sim.setFault({ kind: 'sim_pin' });
    const err = await rejection(h.driver.init());
    expect(err).toBeInstanceOf(SimLockedError);
    expect(err.kind).toBe('modem');
  });

  it('sim_pin with the right PIN: init enters it and the modem sends', async () => {
    h = await startHarness({}, { pin: '1234' });
    h.sim.setFault({ kind: 'sim_pin' });
    await h.driver.init();
    expect(typedCommands(h.sim)).toContain('AT+CPIN="1234"');
    expect((await h.driver.sendSms(sms)).messageRefs).toEqual([0]);
  });

  it('sim_pin with a wrong PIN: entered once, never again, so the SIM is not locked by retries', async () => {
    h = await startHarness({}, { pin: '0000' });
    h.sim.setFault({ kind: 'sim_pin' });
    expect(await rejection(h.driver.init())).toBeInstanceOf(SimLockedError);
    expect(await rejection(h.driver.init())).toBeInstanceOf(SimLockedError);
    expect(await rejection(h.driver.sendSms(sms))).toBeInstanceOf(SimLockedError);
    expect(typedCommands(h.sim).filter((c) => c.startsWith('AT+CPIN='))).toHaveLength(1);
    expect(h.sim.modem.pinAttempts).toBe(2);
  });

  it('hang: every command times out and the error says the modem is broken', async () => {
    h = await startHarness({}, { commandTimeoutMs: 150 });
    await h.driver.init();
    h.sim.setFault({ kind: 'hang' });
    const err = await rejection(h.driver.sendSms(sms));
    expect(err).toBeInstanceOf(AtTimeoutError);
    // It hung before the prompt: the message never reached the modem, so another modem may send it.
    expect(err).toMatchObject({ kind: 'modem', code: 'timeout', maybeSent: false });
    expect(await rejection(h.driver.status())).toBeInstanceOf(AtTimeoutError);
    h.sim.setFault(null);
    expect((await h.driver.sendSms(sms)).messageRefs).toHaveLength(1);
  });

  it('a hang after the message was typed is flagged as possibly sent', async () => {
    h = await startHarness({ sendDelayMs: 0 }, { sendTimeoutMs: 150 });
    await h.driver.init();
    h.driver.on('trace', (dir, text) => {
      if (dir === 'tx' && text === '<body>') h!.sim.setFault({ kind: 'hang' });
    });
    const err = await rejection(h.driver.sendSms(sms));
    expect(err).toMatchObject({ code: 'timeout', maybeSent: true });
  });

  it('garbled: noise lines around every reply do not disturb init, sends or status', async () => {
    h = await startHarness();
    h.sim.setFault({ kind: 'garbled' });
    expect((await h.driver.init()).mode).toBe('pdu');
    expect((await h.driver.sendSms(sms)).messageRefs).toEqual([0]);
    expect((await h.driver.status()).registration).toBe('home');
    expect(h.sim.sent[0]?.text).toBe(sms.text);
  });

  it('garbled everything (a wrong baud rate): commands time out, nothing throws elsewhere', async () => {
    h = await startHarness({}, { commandTimeoutMs: 150 });
    h.sim.setFault({ kind: 'garbled', everything: true });
    const urcs: string[] = [];
    h.driver.on('urc', (l) => urcs.push(l));
    expect(await rejection(h.driver.init())).toBeInstanceOf(AtTimeoutError);
    h.sim.setFault(null);
    await h.driver.init();
    expect((await h.driver.sendSms(sms)).messageRefs).toEqual([0]);
  });

  it('disconnect: the send fails as a modem problem, and the link comes back on its own', async () => {
    h = await startHarness();
    await h.driver.init();
    const reconnected = new Promise<void>((resolve) => {
      h!.driver.on('disconnect', () => h!.driver.once('connect', () => resolve()));
    });
    h.sim.setFault({ kind: 'disconnect' });
    const err = await rejection(h.driver.sendSms(sms));
    expect(err).toBeInstanceOf(ModemDisconnectedError);
    expect(err.kind).toBe('modem');
    h.sim.setFault(null);
    await reconnected;
    // The driver re-initialises on the new link before sending.
    expect((await h.driver.sendSms(sms)).messageRefs).toEqual([0]);
    expect(typedCommands(h.sim).filter((c) => c === 'ATE0').length).toBeGreaterThanOrEqual(2);
  });

  it('slow: replies that come late but within the timeout succeed', async () => {
    h = await startHarness();
    h.sim.setFault({ kind: 'slow', delayMs: 20 });
    await h.driver.init();
    expect((await h.driver.sendSms(sms)).messageRefs).toEqual([0]);
  });

  it('slow beyond the command timeout: a timeout, then the late replies do not confuse later commands', async () => {
    h = await startHarness({}, { commandTimeoutMs: 100 });
    await h.driver.init();
    h.sim.setFault({ kind: 'slow', delayMs: 300 });
    expect(await rejection(h.driver.status())).toBeInstanceOf(AtTimeoutError);
    h.sim.setFault(null);
    // The late +CSQ/OK of the abandoned command arrives while the driver re-initialises; it resynchronises.
    expect((await h.driver.sendSms(sms)).messageRefs).toHaveLength(1);
    expect(h.sim.sent.map((s) => s.text)).toEqual([sms.text]);
  });
});
