/**
 * Filtering and paging for the console's log pages. The list services page newest first by cursor and filter
 * only some fields themselves; what they cannot filter (a date range, an actor) is applied here, to the rows of
 * the same pages the JSON API hands out, and the next page link carries the service's own cursor on.
 */

/** A cursor as the list APIs hand them out (base64url); anything else is dropped rather than passed on. */
export const CURSOR = /^[A-Za-z0-9_-]{1,1024}$/;

export const cursorOf = (raw: string | undefined) => (raw && CURSOR.test(raw) ? raw : undefined);

/** A day picked in a date field, as the range's start or its end (UTC), or undefined when not a date. */
export function dayBound(raw: string | undefined, end: boolean): string | undefined {
  if (!raw || !/^\d{4}-\d{2}-\d{2}$/.test(raw)) return undefined;
  const at = Date.parse(`${raw}T${end ? '23:59:59.999' : '00:00:00.000'}Z`);
  return Number.isNaN(at) ? undefined : new Date(at).toISOString();
}

export interface Range {
  from?: string | undefined;
  to?: string | undefined;
}

export interface Collected<T> {
  rows: T[];
  /** The service's cursor for the rows after these; none when the list (or the range) has ended. */
  cursor?: string | undefined;
}

/**
 * Reads pages (newest first) until `want` rows passed `keep`, the list ends, or the range's start is passed,
 * at most `maxReads` pages a request: a filter that matches little still answers quickly, with a link on.
 */
export async function collect<T extends { at: string }>(
  read: (cursor: string | undefined) => Promise<{ rows: T[]; cursor?: string | undefined }>,
  options: {
    start?: string | undefined;
    range: Range;
    keep?: (row: T) => boolean;
    want: number;
    maxReads?: number;
  },
): Promise<Collected<T>> {
  const { range, want } = options;
  const keep = options.keep ?? (() => true);
  const rows: T[] = [];
  let cursor = options.start;
  for (let reads = 0; reads < (options.maxReads ?? 5); reads++) {
    const page = await read(cursor);
    let passedStart = false;
    for (const row of page.rows) {
      if (range.from && row.at < range.from) {
        passedStart = true;
        break;
      }
      if (range.to && row.at > range.to) continue;
      if (keep(row)) rows.push(row);
    }
    cursor = passedStart ? undefined : page.cursor;
    if (!cursor || rows.length >= want) break;
  }
  return { rows, cursor };
}

/** A link to the same page with these query values (empty ones left out). */
export function hrefWith(path: string, query: Record<string, string | undefined>): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) if (value) params.set(name, value);
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

/** An ISO time as people read it in the console: date and time to the second, in UTC. */
export function when(iso: string | null | undefined): string {
  if (!iso) return '—';
  const at = Date.parse(iso);
  if (Number.isNaN(at)) return iso;
  return `${new Date(at).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}
