/**
 * The pool under modem faults, on simulated modems, with the driver's real timeouts and probes: a modem that
 * hangs for good, one that hangs for 20 s, one that answers every send with +CMS ERROR, and a lone modem that
 * hangs and comes back. Times are printed beside a no-fault run; the assertions are about who sent what.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  ModemPool,
  type ModemPoolOptions,
  type ModemStatus,
} from '../../../../edge-agent/modem/pool/pool.ts';
import type { SendOutcome } from '../../../../edge-agent/ports.ts';
import type { SimulatorFault } from '../../../../edge-agent/simulator/faults.ts';
import { type RunningSimulator, startSimulator } from '../../../../edge-agent/simulator/server.ts';

const SEND_MS = 200;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let sims: RunningSimulator[] = [];
let pool: ModemPool | undefined;
afterEach(async () => {
  await pool?.close();
  await Promise.all(sims.map((s) => s.close()));
  sims = [];
  pool = undefined;
});

async function setup(count: number, options: ModemPoolOptions = {}) {
  sims = await Promise.all(
    Array.from({ length: count }, (_, i) => startSimulator({ name: `m${i}`, sendDelayMs: SEND_MS })),
  );
  pool = new ModemPool(
    sims.map((s) => ({ id: s.name, group: 'g', url: s.url })),
    { statusIntervalMs: 0, ...options },
  );
  await pool.start();
  return pool;
}

const job = (i: number) => ({
  to: `+45${20_000_000 + i}`,
  text: `burst job ${i}`,
  flash: false,
  modemGroup: 'g',
});

/** Sends `count` jobs at once; resolves with each outcome and when it settled, in ms from the start. */
async function burst(p: ModemPool, count: number, first = 0) {
  const started = performance.now();
  const settledAt: number[] = [];
  const outcomes = await Promise.all(
    Array.from({ length: count }, (_, i) =>
      p.send(job(first + i)).then((o) => {
        settledAt[i] = performance.now() - started;
        return o;
      }),
    ),
  );
  return { outcomes, settledAt, started };
}

/** When the last SMS went out, in ms after `started` (from the modems' own records). */
function lastSms(started: number): number {
  const origin = performance.timeOrigin + started;
  const times = sims.flatMap((s) => s.sent.map((m) => Date.parse(m.at)));
  return Math.max(...times) - origin;
}

/** Sets the fault on sims[0] once it has sent `after` SMS and typed the body of the next one. */
async function faultMidSend(after: number, fault: SimulatorFault): Promise<number> {
  const sim = sims[0]!;
  while (sim.sent.length < after) await sleep(2);
  const bodies = () => sim.transcript.filter((e) => e.dir === 'in' && e.data.includes('\x1a')).length;
  while (bodies() <= after) await sleep(1);
  sim.setFault(fault);
  return performance.now();
}

function statusOf(p: ModemPool, modem: string): ModemStatus {
  return p.statuses().find((s) => s.modem === modem)!;
}

const sentBy = (outcomes: SendOutcome[], modem: string) => outcomes.filter((o) => o.ok && o.modem === modem);
const texts = () => sims.flatMap((s) => s.sent.map((m) => m.text));
const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

async function noFaultSeconds(count: number, modems: number): Promise<number> {
  const p = await setup(modems);
  const { started } = await burst(p, count);
  const t = lastSms(started);
  await p.close();
  await Promise.all(sims.map((s) => s.close()));
  pool = undefined;
  sims = [];
  return t;
}

