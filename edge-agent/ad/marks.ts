/**
 * The connector's memory between runs, in the agent's state folder: per DC the highest uSN a finished run read
 * up to (a delta run reads only what changed after it), and when the last full run finished. Written atomically
 * (a temp file, fsync, rename), so a crash leaves the old marks or the new ones, never a torn file.
 */
import { open, readFile, rename } from 'node:fs/promises';
import path from 'node:path';

export interface DcMark {
  usn: number;
  /** The DC's dsServiceName: a restored or replaced DC starts a new uSN history, and a full read. */
  service: string;
}

export interface SyncMarks {
  v: 1;
  lastFullAt?: string;
  /** By `${domain} ${dc url}`. */
  dcs: Record<string, DcMark>;
}

export const markKey = (domain: string, dc: string) => `${domain.toLowerCase()} ${dc}`;

export class MarkStore {
  readonly file: string;
  constructor(stateDir: string) {
    this.file = path.join(stateDir, 'ad-sync-marks.json');
  }

  async read(): Promise<SyncMarks> {
    try {
      const parsed = JSON.parse(await readFile(this.file, 'utf8')) as SyncMarks;
      if (parsed?.v === 1 && typeof parsed.dcs === 'object' && parsed.dcs !== null) return parsed;
    } catch {
      // missing or unreadable: the next run is a full one, which writes them afresh
    }
    return { v: 1, dcs: {} };
  }

  async write(marks: SyncMarks): Promise<void> {
    const tmp = `${this.file}.${process.pid}.tmp`;
    const fh = await open(tmp, 'w', 0o600);
    try {
      await fh.writeFile(JSON.stringify(marks));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, this.file);
    // the rename itself is durable once the folder is synced
    const dir = await open(path.dirname(this.file), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }
}
