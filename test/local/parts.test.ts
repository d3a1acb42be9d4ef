/**
 * How the local stack stops what it started: last first, every step even when one fails, each only once, and
 * a starter that fails halfway stops what it had already started before it reports the failure.
 */
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../functions/adapters/log.ts';
import { StopSteps, startPart } from '../../functions/local/starters/part.ts';

function recorder() {
  const lines: string[] = [];
  const log = createLogger({}, { level: 'debug', write: (line) => lines.push(line) });
  return { lines, log };
}

describe('stop steps', () => {
  it('stop last first, carry on past a failing step, and run once', async () => {
    const { lines, log } = recorder();
    const order: string[] = [];
    const steps = new StopSteps(log);
    steps.push(async () => order.push('first'));
    steps.push(async () => {
      throw new Error('stuck');
    });
    steps.add({ stop: async () => void order.push('third') });
    await steps.run();
    expect(order).toEqual(['third', 'first']);
    expect(lines.filter((l) => l.includes('stop step failed'))).toHaveLength(1);
    await steps.run();
    expect(order).toEqual(['third', 'first']);
  });

  it('a starter that throws stops what it started, and nothing it did not', async () => {
    const { log } = recorder();
    const order: string[] = [];
    const failed = startPart(log, async (stops) => {
      stops.push(async () => order.push('server'));
      stops.push(async () => order.push('client'));
      throw new Error('queue creation failed');
    });
    await expect(failed).rejects.toThrow('queue creation failed');
    expect(order).toEqual(['client', 'server']);
  });

  it('a started part stops its own steps when asked, not before', async () => {
    const { log } = recorder();
    const order: string[] = [];
    const part = await startPart(log, async (stops) => {
      stops.push(async () => order.push('server'));
      return { url: 'http://127.0.0.1:1' };
    });
    expect(part.url).toBe('http://127.0.0.1:1');
    expect(order).toEqual([]);
    await part.stop();
    expect(order).toEqual(['server']);
  });
});
