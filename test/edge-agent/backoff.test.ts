import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../edge-agent/backoff.ts';

describe('backoffDelay (modem transports and the MQTT link)', () => {
  it('grows exponentially up to the cap, with jitter between half and all of the ceiling', () => {
    const opts = { initialMs: 100, maxMs: 1_000 };
    expect([0, 1, 2, 3, 4, 10].map((n) => backoffDelay(n, opts, () => 0))).toEqual([
      50, 100, 200, 400, 500, 500,
    ]);
    expect([0, 1, 2, 3, 4, 10].map((n) => backoffDelay(n, opts, () => 1))).toEqual([
      100, 200, 400, 800, 1000, 1000,
    ]);
  });

  it('stays within [ceiling / 2, ceiling] for any draw and does not overflow after many attempts', () => {
    const opts = { initialMs: 250, maxMs: 30_000 };
    for (const attempt of [0, 5, 31, 1_000, Number.MAX_SAFE_INTEGER]) {
      const ceiling = Math.min(30_000, 250 * 2 ** Math.min(attempt, 30));
      const delay = backoffDelay(attempt, opts);
      expect(delay).toBeGreaterThanOrEqual(ceiling / 2);
      expect(delay).toBeLessThanOrEqual(ceiling);
    }
  });
});
