/**
 * Newest-first listings over several partitions at once (the shards of a month, the audit log's entries and
 * the challenges that stand for entries): each stream is read from where it stood, and the rows are merged by
 * sort key. A position per stream makes the cursor: a page continues exactly after the rows it showed, in each
 * stream, however the streams interleave.
 */

export interface Row<T> {
  /** The sort key in the stream; rows of all streams compare by it. */
  key: string;
  /** Undefined for a row the listing skips (gone, or not for this listing): its position still moves past it. */
  value: T | undefined;
}

export interface Stream<T> {
  /** Up to `limit` rows older than `after` (all from the newest when undefined), newest first. */
  fetch(after: string | undefined, limit: number): Promise<{ rows: Row<T>[]; more: boolean }>;
}

export interface MergedPage<T> {
  rows: T[];
  positions: Array<string | undefined>;
  /** Some stream has rows after the ones taken. */
  left: boolean;
}

/**
 * The `need` newest rows of all streams after their positions. Each stream gives at most `need`, so a row
 * it did not give is older than all it gave, and cannot belong among the `need` newest.
 */
export async function mergePage<T>(
  streams: Stream<T>[],
  positions: Array<string | undefined>,
  need: number,
): Promise<MergedPage<T>> {
  const pages = await Promise.all(streams.map((s, i) => s.fetch(positions[i], need)));
  const all = pages.flatMap((p, stream) => p.rows.map((row) => ({ ...row, stream })));
  // Ties (the same key in two streams) by stream, so that the order never depends on arrival.
  all.sort((a, b) => (a.key < b.key ? 1 : a.key > b.key ? -1 : a.stream - b.stream));
  const taken = all.slice(0, need);
  const next = streams.map((_, i) => positions[i]);
  const counts = pages.map(() => 0);
  for (const row of taken) {
    next[row.stream] = row.key;
    counts[row.stream]! += 1;
  }
  const left = pages.some((p, i) => p.more || p.rows.length > counts[i]!);
  return { rows: taken.flatMap((r) => (r.value === undefined ? [] : [r.value])), positions: next, left };
}

/** A cursor's positions: one per stream, each a sort key of bounded size, or null. */
export function validPositions(
  value: unknown,
  streams: number,
  pattern: RegExp,
): value is Array<string | null> {
  return (
    Array.isArray(value) &&
    value.length === streams &&
    value.every((p) => p === null || (typeof p === 'string' && p.length <= 100 && pattern.test(p)))
  );
}
