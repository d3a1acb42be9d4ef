/**
 * The on-disk journal of job ids that makes "never the same job twice" survive a restart of the agent, and lets
 * a restart send the jobs that never reached a modem.
 *
 * One JSON line per change, appended and fsync'ed before the caller goes on (a job is acknowledged to the broker
 * only after its `received` line is on disk, and handed to a modem only after its `handed` line is). Each line
 * is a whole snapshot of one job, so the last line for an id wins on load. The file is rewritten (compacted) on
 * open and when it has grown well past what is live; entries are forgotten a retention period after the job
 * expired, when a redelivery would be refused as expired anyway.
 *
 * A `received` line carries the job itself (number and text), sealed with AES-256-GCM under a key of its own
 * in the state folder (`journal.key`, 0600), because the broker forgets a job once it is acknowledged: without
 * it a restart could only report the job failed. Later lines of the job carry no copy, and a compaction keeps
 * only the last line, so the sealed text lives on disk until the job is handed to a modem and the file is next
 * compacted (at the latest on the next start). A copy of the journal alone, without the key, reveals no text.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { type FileHandle, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { JobFailedEvent, JobSentEvent, JobUnknownEvent, SmsJob } from '../functions/contracts/index.ts';

/**
 * `received`: accepted, not yet handed to a modem (safe to send after a restart); `handed`: a modem was about to
 * get `AT+CMGS` (after a restart its outcome is unknown); then one of the results.
 */
export type JobState = 'received' | 'handed' | 'sent' | 'failed' | 'unknown';
export type JobResultEvent = JobSentEvent | JobFailedEvent | JobUnknownEvent;
/** What a restart needs to send a job that never reached a modem. */
export type KeptJob = Pick<SmsJob, 'to' | 'text' | 'flash' | 'modemGroup' | 'expiresAt'> & {
  /** Ask for a delivery report; absent in a job kept by an agent that always asked. */
  report?: boolean | undefined;
};

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
  /** The modem it was handed to (state `handed`). */
  modem?: string;
  /** When it was handed to `modem` (state `handed`). */
  handedAt?: number;
  /**
   * A keyed hash of the recipient (state `handed`; never the number itself), so that a delivery report that
   * reaches the next process, which never heard the message reference, can still be matched to the job.
   */
  recipient?: string;
  /** The job itself while it is `received`; only in memory once loaded, and only if its seal opened. */
  job?: KeptJob;
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
const KEY_FILE = 'journal.key';

const STATE_CODES = { received: 'r', handed: 'h', sent: 's', failed: 'f', unknown: 'u' } as const;
type StateCode = (typeof STATE_CODES)[JobState];
const STATES = Object.fromEntries(Object.entries(STATE_CODES).map(([k, v]) => [v, k])) as Record<
  StateCode,
  JobState
>;

interface Line {
  id: string;
  s: StateCode;
  t: number;
  x: number;
  e?: JobResultEvent;
  k?: 1;
  m?: string;
  /** `handed` lines: when, and the recipient's keyed hash. */
  h?: number;
  r?: string;
  /** The sealed job (`received` lines only). */
  j?: string;
}

/** Seals and opens kept jobs; the job id is the associated data, so a sealed job cannot pass for another. */
class JobSeal {
  constructor(private readonly key: Buffer) {}

  seal(id: string, job: KeptJob): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(id, 'utf8'));
    const body = Buffer.concat([cipher.update(JSON.stringify(job), 'utf8'), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
  }

  /** HMAC of the number's digits under a key of its own, derived from the journal key. */
  recipientTag(to: string): string {
    const key = createHmac('sha256', this.key).update('recipient-tag').digest();
    return createHmac('sha256', key).update(to.replace(/\D/g, '')).digest('base64url').slice(0, 22);
  }

  open(id: string, sealed: string): KeptJob | undefined {
    try {
      const raw = Buffer.from(sealed, 'base64url');
      const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
      decipher.setAAD(Buffer.from(id, 'utf8'));
      decipher.setAuthTag(raw.subarray(12, 28));
      const text = Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
      const job = JSON.parse(text) as KeptJob;
      const ok =
        typeof job.to === 'string' &&
        typeof job.text === 'string' &&
        typeof job.flash === 'boolean' &&
        typeof job.modemGroup === 'string' &&
        typeof job.expiresAt === 'string';
      return ok ? job : undefined;
    } catch {
      // another key (the key file was replaced) or a damaged line: the job cannot be sent again
      return undefined;
    }
  }
}

function toLine(entry: JournalEntry, seal: JobSeal): string {
  const line: Line = { id: entry.id, s: STATE_CODES[entry.state], t: entry.receivedAt, x: entry.expiresAt };
  if (entry.event) line.e = entry.event;
  if (entry.reported) line.k = 1;
  if (entry.modem !== undefined) line.m = entry.modem;
  if (entry.handedAt !== undefined) line.h = entry.handedAt;
  if (entry.recipient !== undefined) line.r = entry.recipient;
  if (entry.state === 'received' && entry.job) line.j = seal.seal(entry.id, entry.job);
  return `${JSON.stringify(line)}\n`;
}

