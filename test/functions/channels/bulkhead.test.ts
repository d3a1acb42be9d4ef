/** A compartment limits calls in flight, queues a few in order, and refuses the rest at once. */
import { describe, expect, it } from 'vitest';
import { Bulkhead, BulkheadFullError, Bulkheads } from '../../../functions/core/channels/bulkhead.ts';

function gate() {
  let open!: () => void;
  const opened = new Promise<void>((r) => {
    open = r;
  });
  return { open, opened };
}

describe('Bulkhead', () => {
  it('runs at most maxConcurrent at once and the waiting ones in arrival order', async () => {
    const b = new Bulkhead('t/p', { maxConcurrent: 2, maxQueued: 5 });
    const gates = [gate(), gate(), gate(), gate()];
    const started: number[] = [];
    const runs = gates.map((g, i) =>
      b.run(async () => {
        started.push(i);
        await g.opened;
        return i;
      }),
    );
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([0, 1]);
    expect([b.inFlight, b.queued]).toEqual([2, 2]);
    gates[1]!.open();
    await runs[1];
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([0, 1, 2]);
    for (const g of gates) g.open();
    expect(await Promise.all(runs)).toEqual([0, 1, 2, 3]);
    expect([b.inFlight, b.queued]).toEqual([0, 0]);
  });

  it('refuses at once when the queue is full, and frees the slot when a task throws', async () => {
    const b = new Bulkhead('t/p', { maxConcurrent: 1, maxQueued: 1 });
    const g = gate();
    const first = b.run(() => g.opened);
    const second = b.run(async () => 'second');
    await expect(b.run(async () => 'third')).rejects.toBeInstanceOf(BulkheadFullError);
    g.open();
    await first;
    expect(await second).toBe('second');
    await expect(b.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await b.run(async () => 'after')).toBe('after');
  });

  it('drops a waiter whose signal aborts, without ever running its task', async () => {
    const b = new Bulkhead('t/p', { maxConcurrent: 1, maxQueued: 5 });
    const g = gate();
    const first = b.run(() => g.opened);
    const controller = new AbortController();
    let ran = false;
    const waiting = b.run(async () => {
      ran = true;
    }, controller.signal);
    controller.abort(new Error('deadline'));
    await expect(waiting).rejects.toThrow('deadline');
    expect(b.queued).toBe(0);
    g.open();
    await first;
    expect(ran).toBe(false);
  });
});

describe('Bulkheads', () => {
  it('keeps one compartment per key and forgets idle ones', async () => {
    const all = new Bulkheads({ maxConcurrent: 1, maxQueued: 0 });
    const g = gate();
    const a = all.for('tenant-a/p').run(() => g.opened);
    await expect(all.for('tenant-a/p').run(async () => 1)).rejects.toBeInstanceOf(BulkheadFullError);
    expect(await all.for('tenant-b/p').run(async () => 2)).toBe(2);
    expect(all.size).toBe(1);
    g.open();
    await a;
    expect(all.size).toBe(0);
  });
});
