/**
 * The on-disk journal of job ids that makes "never the same job twice" survive a restart of the agent.
 *
 * One JSON line per change, appended and fsync'ed before the caller goes on (a job is acknowledged to the broker
 * only after its `received` line is on disk). Each line is a whole snapshot of one job, so the last line for an
 * id wins on load. The file is rewritten (compacted) on open and when it has grown well past what is live;
 * entries are forgotten a retention period after the job expired, when a redelivery would be refused as
 * expired anyway.
 */
import { type FileHandle, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { JobFailedEvent, JobSentEvent } from '../functions/contracts/index.ts';

export type JobState = 'received' | 'sent' | 'failed';
export type JobResultEvent = JobSentEvent | JobFailedEvent;

export interface JournalEntry {
  id: string;
  state: JobState;
  /** Epoch ms when the agent first accepted the job. */
  receivedAt: number;
  /** Epoch ms of the job's expiresAt (or receivedAt when the job had none that parsed). */
  expiresAt: number;
  /** The result as published, kept so it can be published again if the broker never acknowledged it. */
  event?: JobResultEvent;
  /** The broker acknowledged the result event. */
  reported: boolean;
}

export interface JournalOptions {
  /** How long an entry is kept after its job expired. Default 24 hours. */
  retentionMs?: number;
  now?: () => number;
  /** Appended lines beyond which a compaction is considered; default 10,000. */
  compactAfterLines?: number;
}

export class JournalError extends Error {
  override name = 'JournalError';
}

const FILE = 'jobs.journal';

interface Line {
  id: string;
  s: 'r' | 's' | 'f';
  t: number;
  x: number;
  e?: JobResultEvent;
  k?: 1;
}

function toLine(entry: JournalEntry): string {
  const line: Line = {
    id: entry.id,
    s: entry.state === 'received' ? 'r' : entry.state === 'sent' ? 's' : 'f',
    t: entry.receivedAt,
    x: entry.expiresAt,
  };
  if (entry.event) line.e = entry.event;
  if (entry.reported) line.k = 1;
  return `${JSON.stringify(line)}\n`;
}

function fromLine(text: string): JournalEntry | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof raw !== 'object' || raw === null) return undefined;
  const line = raw as Partial<Line>;
  if (typeof line.id !== 'string' || typeof line.t !== 'number' || typeof line.x !== 'number')
    return undefined;
  const state = line.s === 'r' ? 'received' : line.s === 's' ? 'sent' : line.s === 'f' ? 'failed' : undefined;
  if (!state) return undefined;
  const entry: JournalEntry = {
    id: line.id,
    state,
    receivedAt: line.t,
    expiresAt: line.x,
    reported: line.k === 1,
  };
  if (line.e && typeof line.e === 'object') entry.event = line.e;
  return entry;
}

export class Journal {
  private readonly entries = new Map<string, JournalEntry>();
  private handle: FileHandle | undefined;
  private pending: Array<{ line: string; resolve(): void; reject(err: Error): void }> = [];
  private writing: Promise<void> | undefined;
  private linesSinceCompaction = 0;
  private readonly retentionMs: number;
  private readonly now: () => number;
  private readonly compactAfterLines: number;
  /** Jobs that were received but not finished when the journal was last closed: the agent died mid-send. */
  readonly interruptedAtOpen: JournalEntry[] = [];

  private constructor(
    private readonly dir: string,
    options: JournalOptions,
  ) {
    this.retentionMs = options.retentionMs ?? 24 * 3600_000;
    this.now = options.now ?? Date.now;
    this.compactAfterLines = options.compactAfterLines ?? 10_000;
  }

  static async open(dir: string, options: JournalOptions = {}): Promise<Journal> {
    const journal = new Journal(dir, options);
    await mkdir(dir, { recursive: true });
    await journal.load();
    await journal.rewrite();
    journal.handle = await open(journal.file, 'a');
    return journal;
  }

  private get file(): string {
    return path.join(this.dir, FILE);
  }

  get size(): number {
    return this.entries.size;
  }

  get(id: string): JournalEntry | undefined {
    return this.entries.get(id);
  }

  /** Finished entries whose result the broker never acknowledged, in the order they were received. */
  unreported(): JournalEntry[] {
    return [...this.entries.values()]
      .filter((e) => e.state !== 'received' && !e.reported && e.event)
      .sort((a, b) => a.receivedAt - b.receivedAt);
  }

  /** Every entry, oldest first; used to rebuild the delivery-report index after a restart. */
  all(): JournalEntry[] {
    return [...this.entries.values()].sort((a, b) => a.receivedAt - b.receivedAt);
  }