describe('modem pool under faults (4 modems, 100 jobs at once)', () => {
  it('one modem hangs for good: only its job in flight is lost, every other job goes out on the other three', async () => {
    const baseline = await noFaultSeconds(100, 4);
    const p = await setup(4);
    const running = burst(p, 100);
    const hungAt = await faultMidSend(3, { kind: 'hang' });
    const { outcomes, settledAt, started } = await running;

    const failed = outcomes.filter((o) => !o.ok);
    // the one job whose body m0 had when it hung: reported, not resent (the modem did not send it)
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ ok: false, modem: 'm0', reason: 'modem' });
    expect(failed[0]!.ok === false && failed[0]!.detail).toMatch(/may have gone out/);
    expect(sentBy(outcomes, 'm0')).toHaveLength(3);
    expect(sims[0]!.sent).toHaveLength(3);
    // nothing waited behind the hung modem: the other 96 went out on m1..m3, each exactly once
    expect(outcomes.filter((o) => o.ok && o.modem !== 'm0')).toHaveLength(96);
    expect(new Set(texts()).size).toBe(texts().length);
    expect(texts()).toHaveLength(99);
    expect(statusOf(p, 'm0').healthy).toBe(false);
    const reportedAt = settledAt[outcomes.findIndex((o) => !o.ok)]!;
    console.log(
      `hang for good: last SMS at ${secs(lastSms(started))} (no fault: ${secs(baseline)}); ` +
        `the hung modem's job reported ${secs(reportedAt - (hungAt - started))} after it hung`,
    );
  }, 90_000);

  it('one modem hangs for 20 s: the others carry the burst, and it is back in service within seconds of answering', async () => {
    const baseline = await noFaultSeconds(100, 4);
    const p = await setup(4);
    let backAt = 0;
    let outAt = 0;
    p.onStatusChange((s) => {
      if (s.modem !== 'm0') return;
      if (!s.healthy && outAt === 0) outAt = performance.now();
      if (s.healthy && outAt !== 0) backAt = performance.now();
    });
    const running = burst(p, 100);
    const hungAt = await faultMidSend(3, { kind: 'hang', seconds: 20 });
    const { outcomes, started } = await running;
    const lastOfBurst = lastSms(started);

    expect(outcomes.filter((o) => !o.ok)).toHaveLength(1);
    expect(outcomes.filter((o) => o.ok && o.modem !== 'm0')).toHaveLength(96);
    while (backAt === 0) await sleep(50);
    // back in its group: with the others busy, it takes its share of the next burst
    const after = await burst(p, 40, 1000);
    expect(after.outcomes.every((o) => o.ok)).toBe(true);
    expect(sentBy(after.outcomes, 'm0').length).toBeGreaterThan(0);
    expect(new Set(texts()).size).toBe(texts().length);
    console.log(
      `hang for 20 s: last SMS of the burst at ${secs(lastOfBurst)} (no fault: ${secs(baseline)}); ` +
        `m0 out ${secs(outAt - hungAt)} after it hung, back ${secs(backAt - hungAt - 20_000)} after it answered again`,
    );
  }, 120_000);

  it('one modem answers +CMS ERROR to every send: its jobs go to the others, each sent once', async () => {
    const p = await setup(4, { blockAfterErrors: 3 });
    sims[0]!.setFault({ kind: 'cms_error', code: 38 });
    const { outcomes, started } = await burst(p, 100);
    expect(outcomes.every((o) => o.ok)).toBe(true);
    expect(sentBy(outcomes, 'm0')).toHaveLength(0);
    expect(sims[0]!.sent).toHaveLength(0);
    expect(texts()).toHaveLength(100);
    expect(new Set(texts()).size).toBe(100);
    const m0 = statusOf(p, 'm0');
    expect(m0).toMatchObject({ healthy: false, failed: 3 });
    expect(m0.lastError).toMatch(/\+CMS ERROR: 38/);
    // every job m0 refused was retried once elsewhere
    expect(p.statuses().reduce((n, s) => n + s.retries, 0)).toBe(3);
    console.log(`+CMS ERROR on one modem: last SMS at ${secs(lastSms(started))}`);
  }, 60_000);
});

describe('a lone modem that hangs', () => {
  it('holds the queued jobs while it is hung and sends them once it answers again', async () => {
    const p = await setup(1);
    let backAt = 0;
    p.onStatusChange((s) => {
      if (s.healthy) backAt = performance.now();
    });
    const running = burst(p, 20);
    const hungAt = await faultMidSend(3, { kind: 'hang', seconds: 5 });
    const { outcomes, settledAt, started } = await running;

    const failed = outcomes.filter((o) => !o.ok);
    expect(failed).toHaveLength(1);
    expect(failed[0]!.ok === false && failed[0]!.detail).toMatch(/may have gone out/);
    expect(outcomes.filter((o) => o.ok)).toHaveLength(19);
    expect(sims[0]!.sent).toHaveLength(19);
    const queuedDone = Math.max(...settledAt.filter((_, i) => outcomes[i]!.ok));
    console.log(
      `lone modem hung for 5 s: back ${secs(backAt - hungAt - 5_000)} after it answered again; ` +
        `the 16 queued jobs done at ${secs(queuedDone)} (hang began at ${secs(hungAt - started)})`,
    );
  }, 60_000);

  it('hung for good: the job in flight is reported, the queued ones fail no_modem after the grace period', async () => {
    const p = await setup(1, { noModemGraceMs: 3_000 });
    const running = burst(p, 10);
    await faultMidSend(2, { kind: 'hang' });
    const { outcomes, settledAt } = await running;
    expect(outcomes.filter((o) => o.ok)).toHaveLength(2);
    const maybe = outcomes.filter((o) => !o.ok && /may have gone out/.test(o.detail));
    const noModem = outcomes.filter((o) => !o.ok && o.reason === 'no_modem');
    expect(maybe).toHaveLength(1);
    expect(noModem).toHaveLength(7);
    expect(sims[0]!.sent).toHaveLength(2);
    // a job arriving now is told at once
    expect(await p.send(job(99))).toMatchObject({ ok: false, reason: 'no_modem' });
    console.log(`lone modem hung for good: queued jobs failed no_modem at ${secs(Math.max(...settledAt))}`);
  }, 60_000);
});

describe('closing the pool while a modem hangs', () => {
  it('does not hand the queue to the hung modem again: the queued jobs fail no_modem and close returns', async () => {
    const p = await setup(1, { noModemGraceMs: 60_000 });
    const running = burst(p, 6);
    await faultMidSend(1, { kind: 'hang' });
    const closed = p.close();
    const { outcomes } = await running;
    await closed;
    pool = undefined;
    expect(outcomes.filter((o) => o.ok)).toHaveLength(1);
    expect(outcomes.filter((o) => !o.ok && /may have gone out/.test(o.detail))).toHaveLength(1);
    expect(outcomes.filter((o) => !o.ok && o.reason === 'no_modem')).toHaveLength(4);
    // the hung modem was asked to send nothing after the job it hung on
    const submits = sims[0]!.transcript.filter((e) => e.dir === 'in' && e.data.startsWith('AT+CMGS='));
    expect(submits).toHaveLength(2);
  }, 60_000);
});
