import { afterEach, describe, expect, it } from 'vitest';
import {
  type ModemConfig,
  ModemPool,
  type ModemPoolOptions,
  type ModemStatus,
} from '../../../../edge-agent/modem/pool/pool.ts';
import { TcpTransport } from '../../../../edge-agent/modem/transport/transport.ts';
import type { DeliveryReport, SendOutcome } from '../../../../edge-agent/ports.ts';
import {
  type RunningSimulator,
  type SimulatorOptions,
  startSimulator,
} from '../../../../edge-agent/simulator/server.ts';

let sims: RunningSimulator[] = [];
let pool: ModemPool | undefined;
afterEach(async () => {
  await pool?.close();
  await Promise.all(sims.map((s) => s.close()));
  sims = [];
  pool = undefined;
});

async function setup(count: number, simOptions: SimulatorOptions = {}, poolOptions: ModemPoolOptions = {}) {
  sims = await Promise.all(
    Array.from({ length: count }, (_, i) =>
      startSimulator({ name: `m${i}`, sendDelayMs: 1, deliveryDelayMs: 5, ...simOptions }),
    ),
  );
  const configs: ModemConfig[] = sims.map((s) => ({ id: s.name, group: 'carrier-a', url: s.url }));
  pool = new ModemPool(configs, {
    transportFactory: (url) => {
      const target = new URL(url);
      return new TcpTransport(target.hostname, Number(target.port), { initialDelayMs: 10, maxDelayMs: 100 });
    },
    blockAfterErrors: 2,
    blockForMs: 200,
    statusIntervalMs: 0,
    driver: { commandTimeoutMs: 300, sendTimeoutMs: 2_000, connectTimeoutMs: 1_000 },
    ...poolOptions,
  });
  return pool;
}

const job = (i: number, text = `Your code is ${String(i).padStart(6, '0')}`) => ({
  to: `+45${String(20_000_000 + i)}`,
  text,
  flash: false,
  modemGroup: 'carrier-a',
});

function sentTexts(): string[] {
  return sims.flatMap((s) => s.sent.map((m) => m.text));
}

function statusOf(p: ModemPool, modem: string): ModemStatus {
  return p.statuses().find((s) => s.modem === modem)!;
}