  /** Records that a job was accepted. Resolves once the line is on disk. */
  received(id: string, expiresAt: number): Promise<void> {
    if (this.entries.has(id)) return Promise.reject(new JournalError(`job ${id} is already journalled`));
    const entry: JournalEntry = { id, state: 'received', receivedAt: this.now(), expiresAt, reported: false };
    this.entries.set(id, entry);
    return this.append(entry);
  }

  /** Records a job's result; creates the entry if the job was never `received` (invalid or expired ones). */
  finished(id: string, event: JobResultEvent, expiresAt?: number): Promise<void> {
    const now = this.now();
    const prior = this.entries.get(id);
    const entry: JournalEntry = {
      id,
      state: event.type === 'job.sent' ? 'sent' : 'failed',
      receivedAt: prior?.receivedAt ?? now,
      expiresAt: prior?.expiresAt ?? expiresAt ?? now,
      event,
      reported: false,
    };
    this.entries.set(id, entry);
    return this.append(entry);
  }

  /** Records that the broker acknowledged the result; losing this line only means publishing it again. */
  reported(id: string): Promise<void> {
    const entry = this.entries.get(id);
    if (!entry || entry.reported) return Promise.resolve();
    entry.reported = true;
    return this.append(entry);
  }

  async close(): Promise<void> {
    await this.writing;
    await this.handle?.close();
    this.handle = undefined;
  }

  private async load(): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw new JournalError(`cannot read ${this.file}`, { cause: err });
    }
    // a torn last line (power cut mid-write) or any damaged line is skipped; every other line stands alone
    for (const text_ of text.split('\n')) {
      if (text_.length === 0) continue;
      const entry = fromLine(text_);
      if (entry) this.entries.set(entry.id, entry);
    }
    for (const entry of this.entries.values())
      if (entry.state === 'received') this.interruptedAtOpen.push(entry);
  }

  private isLive(entry: JournalEntry, now: number): boolean {
    if (entry.state === 'received' || !entry.reported) return true;
    return Math.max(entry.expiresAt, entry.receivedAt) + this.retentionMs > now;
  }

  /** Writes the live entries to a new file and swaps it in atomically. */
  private async rewrite(): Promise<void> {
    const now = this.now();
    for (const [id, entry] of this.entries) if (!this.isLive(entry, now)) this.entries.delete(id);
    const tmp = `${this.file}.tmp`;
    const out = await open(tmp, 'w');
    try {
      const lines: string[] = [];
      for (const entry of this.entries.values()) lines.push(toLine(entry));
      await out.writeFile(lines.join(''));
      await out.sync();
    } finally {
      await out.close();
    }
    await rename(tmp, this.file);
    await this.syncDir();
    this.linesSinceCompaction = 0;
  }

  private async syncDir(): Promise<void> {
    let dir: FileHandle | undefined;
    try {
      dir = await open(this.dir, 'r');
      await dir.sync();
    } catch {
      // some filesystems refuse fsync on a directory; the rename is still atomic there
    } finally {
      await dir?.close();
    }
  }

  private append(entry: JournalEntry): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ line: toLine(entry), resolve, reject });
      this.kick();
    });
  }

  private kick(): void {
    if (this.writing) return;
    this.writing = this.drain().finally(() => {
      this.writing = undefined;
      // lines queued between the end of the loop and this callback
      if (this.pending.length > 0) this.kick();
    });
  }

  /** Group commit: everything queued while the previous fsync ran goes out in one write and one fsync. */
  private async drain(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0);
      try {
        if (!this.handle) throw new JournalError('journal is closed');
        await this.handle.write(batch.map((b) => b.line).join(''));
        await this.handle.datasync();
        this.linesSinceCompaction += batch.length;
        for (const b of batch) b.resolve();
      } catch (err) {
        const error =
          err instanceof JournalError ? err : new JournalError('journal write failed', { cause: err });
        for (const b of batch) b.reject(error);
        continue;
      }
      if (this.linesSinceCompaction > Math.max(this.compactAfterLines, 2 * this.entries.size)) {
        await this.compact().catch(() => {
          // a failed compaction leaves the old file in place, which is still correct
        });
      }
    }
  }

  private async compact(): Promise<void> {
    await this.handle?.close();
    this.handle = undefined;
    try {
      await this.rewrite();
    } finally {
      await rm(`${this.file}.tmp`, { force: true });
      this.handle = await open(this.file, 'a');
    }
  }
}
