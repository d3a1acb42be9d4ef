/**
 * One AD sync run, and the schedule that starts them.
 *
 * A **full** run reads every configured domain completely, pushes the users in batches and then calls
 * `complete`, which removes the users the run did not see. It calls `complete` only when every domain was read to
 * the end and every batch was taken: a run cut short (a DC gone mid-read, the agent stopping, a batch the cloud
 * could not store) ends without it, so it removes nobody.
 *
 * A **delta** run reads only the entries whose `uSNChanged` is past the mark of the DC it reads, and never calls
 * `complete`: for the sync API, `complete` means "everyone else is gone", which a delta run cannot say. What a
 * delta cannot see (a user deleted, disabled or taken out of a group, as none of these changes the user's own
 * uSNChanged in a way the group filter still matches) is caught by the next full run, at least every
 * `fullEveryHours`.
 */
import { readFile } from 'node:fs/promises';
import type { SyncUser } from '../../functions/contracts/sync.ts';
import { type Logger, maskPhone } from '../log.ts';
import type { AdConfig } from './config.ts';
import { newReadStats, type ReadStats, readUsers, readUsnMark } from './directory.ts';
import { connectDomain, type DomainConnection, type DomainRuntime, loadDomain } from './ldap.ts';
import { type DcMark, MarkStore, markKey, type SyncMarks } from './marks.ts';
import { SyncApi } from './sync-api.ts';

export type SyncMode = 'delta' | 'full';

export interface SyncOutcome {
  mode: SyncMode;
  runId?: string;
  /** Users read from AD and sent. */
  users: number;
  accepted: number;
  rejected: number;
  pages: number;
  batches: number;
  /** The reply of `complete` (full runs that finished cleanly only). */
  completed?: { created: number; updated: number; removed: number; rejected: number };
  /** Why the run stopped short; a run with an error removed nobody and moved no mark. */
  error?: string;
  seconds: number;
}

/** Looks at a run as it goes (the CLI's progress, tests). */
export interface SyncObserver {
  /** After each page the server returned; awaited before the next page is asked for. */
  page?(domain: string, stats: ReadStats): Promise<void> | void;
}

export interface AdSyncOptions {
  config: AdConfig;
  stateDir: string;
  log: Logger;
  fetch?: typeof fetch;
  observer?: SyncObserver;
  now?: () => Date;
  /** Batches in flight at once. */
  concurrency?: number;
}

/** At most this many rejected users are logged one by one per run; the rest are counted. */
const REJECTIONS_LOGGED = 200;

export class AdSync {
  private running: Promise<SyncOutcome> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopping = false;
  private readonly marks: MarkStore;
  private readonly now: () => Date;
  /** The last outcome, for `edge-agent` status and tests. */
  last: SyncOutcome | undefined;

  constructor(private readonly options: AdSyncOptions) {
    this.marks = new MarkStore(options.stateDir);
    this.now = options.now ?? (() => new Date());
  }

  get busy(): boolean {
    return this.running !== undefined;
  }

  /** Starts a run unless one is under way; `started: false` then, and `done` is that run. */
  start(mode: SyncMode): { started: boolean; done: Promise<SyncOutcome> } {
    if (this.running) return { started: false, done: this.running };
    const done = this.run(mode).finally(() => {
      this.running = undefined;
    });
    this.running = done;
    return { started: true, done };
  }

  /** Runs on the configured interval (a delta, or a full run when one is due), the first one at once. */
  schedule(): void {
    const minutes = this.options.config.sync?.intervalMinutes ?? 0;
    if (minutes === 0 || this.timer) return;
    const tick = () => {
      if (!this.stopping) void this.start('delta').done;
    };
    this.timer = setInterval(tick, minutes * 60_000);
    this.timer.unref();
    setImmediate(tick);
  }

