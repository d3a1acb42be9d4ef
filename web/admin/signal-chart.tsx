/**
 * A modem's signal strength over time, drawn on the server as inline SVG: no chart library and no script go to
 * the browser. The same readings follow as a table for screen readers and keyboard users. Signal is the
 * modem's `+CSQ` RSSI (0–31, where 31 is −51 dBm or better; 99 or null: not known).
 */
import type { ModemReport } from '../../functions/core/ports/directory.ts';
import { when } from './paging.ts';

const W = 800;
const H = 240;
const LEFT = 76;
const RIGHT = 16;
const TOP = 12;
const BOTTOM = 40;
/** Points keep clear of the axis. */
const INSET = 10;
const PLOT_W = W - LEFT - RIGHT - 2 * INSET;
const PLOT_H = H - TOP - BOTTOM;
const CSQ_MAX = 31;

/** Drawn with presentation attributes (the page's CSP allows no inline style). */
const INK = '#1b1f24';
const MUTED = '#555d66';
const LINE = '#d0d6dc';
const ACCENT = '#0b5cad';
const BAD = '#b3261e';
const BAD_BG = '#f8d7d4';

/** A reading's RSSI, or null when the modem did not know it. */
export const csqOf = (signal: number | null | undefined) =>
  typeof signal === 'number' && signal >= 0 && signal <= CSQ_MAX ? signal : null;

export const dbmOf = (csq: number) => -113 + 2 * csq;

/** The usual reading of a CSQ value, in words (never colour alone). */
export function quality(csq: number | null): string {
  if (csq === null) return 'no signal reading';
  if (csq < 10) return 'marginal';
  if (csq < 15) return 'fair';
  if (csq < 20) return 'good';
  return 'excellent';
}

export const signalText = (signal: number | null | undefined) => {
  const csq = csqOf(signal);
  return csq === null ? 'not known' : `${csq} (${dbmOf(csq)} dBm, ${quality(csq)})`;
};

const GRID = [0, 10, 15, 20, CSQ_MAX];

/** History newest first, as the agent service returns it. */
export function SignalChart(props: { id: string; modem: string; history: ModemReport[] }) {
  const readings = [...props.history].reverse();
  if (readings.length === 0) return <p class="empty">No reports from this modem yet.</p>;
  const times = readings.map((r) => Date.parse(r.at));
  const first = times[0]!;
  const last = times.at(-1)!;
  const span = last - first;
  const x = (t: number) => LEFT + INSET + (span > 0 ? ((t - first) / span) * PLOT_W : PLOT_W / 2);
  const y = (csq: number) => TOP + PLOT_H - (csq / CSQ_MAX) * PLOT_H;

  // A gap in the line wherever the modem did not know its signal.
  const runs: string[][] = [[]];
  readings.forEach((r, i) => {
    const csq = csqOf(r.signal);
    if (csq === null) {
      if (runs.at(-1)!.length > 0) runs.push([]);
      return;
    }
    runs.at(-1)!.push(`${x(times[i]!).toFixed(1)},${y(csq).toFixed(1)}`);
  });

  const known = readings.map((r) => csqOf(r.signal)).filter((v): v is number => v !== null);
  const latest = csqOf(readings.at(-1)!.signal);
  const summary =
    known.length === 0
      ? `${readings.length} reports from ${when(readings[0]!.at)} to ${when(readings.at(-1)!.at)}, none with a signal reading.`
      : `${readings.length} reports from ${when(readings[0]!.at)} to ${when(readings.at(-1)!.at)}: ` +
        `latest ${latest === null ? 'not known' : `${latest} (${dbmOf(latest)} dBm)`}, ` +
        `lowest ${Math.min(...known)}, highest ${Math.max(...known)}.`;
  const titleId = `${props.id}-title`;
  const descId = `${props.id}-desc`;

  return (
    <figure class="signal">
      <svg
        class="chart"
        viewBox={`0 0 ${W} ${H}`}
        width="100%"
        role="img"
        aria-labelledby={`${titleId} ${descId}`}
        data-points={String(readings.length)}
      >
        <title id={titleId}>Signal strength of {props.modem} over time</title>
        <desc id={descId}>{summary}</desc>
        {readings.map((r, i) =>
          r.healthy ? null : (
            // an unhealthy report shades its moment, whatever its signal
            <rect x={x(times[i]!) - 6} y={TOP} width="12" height={PLOT_H} fill={BAD_BG} />
          ),
        )}
        {GRID.map((csq) => (
          <g>
            <line x1={LEFT} x2={W - RIGHT} y1={y(csq)} y2={y(csq)} stroke={LINE} stroke-width="1" />
            <text x={LEFT - 6} y={y(csq) + 4} text-anchor="end" font-size="12" fill={MUTED}>
              {dbmOf(csq)} dBm
            </text>
          </g>
        ))}
        <line x1={LEFT} x2={LEFT} y1={TOP} y2={TOP + PLOT_H} stroke={MUTED} stroke-width="1" />
        {runs
          .filter((run) => run.length > 1)
          .map((run) => (
            <polyline points={run.join(' ')} fill="none" stroke={ACCENT} stroke-width="2" />
          ))}
        {readings.map((r, i) => {
          const csq = csqOf(r.signal);
          const cx = x(times[i]!);
          if (csq === null)
            // no reading: a tick on the axis, so the report still shows
            return (
              <line x1={cx} x2={cx} y1={TOP + PLOT_H - 6} y2={TOP + PLOT_H} stroke={BAD} stroke-width="2" />
            );
          return r.healthy ? (
            <circle cx={cx} cy={y(csq)} r="3.5" fill={ACCENT} />
          ) : (
            <rect x={cx - 4} y={y(csq) - 4} width="8" height="8" fill={BAD} />
          );
        })}
        <text x={LEFT + INSET} y={H - 14} font-size="12" fill={INK}>
          {when(readings[0]!.at)}
        </text>
        {span > 0 && (
          <text x={W - RIGHT} y={H - 14} text-anchor="end" font-size="12" fill={INK}>
            {when(readings.at(-1)!.at)}
          </text>
        )}
      </svg>
      <figcaption class="hint">
        {summary} Circles: healthy reports; red squares and shading: unhealthy reports; red ticks on the axis:
        no signal reading.
      </figcaption>
      <details>
        <summary>The readings as a table</summary>
        <div class="table-wrap">
          <table>
            <caption class="visually-hidden">Signal readings of {props.modem}, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Heard at</th>
                <th scope="col">Signal</th>
                <th scope="col">Health</th>
                <th scope="col">Registration</th>
                <th scope="col">Queue</th>
                <th scope="col">Retransmissions</th>
              </tr>
            </thead>
            <tbody>
              {props.history.map((r) => (
                <tr>
                  <td>{when(r.at)}</td>
                  <td>{signalText(r.signal)}</td>
                  <td>{r.healthy ? 'healthy' : 'unhealthy'}</td>
                  <td>{r.registration}</td>
                  <td>{r.queue}</td>
                  <td>{r.retries}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </figure>
  );
}
