/** The agent's stop deadline and the systemd unit's TimeoutStopSec must agree, or systemd kills mid-send. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { STOP_DEADLINE_MS } from '../../../edge-agent/agent.ts';

const UNIT = path.join(import.meta.dirname, '../../../edge-agent/packaging/smspass-edge-agent.service');

/** A systemd time span as the unit may write it: `30`, `30s`, `1min 30s`, `90000ms`. */
function timeSpanMs(value: string): number {
  const units: Record<string, number> = { ms: 1, s: 1000, sec: 1000, m: 60_000, min: 60_000 };
  let total = 0;
  for (const [, n, unit] of value.trim().matchAll(/(\d+)\s*([a-z]*)/g)) {
    const factor = units[unit || 's'];
    if (factor === undefined) throw new Error(`unexpected time unit in ${JSON.stringify(value)}`);
    total += Number(n) * factor;
  }
  return total;
}

describe('stop deadline', () => {
  it('leaves the agent room to exit on its own before systemd kills it', async () => {
    const unit = await readFile(UNIT, 'utf8');
    const stop = /^TimeoutStopSec=(.+)$/m.exec(unit)?.[1];
    expect(stop, 'the unit sets TimeoutStopSec').toBeDefined();
    expect(/^KillSignal=SIGTERM$/m.test(unit)).toBe(true);
    const systemdMs = timeSpanMs(stop!);
    // node's exit and the last journal write need a moment after the deadline
    expect(systemdMs - STOP_DEADLINE_MS).toBeGreaterThanOrEqual(3_000);
    // and the unit should not wait far longer than the agent ever takes
    expect(systemdMs - STOP_DEADLINE_MS).toBeLessThanOrEqual(10_000);
  });

  it('reads systemd time spans', () => {
    expect(timeSpanMs('30')).toBe(30_000);
    expect(timeSpanMs('1min 30s')).toBe(90_000);
    expect(timeSpanMs('2500ms')).toBe(2_500);
  });
});