  /** Stops the schedule; a run under way stops at its next page or batch, without `complete`. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => {});
  }

  private async run(requested: SyncMode): Promise<SyncOutcome> {
    const { config, log } = this.options;
    const started = performance.now();
    const outcome: SyncOutcome = {
      mode: requested,
      users: 0,
      accepted: 0,
      rejected: 0,
      pages: 0,
      batches: 0,
      seconds: 0,
    };
    const connections: Array<{ domain: DomainRuntime; conn: DomainConnection; mark: DcMark }> = [];
    const inFlight = new Set<Promise<void>>();
    try {
      if (!config.sync) throw new Error('no ad.sync section: the connector has nowhere to send users');
      const key = config.sync.key ?? (await readFile(config.sync.keyFile!, 'utf8')).trim();
      const api = new SyncApi({
        apiUrl: config.sync.apiUrl,
        key,
        ...(this.options.fetch && { fetch: this.options.fetch }),
      });
      const marks = await this.marks.read();

      for (const d of config.domains) {
        const domain = await loadDomain(d);
        const conn = await connectDomain(domain);
        connections.push({ domain, conn, mark: await readUsnMark(conn.client) });
      }
      const mode = requested === 'delta' && this.deltaPossible(marks, connections) ? 'delta' : 'full';
      outcome.mode = mode;

      const opened = await api.startRun(mode);
      const runId = opened.runId;
      outcome.runId = runId;
      log.info('ad sync started', { runId, mode, domains: config.domains.map((d) => d.name) });

      let logged = 0;
      let failure: unknown;
      let unclean: string | undefined;
      const push = async (users: SyncUser[]) => {
        const reply = await api.pushUsers(runId, users);
        outcome.batches++;
        outcome.accepted += reply.accepted;
        outcome.rejected += reply.rejected.length;
        const byId = new Map(users.map((u) => [u.id, u]));
        for (const r of reply.rejected) {
          // the cloud could not store it now: a full run that completed would then drop the user
          if (r.reason === 'temporarily_unavailable') unclean = 'the cloud could not store every user';
          if (logged++ >= REJECTIONS_LOGGED) continue;
          const u = byId.get(r.id);
          log.warn('ad sync: user rejected', {
            runId,
            reason: r.reason,
            id: r.id,
            username: u?.username,
            domain: u?.domain,
            mobile: u?.mobile ? maskPhone(u.mobile) : undefined,
          });
        }
      };
      const send = async (users: SyncUser[]) => {
        if (users.length === 0) return;
        outcome.users += users.length;
        const p = push(users);
        const tracked = p.finally(() => inFlight.delete(tracked));
        inFlight.add(tracked);
        // a failed batch fails the run at the next page, before anything more is read
        tracked.catch((err: unknown) => {
          failure ??= err;
        });
        if (inFlight.size >= (this.options.concurrency ?? 2)) await Promise.race(inFlight);
      };
      const failedBatch = async () => {
        const results = await Promise.allSettled([...inFlight]);
        const failed = results.find((r) => r.status === 'rejected');
        if (failed) throw (failed as PromiseRejectedResult).reason;
      };

      const batchSize = config.sync.batchSize;
      for (const { domain, conn } of connections) {
        const stats = newReadStats();
        const since = mode === 'delta' ? marks.dcs[markKey(domain.config.name, conn.dc)]?.usn : undefined;
        let batch: SyncUser[] = [];
        for await (const users of readUsers(conn.client, domain.config, {
          stats,
          ...(since !== undefined && { sinceUsn: since }),
        })) {
          outcome.pages++;
          await this.options.observer?.page?.(domain.config.name, stats);
          if (this.stopping) throw new Error('the agent is stopping');
          for (const u of users) {
            batch.push(u);
            if (batch.length >= batchSize) {
              await send(batch);
              batch = [];
            }
          }
          if (failure) throw failure;
        }
        await send(batch);
        for (const s of stats.skipped.slice(0, REJECTIONS_LOGGED))
          log.warn('ad sync: entry left out', { runId, domain: domain.config.name, dn: s.dn, why: s.why });
      }
      await failedBatch();
      if (unclean) throw new Error(unclean);

      const next: SyncMarks = { ...marks, dcs: { ...marks.dcs } };
      for (const { domain, conn, mark } of connections) next.dcs[markKey(domain.config.name, conn.dc)] = mark;
      if (mode === 'full') {
        outcome.completed = await api.complete(runId);
        next.lastFullAt = this.now().toISOString();
      } else if (opened.mode === 'delta') {
        // only a cloud that confirmed the run is a delta may be told it is complete: anywhere else `complete`
        // would remove every user this run did not send
        outcome.completed = await api.complete(runId);
      }
      await this.marks.write(next);
      outcome.seconds = (performance.now() - started) / 1000;
      log.info('ad sync finished', {
        runId,
        mode,
        users: outcome.users,
        accepted: outcome.accepted,
        rejected: outcome.rejected,
        pages: outcome.pages,
        ...outcome.completed,
      });
    } catch (err) {
      outcome.error = (err as Error).message;
      outcome.seconds = (performance.now() - started) / 1000;
      log.error('ad sync stopped short; nothing was removed', {
        runId: outcome.runId,
        mode: outcome.mode,
        error: outcome.error,
        users: outcome.users,
      });
    } finally {
      // a run that stopped short still lets its batches in flight end before it reports
      await Promise.allSettled([...inFlight]);
      await Promise.all(connections.map((c) => c.conn.close()));
    }
    this.last = outcome;
    return outcome;
  }

  /** A delta needs a mark from this very DC, and a full run recent enough. */
  private deltaPossible(
    marks: SyncMarks,
    connections: Array<{ domain: DomainRuntime; conn: DomainConnection; mark: DcMark }>,
  ): boolean {
    const every = (this.options.config.sync?.fullEveryHours ?? 24) * 3600_000;
    if (!marks.lastFullAt || this.now().getTime() - Date.parse(marks.lastFullAt) >= every) return false;
    return connections.every(({ domain, conn, mark }) => {
      const old = marks.dcs[markKey(domain.config.name, conn.dc)];
      return old !== undefined && old.service === mark.service && old.usn <= mark.usn;
    });
  }
}
