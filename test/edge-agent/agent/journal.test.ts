import { appendFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Journal } from '../../../edge-agent/journal.ts';
import type { JobFailedEvent, JobSentEvent } from '../../../functions/contracts/index.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'journal-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const sent = (jobId: string): JobSentEvent => ({
  v: 1,
  at: '2026-01-01T00:00:00.000Z',
  type: 'job.sent',
  jobId,
  modem: 'm1',
  messageRefs: [7],
});
const failed = (jobId: string): JobFailedEvent => ({
  v: 1,
  at: '2026-01-01T00:00:00.000Z',
  type: 'job.failed',
  jobId,
  reason: 'permanent',
});

describe('job journal', () => {
  it('remembers jobs across a reopen, with their state, result and whether it was reported', async () => {
    const j = await Journal.open(dir);
    await j.received('a', Date.now() + 60_000);
    await j.finished('a', sent('a'));
    await j.reported('a');
    await j.received('b', Date.now() + 60_000);
    await j.finished('b', failed('b'));
    await j.received('c', Date.now() + 60_000);
    await j.close();

    const again = await Journal.open(dir);
    expect(again.get('a')).toMatchObject({ state: 'sent', reported: true, event: sent('a') });
    expect(again.get('b')).toMatchObject({ state: 'failed', reported: false });
    expect(again.unreported().map((e) => e.id)).toEqual(['b']);
    // received and never handed to a modem: the next start may send it
    expect(again.waitingAtOpen.map((e) => e.id)).toEqual(['c']);
    expect(again.interruptedAtOpen).toEqual([]);
    await again.close();
  });

  it('skips a torn last line and damaged lines instead of refusing to start', async () => {
    const j = await Journal.open(dir);
    await j.received('a', Date.now() + 60_000);
    await j.close();
    await appendFile(path.join(dir, 'jobs.journal'), 'garbage\n{"id":"b","s":"r","t":1,"x":');
    const again = await Journal.open(dir);
    expect(again.get('a')?.state).toBe('received');
    expect(again.size).toBe(1);
    await again.received('c', Date.now() + 60_000);
    await again.close();
    const third = await Journal.open(dir);
    expect(third.get('c')?.state).toBe('received');
    await third.close();
  });

  it('forgets reported jobs a retention period after they expired, and keeps the rest', async () => {
    let now = 1_000_000;
    const j = await Journal.open(dir, { retentionMs: 1000, now: () => now });
    await j.received('old', now + 10);
    await j.finished('old', sent('old'));
    await j.reported('old');
    await j.received('unreported', now + 10);
    await j.finished('unreported', sent('unreported'));
    await j.close();
    now += 5000;
    const later = await Journal.open(dir, { retentionMs: 1000, now: () => now });
    expect(later.get('old')).toBeUndefined();
    expect(later.get('unreported')).toBeDefined();
    await later.close();
    expect(await readFile(path.join(dir, 'jobs.journal'), 'utf8')).not.toContain('"old"');
  });

  it('compacts while running and loses nothing', async () => {
    const j = await Journal.open(dir, { compactAfterLines: 10 });
    const ids = Array.from({ length: 40 }, (_, i) => `job-${i}`);
    await Promise.all(ids.map((id) => j.received(id, Date.now() + 60_000)));
    await Promise.all(ids.map((id) => j.finished(id, sent(id))));
    await Promise.all(ids.map((id) => j.reported(id)));
    await j.close();
    // 120 lines were appended; a compaction rewrote them to one line per job along the way
    const text = await readFile(path.join(dir, 'jobs.journal'), 'utf8');
    expect(text.trim().split('\n').length).toBeLessThan(120);
    const again = await Journal.open(dir);
    for (const id of ids) expect(again.get(id)).toMatchObject({ state: 'sent', reported: true });
    await again.close();
  });

  it('refuses to journal the same job twice', async () => {
    const j = await Journal.open(dir);
    await j.received('a', Date.now());
    await expect(j.received('a', Date.now())).rejects.toThrow(/already/);
    await j.close();
  });
});