function fromLine(text: string, seal: JobSeal): JournalEntry | undefined {
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
  const state = typeof line.s === 'string' ? STATES[line.s] : undefined;
  if (!state) return undefined;
  const entry: JournalEntry = {
    id: line.id,
    state,
    receivedAt: line.t,
    expiresAt: line.x,
    reported: line.k === 1,
  };
  if (line.e && typeof line.e === 'object') entry.event = line.e;
  if (typeof line.m === 'string') entry.modem = line.m;
  if (typeof line.h === 'number') entry.handedAt = line.h;
  if (typeof line.r === 'string') entry.recipient = line.r;
  if (state === 'received' && typeof line.j === 'string') {
    const job = seal.open(line.id, line.j);
    if (job) entry.job = job;
  }
  return entry;
}

/** The journal's own key: made once, 0600, fsync'ed before first use so no sealed line outlives its key. */
async function loadKey(dir: string): Promise<Buffer> {
  const file = path.join(dir, KEY_FILE);
  try {
    const key = await readFile(file);
    if (key.length === 32) return key;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
      throw new JournalError(`cannot read ${file}`, { cause: err });
  }
  const key = randomBytes(32);
  const tmp = `${file}.tmp`;
  const out = await open(tmp, 'w', 0o600);
  try {
    await out.writeFile(key);
    await out.sync();
  } finally {
    await out.close();
  }
  await rename(tmp, file);
  return key;
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
  /** Jobs handed to a modem but not finished when the journal was last closed: the agent died mid-send. */
  readonly interruptedAtOpen: JournalEntry[] = [];
  /** Jobs received but never handed to a modem when the journal was last closed, oldest first. */
  readonly waitingAtOpen: JournalEntry[] = [];
  private seal!: JobSeal;

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
    await mkdir(dir, { recursive: true, mode: 0o700 });
    journal.seal = new JobSeal(await loadKey(dir));
    await journal.syncDir();
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
      .filter((e) => e.state !== 'received' && e.state !== 'handed' && !e.reported && e.event)
      .sort((a, b) => a.receivedAt - b.receivedAt);
  }

  /** Every entry, oldest first; used to rebuild the delivery-report index after a restart. */
  all(): JournalEntry[] {
    return [...this.entries.values()].sort((a, b) => a.receivedAt - b.receivedAt);
  }

  /**
   * Records that a job was accepted, with the job itself (sealed) so that a restart can still send it. Resolves
   * once the line is on disk.
   */
  received(id: string, expiresAt: number, job?: KeptJob): Promise<void> {
    if (this.entries.has(id)) return Promise.reject(new JournalError(`job ${id} is already journalled`));
    const entry: JournalEntry = { id, state: 'received', receivedAt: this.now(), expiresAt, reported: false };
    if (job) entry.job = job;
    this.entries.set(id, entry);
    return this.append(entry);
  }

  /**
   * Records that the job goes to `modem` now: from here on a restart must not send it again. Resolves once the
   * line is on disk; the caller writes `AT+CMGS` only then. The line carries no copy of the job, only a keyed
   * hash of its recipient `to`.
   */
  handed(id: string, modem: string, to?: string): Promise<void> {
    const prior = this.entries.get(id);
    if (!prior) return Promise.reject(new JournalError(`job ${id} was never journalled`));
    if (prior.state !== 'received' && prior.state !== 'handed')
      return Promise.reject(new JournalError(`job ${id} already finished`));
    const entry: JournalEntry = {
      id,
      state: 'handed',
      receivedAt: prior.receivedAt,
      expiresAt: prior.expiresAt,
      reported: false,
      modem,
      handedAt: this.now(),
    };
    if (to !== undefined) entry.recipient = this.seal.recipientTag(to);
    this.entries.set(id, entry);
    return this.append(entry);
  }

  /** The keyed hash `handed` lines hold for the number `to`. */
  recipientTag(to: string): string {
    return this.seal.recipientTag(to);
  }

  /** Records a job's result; creates the entry if the job was never `received` (invalid or expired ones). */
  finished(id: string, event: JobResultEvent, expiresAt?: number): Promise<void> {
    const now = this.now();
    const prior = this.entries.get(id);
    const entry: JournalEntry = {
      id,
      state: event.type === 'job.sent' ? 'sent' : event.type === 'job.unknown' ? 'unknown' : 'failed',
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
      const entry = fromLine(text_, this.seal);
      if (entry) this.entries.set(entry.id, entry);
    }
    for (const entry of this.entries.values()) {
      if (entry.state === 'handed') this.interruptedAtOpen.push(entry);
      if (entry.state === 'received') this.waitingAtOpen.push(entry);
    }
    this.waitingAtOpen.sort((a, b) => a.receivedAt - b.receivedAt);
  }

  private isLive(entry: JournalEntry, now: number): boolean {
    if (entry.state === 'received' || entry.state === 'handed' || !entry.reported) return true;
    return Math.max(entry.expiresAt, entry.receivedAt) + this.retentionMs > now;
  }

  /** Writes the live entries to a new file and swaps it in atomically. */
  private async rewrite(): Promise<void> {
    const now = this.now();
    for (const [id, entry] of this.entries) if (!this.isLive(entry, now)) this.entries.delete(id);
    const tmp = `${this.file}.tmp`;
    const out = await open(tmp, 'w', 0o600);
    try {
      const lines: string[] = [];
      for (const entry of this.entries.values()) lines.push(toLine(entry, this.seal));
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
      this.pending.push({ line: toLine(entry, this.seal), resolve, reject });
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
