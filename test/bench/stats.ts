import { createHash } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
/** Small helpers every benchmark prints with. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

export function summarize(values: readonly number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  const mean = sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length);
  return {
    n: sorted.length,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    mean,
    max: sorted.at(-1) ?? Number.NaN,
  };
}

export const ms = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : '-');

export function table(header: string[], rows: Array<Array<string | number>>): void {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  for (const row of cells)
    console.log(row.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
}

/**
 * The machine a bench ran on: the CPU model, and a CPU-speed baseline measured now (SHA-256 of 1 KiB, one core),
 * so that runs on different machines, or on one machine under different load, can be compared.
 */
export function machineLine(): string {
  const data = Buffer.alloc(1024, 7);
  const started = performance.now();
  let n = 0;
  while (performance.now() - started < 200) {
    for (let i = 0; i < 200; i++) createHash('sha256').update(data).digest();
    n += 200;
  }
  const perSecond = n / ((performance.now() - started) / 1000);
  const cpu = cpus();
  return `CPU: ${cpu[0]?.model ?? '?'} × ${cpu.length}, load ${loadavg()[0]?.toFixed(1)}, node ${process.version}; baseline: SHA-256 of 1 KiB ${(perSecond / 1000).toFixed(0)}k/s on one core`;
}