describe('ModemPool over simulated modems', () => {
  it.each([1, 2, 4])(
    'sends 100 SMS over %i modem(s), each exactly once, every modem taking its share',
    async (n) => {
      const p = await setup(n);
      await p.start();
      const outcomes = await Promise.all(Array.from({ length: 100 }, (_, i) => p.send(job(i))));
      expect(outcomes.every((o) => o.ok)).toBe(true);
      const texts = sentTexts();
      expect(texts).toHaveLength(100);
      expect(new Set(texts).size).toBe(100);
      // modems pull the next job when free, so equal modems end up with about equal shares
      for (const sim of sims) expect(sim.sent.length).toBeGreaterThan(100 / n / 2);
      const statuses = p.statuses();
      expect(statuses.reduce((sum, s) => sum + s.sent, 0)).toBe(100);
      expect(
        statuses.every((s) => s.healthy && s.queue === 0 && s.errors === 0 && s.registration === 'home'),
      ).toBe(true);
      expect(statuses[0]).toMatchObject({
        group: 'carrier-a',
        signal: 21,
        operator: 'SIM Operator',
        lastError: null,
      });
    },
  );

  it('blocks a hung modem, sends its traffic through the other, and takes it back after a re-probe', async () => {
    const p = await setup(2);
    await p.start();
    sims[0]!.setFault({ kind: 'hang' });
    const outcomes = await Promise.all(Array.from({ length: 20 }, (_, i) => p.send(job(i))));
    expect(outcomes.every((o) => o.ok && o.modem === 'm1')).toBe(true);
    expect(sims[0]!.sent).toHaveLength(0);
    expect(new Set(sentTexts()).size).toBe(20);
    const hung = statusOf(p, 'm0');
    // The one send it did not answer puts it on the block list; the job never left, so m1 sent it.
    expect(hung).toMatchObject({ healthy: false, failed: 1 });
    expect(hung.lastError).toMatch(/no final result|no answer to AT/);
    expect(statusOf(p, 'm1').retries).toBe(1);

    const back = new Promise<void>((resolve) =>
      p.onStatusChange((s) => s.modem === 'm0' && s.healthy && resolve()),
    );
    sims[0]!.setFault(null);
    await back;
    const later = await Promise.all([p.send(job(100)), p.send(job(101))]);
    expect(later.map((o) => o.ok && o.modem).sort()).toEqual(['m0', 'm1']);
  });

  it('retries a temporary failure on another modem of the group', async () => {
    const p = await setup(2);
    await p.start();
    sims[0]!.setFault({ kind: 'cms_error', code: 500 });
    sims[1]!.setFault({ kind: 'cms_error', code: 500 });
    const first = await p.send(job(1));
    expect(first).toMatchObject({ ok: false, reason: 'temporary' });
    sims[1]!.setFault(null);
    const second = await p.send(job(2));
    expect(second).toMatchObject({ ok: true, modem: 'm1' });
    expect(sentTexts()).toEqual([job(2).text]);
  });

  it('fails a job for a number the network refuses without trying another modem', async () => {
    const p = await setup(2);
    await p.start();
    for (const s of sims) s.setFault({ kind: 'cms_error', code: 1 });
    const outcome = await p.send(job(1));
    expect(outcome).toMatchObject({ ok: false, reason: 'permanent' });
    expect(p.statuses().reduce((n, s) => n + s.failed, 0)).toBe(1);
    // A bad number says nothing about the modem: it stays healthy.
    expect(p.statuses().every((s) => s.healthy)).toBe(true);
  });

  it('keeps a modem whose SIM wants a PIN out of the pool from the start', async () => {
    const p = await setup(2);
    sims[0]!.setFault({ kind: 'sim_pin' });
    await p.start();
    expect(statusOf(p, 'm0')).toMatchObject({ healthy: false });
    expect(statusOf(p, 'm0').lastError).toMatch(/SIM is locked/);
    const outcomes = await Promise.all(Array.from({ length: 6 }, (_, i) => p.send(job(i))));
    expect(outcomes.every((o) => o.ok && o.modem === 'm1')).toBe(true);
  });

  it('enters the configured PIN and uses the modem', async () => {
    sims = [await startSimulator({ name: 'pin', sendDelayMs: 0 })];
    sims[0]!.setFault({ kind: 'sim_pin', pin: '9876' });
    pool = new ModemPool([{ id: 'pin', group: 'g', url: sims[0]!.url, pin: '9876' }], {
      statusIntervalMs: 0,
    });
    await pool.start();
    expect(await pool.send({ ...job(1), modemGroup: 'g' })).toMatchObject({ ok: true, modem: 'pin' });
  });

  it('moves traffic off a modem whose link drops, without sending anything twice', async () => {
    const p = await setup(2, { sendDelayMs: 5 });
    await p.start();
    const outcomes: Promise<SendOutcome>[] = [];
    for (let i = 0; i < 40; i++) {
      outcomes.push(p.send(job(i)));
      if (i === 10) sims[0]!.setFault({ kind: 'disconnect' });
    }
    const results = await Promise.all(outcomes);
    const texts = sentTexts();
    expect(new Set(texts).size).toBe(texts.length);
    // A part cut off after it was typed may or may not have gone out: the pool reports it instead of resending.
    for (const r of results) if (!r.ok) expect(r.detail).toMatch(/may have gone out/);
    expect(results.filter((r) => r.ok).length).toBeGreaterThanOrEqual(39);
    expect(texts.length).toBeGreaterThanOrEqual(results.filter((r) => r.ok).length);
  });

  it('reports delivery by modem and message reference', async () => {
    const p = await setup(1);
    await p.start();
    const reports: DeliveryReport[] = [];
    const got = new Promise<void>((resolve) =>
      p.onDeliveryReport((r) => {
        reports.push(r);
        if (reports.length === 3) resolve();
      }),
    );
    const a = await p.send(job(1));
    const b = await p.send(job(2, 'x'.repeat(200)));
    await got;
    const refs = [...(a.ok ? a.messageRefs : []), ...(b.ok ? b.messageRefs : [])];
    expect(reports.map((r) => r.messageRef).sort()).toEqual(refs.sort());
    expect(reports.every((r) => r.modem === 'm0' && r.status === 0)).toBe(true);
  });

  it('survives a listener that throws, and logs it', async () => {
    const logged: string[] = [];
    const logger = {
      debug: () => {},
      info: () => {},
      warn: () => {},
      error: (msg: string) => logged.push(msg),
      child: () => logger,
    };
    const p = await setup(1, {}, { logger });
    await p.start();
    p.onDeliveryReport(() => {
      throw new Error('listener bug');
    });
    const second = new Promise<DeliveryReport>((resolve) => p.onDeliveryReport(resolve));
    const outcome = await p.send(job(1));
    expect((await second).messageRef).toBe(outcome.ok ? outcome.messageRefs[0] : -1);
    expect(logged).toContain('modem pool listener failed');
    expect((await p.send(job(2))).ok).toBe(true);
  });

  it('says which jobs it cannot take, and why', async () => {
    const p = await setup(1);
    expect(await p.send({ ...job(1), modemGroup: 'carrier-b' })).toMatchObject({
      ok: false,
      reason: 'no_modem',
    });
    expect(await p.send({ ...job(1), to: 'alice' })).toMatchObject({ ok: false, reason: 'invalid' });
    expect(await p.send(job(1, 'a'.repeat(153 * 255 + 1)))).toMatchObject({ ok: false, reason: 'invalid' });
    expect(p.groups()).toEqual(['carrier-a']);
  });

  it('on close, finishes the sends in flight and takes no new ones', async () => {
    const p = await setup(1, { sendDelayMs: 20 });
    await p.start();
    const inFlight = Array.from({ length: 5 }, (_, i) => p.send(job(i)));
    const closed = p.close();
    expect(await p.send(job(99))).toMatchObject({ ok: false, reason: 'no_modem' });
    const results = await Promise.all(inFlight);
    await closed;
    expect(results.every((r) => r.ok)).toBe(true);
    expect(sims[0]!.sent).toHaveLength(5);
    pool = undefined;
  });

  it('refuses a configuration that names a modem twice', () => {
    expect(
      () =>
        new ModemPool([
          { id: 'a', group: 'g', url: 'tcp://127.0.0.1:1' },
          { id: 'a', group: 'g', url: 'tcp://127.0.0.1:2' },
        ]),
    ).toThrow(/"a" is configured twice/);
  });
});
