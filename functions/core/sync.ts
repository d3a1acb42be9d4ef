/**
 * The AD sync: runs, idempotent batched upserts within the tenant's user limit, and removal of the users a
 * complete run did not see. Knows nothing of DynamoDB or HTTP.
 */
import { createHash } from 'node:crypto';
import type { BatchReply, CompleteReply, RejectReason, SyncMode, SyncUser } from '../contracts/sync.ts';
import { MAX_KNOWN_DOMAINS } from '../contracts/usernames.ts';
import { RunStateError, SyncBusyError } from './admin-errors.ts';
import type { Clock } from './clock.ts';
import { NotFoundError } from './errors.ts';
import { newId } from './ids.ts';
import { mapPool } from './map-pool.ts';
import type { Tenant } from './model.ts';
import { normalisePhone } from './phone-numbers.ts';
import type { AuditLog } from './ports/audit.ts';
import type { Logger } from './ports/log.ts';
import type { SyncedUser, SyncRun, SyncStore, WriteOutcome } from './ports/sync.ts';
import type { SyncHistoryStore } from './ports/sync-history.ts';
import type { ConfigStore, IntegrationPolicy } from './ports/tenant-config.ts';
import type { UserStore } from './ports/users.ts';
import type { Reservation, UserLimit } from './user-limit.ts';
import {
  canonicalIn,
  canonicalUsername,
  type NameParts,
  netbiosOf,
  type UsernameContext,
} from './usernames.ts';

/** A run may take this long from start to complete. */
export const RUN_LIFETIME_MS = 24 * 3600_000;
/**
 * The create lock's lease, renewed while its holder works, so a holder that died blocks the tenant's other
 * batches (and the user slots it reserved) for at most this long.
 */
export const CREATE_LEASE_MS = 10_000;
/** How long a batch waits for the create lock: well past one lease, so a dead holder costs a wait, not a 503. */
const LOCK_WAIT_MS = 20_000;
/** Writes stop this long before a lease ends; a holder renews once less than half its lease is left. */
const SAFETY_MS = 3_000;
/** Users created between two lease checks: 8 parallel BatchWriteItem requests of 25. */
const CREATE_SLICE = 200;
const DELETE_CONCURRENCY = 16;

/**
 * A short, stable stand-in for an AD id in a batch's counts: a 1,000-user batch then records its created and
 * updated users in a few kilobytes instead of up to 128 KB per list (the item limit is 400 KB).
 */
const tag = (id: string) => createHash('sha256').update(id).digest('base64url').slice(0, 16);
/**
 * What a batch saw: the AD id under its stored name. A user the run saw under a new name (the username format
 * changed) leaves its item under the old name unseen, so `complete` removes it.
 */
const seenTag = (syncId: string, username: string) => tag(`${syncId}\n${username.toLowerCase()}`);

type StaleUser = { username: string; syncId: string; syncedAt: string };
interface RunSeen {
  tags: Set<string>;
  ids: Set<string>;
  counts: { created: number; updated: number; rejected: number };
}
/** Not seen by the run, and not written by another run after this one began (that is newer than what it saw). */
const isStale = (u: StaleUser, seen: RunSeen, runCreatedAt: string) =>
  !seen.tags.has(seenTag(u.syncId, u.username)) && !seen.ids.has(u.syncId) && u.syncedAt < runCreatedAt;

/** A user ready to store; `unmapped`: the tenant maps AD groups and the user is in none of them. */
interface Candidate {
  user: SyncedUser;
  unmapped: boolean;
  parts: NameParts;
}
interface Rename {
  user: SyncedUser;
  /** The name the user is stored under now. */
  old: string;
  unmapped: boolean;
}

export interface SyncServiceDeps {
  store: SyncStore;
  users: UserStore;
  config: ConfigStore;
  limit: UserLimit;
  audit: AuditLog;
  clock: Clock;
  /** The console's run history; without it nothing is recorded there. */
  history?: SyncHistoryStore | undefined;
  /**
   * Starts a large removal where it outlives the request (a job on the jobs queue in AWS); by default it runs
   * in this process, in the background, as the local stack has no request deadline to outlive.
   */
  scheduleRemoval?: ((tenantId: string, runId: string, actor: string) => Promise<void>) | undefined;
  /** How much one `complete` request may do itself before it hands the removal to the background. */
  inline?: { maxScanned: number; maxRemovals: number } | undefined;
  log?: Logger | undefined;
}

/** A `complete` reads at most this many stored users, and removes at most this many, inside the request. */
export const INLINE_COMPLETE = { maxScanned: 5000, maxRemovals: 500 };
/** Rejected users kept per batch for the console (the counts stay exact). */
export const REJECTIONS_PER_BATCH = 25;

export type CompleteOutcome = { state: 'completed'; result: CompleteReply } | { state: 'completing' };

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const fold = (s: string) =>
  s
    .trim()
    .replace(/\s*,\s*/g, ',')
    .toLowerCase();

/** The mapped group with the highest priority among the user's groups (ties: the earliest created). */
export function resolveGroupPolicy(
  policies: IntegrationPolicy[],
  domain: string,
  groups: readonly string[],
): IntegrationPolicy | undefined {
  const mine = new Set(groups.map(fold));
  let best: IntegrationPolicy | undefined;
  for (const p of policies) {
    if (p.domain.toLowerCase() !== domain.toLowerCase() || !mine.has(fold(p.groupDn))) continue;
    if (!best || p.priority > best.priority || (p.priority === best.priority && p.createdAt < best.createdAt))
      best = p;
  }
  return best;
}

export class SyncService {
  constructor(private readonly deps: SyncServiceDeps) {}

  /**
   * The reply names the run's mode: a connector calls `complete` on a delta run only when the cloud says it took
   * the run as a delta (an older cloud, ignoring the mode, would remove everyone the delta did not send).
   */
  async startRun(tenantId: string, mode: SyncMode = 'full'): Promise<{ runId: string; mode: SyncMode }> {
    const now = this.deps.clock.now();
    const run: SyncRun = {
      // Time first, so that run ids (and the history under them) sort by when the run began.
      runId: `${now.toString(36).padStart(9, '0')}${newId(12)}`,
      status: 'open',
      mode,
      createdAt: new Date(now).toISOString(),
      expiresAt: new Date(now + RUN_LIFETIME_MS).toISOString(),
    };
    await this.deps.store.createRun(tenantId, run);
    await this.deps.history?.started(tenantId, {
      runId: run.runId,
      mode,
      status: 'open',
      createdAt: run.createdAt,
    });
    return { runId: run.runId, mode };
  }

  async pushBatch(tenant: Tenant, runId: string, users: SyncUser[]): Promise<BatchReply> {
    const { store, config, limit, clock } = this.deps;
    const tenantId = tenant.id;
    await this.openRun(tenantId, runId);
    const digest = createHash('sha256').update(JSON.stringify(users)).digest('base64url').slice(0, 32);

    const nowIso = new Date(clock.now()).toISOString();
    const integration = await config.list(tenantId, 'integration');
    // The NetBIOS names this batch brings are learned first: a user's canonical name may depend on them, and a
    // login typing `CORP\dave` must find them on the tenant item once the user exists.
    const domains = await this.learnDomains(tenant, users);
    const names: UsernameContext = { usernames: tenant.usernames, adDomains: domains };
    const rejected: BatchReply['rejected'] = [];
    const reject = (id: string, reason: RejectReason) => rejected.push({ id, reason });
    const seen = new Set<string>();
    /** Users whose data was refused but who exist already: kept as they are, and not removed by this run. */
    const keepIfOwned: Array<{ id: string; username: string }> = [];
    const candidates: Candidate[] = [];
    const ids = new Set<string>();
    const taken = new Set<string>();

    for (const user of users) {
      const canonical = canonicalUsername(names, user);
      const lower = canonical?.toLowerCase();
      if (ids.has(user.id) || (lower !== undefined && taken.has(lower))) {
        reject(user.id, 'duplicate_in_batch');
        continue;
      }
      ids.add(user.id);
      if (canonical === undefined || lower === undefined) {
        reject(user.id, 'invalid_username');
        continue;
      }
      taken.add(lower);
      const outcome = this.prepare(tenant, integration, user, canonical, nowIso);
      if (typeof outcome === 'string') {
        reject(user.id, outcome);
        keepIfOwned.push({ id: user.id, username: lower });
      } else candidates.push({ ...outcome, parts: user });
    }

    // Which users exist is read, and the missing ones created, under the tenant's create lock: no other batch
    // can create a user in between, so the creates need no per-item condition and go out 25 at a time.
    //
    // The lock is a short lease renewed while its holder works, not a lock that a retry of the same batch may
    // take over: a retry can arrive while the first send still runs (API Gateway gives up at 29 s, the function
    // at 60 s), and BatchWriteItem takes no condition that could fence the first send's writes off. With a short
    // lease a dead holder only makes the others wait one lease; a live one that cannot renew stops writing.
    //
    // What earlier sends of this batch created or updated (or were about to) still counts for this run: the
    // counts `complete` reports come from these durable per-batch records, never from one send's tallies.
    const earlier = await store.startBatch(tenantId, runId, digest);
    const createdBefore = new Set(earlier.created);
    const updatedBefore = new Set(earlier.updated);
    const createdTags = new Set<string>();
    const updatedTags = new Set<string>();
    const credit = (syncId: string, changed: boolean) => {
      const t = tag(syncId);
      if (createdBefore.has(t)) createdTags.add(t);
      else if (changed || updatedBefore.has(t)) updatedTags.add(t);
    };
    const see = (user: { syncId: string; username: string }) => seen.add(seenTag(user.syncId, user.username));

    const toUpdate: SyncedUser[] = [];
    let unchanged = 0;
    let failed = false;
    let created = 0;
    let renamedCount = 0;
    const lease = await this.lockCreates(tenantId);
    try {
      const existing = await store.getUsers(tenantId, [
        ...candidates.map((c) => c.user.username),
        ...keepIfOwned.map((u) => u.username),
      ]);
      for (const k of keepIfOwned)
        if (existing.get(k.username)?.syncId === k.id) see({ syncId: k.id, username: k.username });

      const missing: Candidate[] = [];
      for (const { user, unmapped, parts } of candidates) {
        const found = existing.get(user.username.toLowerCase());
        // In no mapped group, a user stays only by an admin's assignment of a group policy.
        if (unmapped && (found?.syncId !== user.syncId || !found.assignedGroupPolicyId)) {
          if (found) reject(user.syncId, 'no_matching_group');
          else missing.push({ user, unmapped, parts });
        } else if (!found) missing.push({ user, unmapped, parts });
        else if (found.syncId && found.syncId !== user.syncId) reject(user.syncId, 'username_conflict');
        else if (found.syncId === user.syncId && found.syncHash === user.syncHash) {
          unchanged++;
          see(user);
          credit(user.syncId, false);
        } else toUpdate.push(user);
      }

      const { toCreate, toRename } = await this.findRenames(tenant, names, missing, reject);
      // A rename takes the old item's place: no slot is reserved for it, and the old item goes first, so the
      // stored count never exceeds the counter.
      const renamed = await this.dropOldNames(tenantId, toRename, toCreate, reject);

      const reservation = await limit.reserve(tenantId, toCreate.length, tenant.userLimit, lease.until);
      try {
        const creatable = toCreate.slice(0, reservation.granted);
        for (const user of toCreate.slice(reservation.granted)) reject(user.syncId, 'user_limit_reached');
        if (creatable.length > 0)
          await store.noteIntent(tenantId, runId, digest, { created: creatable.map((u) => tag(u.syncId)) });
        if (renamed.length > 0)
          await store.noteIntent(tenantId, runId, digest, { updated: renamed.map((u) => tag(u.syncId)) });
        const writes = [...renamed, ...creatable];
        for (let from = 0; from < writes.length; from += CREATE_SLICE) {
          const slice = writes.slice(from, from + CREATE_SLICE);
          // Past either lease, another writer may act as if this batch were dead: write nothing more.
          const safe = await this.keepLease(tenantId, lease, reservation);
          const outcomes: WriteOutcome[] = safe ? await store.createUsers(slice) : slice.map(() => 'failed');
          outcomes.forEach((outcome, i) => {
            const user = slice[i]!;
            if (outcome === 'written' && user.carried) {
              renamedCount++;
              see(user);
              credit(user.syncId, true);
            } else if (outcome === 'written') {
              created++;
              see(user);
              createdTags.add(tag(user.syncId));
            } else if (outcome === 'conflict') toUpdate.push(user);
            else {
              failed = true;
              reject(user.syncId, 'temporarily_unavailable');
            }
          });
        }
      } finally {
        await limit.release(tenantId, reservation, created);
      }
    } finally {
      await store.releaseCreateLock(tenantId, lease.holder);
    }

    if (toUpdate.length > 0)
      await store.noteIntent(tenantId, runId, digest, {
        updated: toUpdate.filter((u) => !createdBefore.has(tag(u.syncId))).map((u) => tag(u.syncId)),
      });
    let updated = 0;
    const outcomes = toUpdate.length > 0 ? await store.updateUsers(toUpdate) : [];
    outcomes.forEach((outcome, i) => {
      const user = toUpdate[i]!;
      if (outcome === 'written') {
        updated++;
        see(user);
        credit(user.syncId, true);
      } else if (outcome === 'conflict') reject(user.syncId, 'username_conflict');
      else {
        failed = true;
        reject(user.syncId, 'temporarily_unavailable');
      }
    });

    await store.finishBatch(tenantId, runId, {
      digest,
      state: failed ? 'failed' : 'done',
      seen: [...seen],
      created: [...createdTags],
      updated: [...updatedTags],
      rejected: rejected.length,
    });
    if (rejected.length > 0 && this.deps.history) {
      const names = new Map(users.map((u) => [u.id, u.username]));
      await this.deps.history.putRejections(
        tenantId,
        runId,
        digest,
        rejected.slice(0, REJECTIONS_PER_BATCH).map((r) => ({ ...r, username: names.get(r.id) ?? '' })),
        new Date(clock.now()).toISOString(),
      );
    }
    return { accepted: created + renamedCount + updated + unchanged, rejected };
  }

  /**
   * Users missing under their canonical name who are stored under the name a former username format gave them
   * (the admin changed the format): those are renamed. A user in no mapped group is renamed only while an
   * admin's assignment keeps it; otherwise it is refused, as it would be if it were new.
   */
  private async findRenames(
    tenant: Tenant,
    names: UsernameContext,
    missing: Candidate[],
    reject: (id: string, reason: RejectReason) => void,
  ): Promise<{ toCreate: SyncedUser[]; toRename: Rename[] }> {
    const former = (tenant.usernames?.formerFormats ?? []).filter((f) => f !== tenant.usernames?.format);
    const olds = new Map<Candidate, { username: string; assigned: boolean }>();
    if (missing.length > 0 && former.length > 0) {
      const alternatives = missing.flatMap((c) =>
        former
          .map((f) => canonicalIn(names, f, c.parts))
          .filter((n) => n.toLowerCase() !== c.user.username.toLowerCase())
          .map((name) => ({ c, name })),
      );
      const found = await this.deps.store.getUsers(
        tenant.id,
        alternatives.map((a) => a.name),
      );
      for (const { c, name } of alternatives) {
        const old = found.get(name.toLowerCase());
        if (old?.syncId === c.user.syncId && !olds.has(c))
          olds.set(c, { username: old.username, assigned: old.assignedGroupPolicyId !== undefined });
      }
    }
    const toCreate: SyncedUser[] = [];
    const toRename: Rename[] = [];
    for (const c of missing) {
      const old = olds.get(c);
      if (c.unmapped && !old?.assigned) reject(c.user.syncId, 'no_matching_group');
      else if (old) toRename.push({ user: c.user, old: old.username, unmapped: c.unmapped });
      else toCreate.push(c.user);
    }
    return { toCreate, toRename };
  }

  /** Deletes the old items of renamed users; each carries its admin-owned fields over to its new name. */
  private async dropOldNames(
    tenantId: string,
    toRename: Rename[],
    toCreate: SyncedUser[],
    reject: (id: string, reason: RejectReason) => void,
  ): Promise<SyncedUser[]> {
    const renamed: SyncedUser[] = [];
    await mapPool(toRename, DELETE_CONCURRENCY, async ({ user, old, unmapped }) => {
      const gone = await this.deps.users.delete(tenantId, old, { syncId: user.syncId });
      // Gone meanwhile (an admin deleted it): the user is new again, and needs a slot like any new user.
      if (!gone) {
        if (unmapped) reject(user.syncId, 'no_matching_group');
        else toCreate.push(user);
        return;
      }
      const carried: NonNullable<SyncedUser['carried']> = {
        ...(gone.locked && { locked: true }),
        ...(gone.lockedAt && { lockedAt: gone.lockedAt }),
        ...(gone.overrides && { overrides: gone.overrides }),
        ...(gone.assignedGroupPolicyId && { assignedGroupPolicyId: gone.assignedGroupPolicyId }),
        ...(gone.assignedAt && { assignedAt: gone.assignedAt }),
        ...(gone.createdAt && { createdAt: gone.createdAt }),
      };
      renamed.push({ ...user, carried });
    });
    return renamed;
  }

  /**
   * Ends a run. A delta run removes nobody. A full run removes the users it did not see, only when every batch
   * finished (a connector that died halfway removes nobody). A removal small enough is done here; a larger one
   * (more than `inline.maxRemovals` users, or more than `inline.maxScanned` stored users to look through) is
   * handed to the background, and the run reads `completing` until it is done: no request does unbounded work.
   */
  async complete(tenantId: string, runId: string, actor: string): Promise<CompleteOutcome> {
    const { store, clock } = this.deps;
    const run = await store.getRun(tenantId, runId);
    if (!run) throw new NotFoundError('The sync run');
    if (run.status === 'completed' && run.result) return { state: 'completed', result: run.result };
    if (run.status === 'completing') return { state: 'completing' };
    if (run.expiresAt <= new Date(clock.now()).toISOString())
      throw new RunStateError(
        'run_expired',
        'The sync run expired before it was completed; start a new run.',
      );
    const seen = await this.runSeen(tenantId, runId);
    if ((run.mode ?? 'full') === 'delta') return this.finish(tenantId, run, seen.counts, 0, actor);

    const inline = this.deps.inline ?? INLINE_COMPLETE;
    const stale: StaleUser[] = [];
    let scanned = 0;
    let tooLarge = false;
    for await (const page of store.listSyncedUsers(tenantId)) {
      scanned += page.length;
      stale.push(...page.filter((u) => isStale(u, seen, run.createdAt)));
      if (scanned > inline.maxScanned || stale.length > inline.maxRemovals) {
        tooLarge = true;
        break;
      }
    }
    if (!tooLarge) {
      const removed = await this.remove(tenantId, run, stale);
      return this.finish(tenantId, run, seen.counts, removed, actor);
    }
    if (!(await store.markCompleting(tenantId, runId))) {
      const again = await store.getRun(tenantId, runId);
      if (again?.status === 'completed' && again.result) return { state: 'completed', result: again.result };
      if (again?.status === 'completing') return { state: 'completing' };
      throw new NotFoundError('The sync run');
    }
    await this.deps.history?.update(tenantId, runId, { status: 'completing' });
    const schedule =
      this.deps.scheduleRemoval ??
      (async (t: string, r: string) => {
        this.runRemoval(t, r, actor).catch(async (error: unknown) => {
          this.deps.log?.error('sync removal failed', { tenantId: t, runId: r, error });
          await this.reopen(t, r).catch(() => undefined);
        });
      });
    try {
      await schedule(tenantId, runId, actor);
    } catch (error) {
      await this.reopen(tenantId, runId);
      throw error;
    }
    return { state: 'completing' };
  }

  /**
   * A removal that could not be scheduled (or failed in-process) would leave the run `completing` for good, and a
   * `complete` of a completing run schedules nothing: so the run opens again, and the connector's next `complete`
   * (or a retry of this one) schedules it anew. Users removed before a failure stay removed; the rest go then.
   */
  private async reopen(tenantId: string, runId: string): Promise<void> {
    if (await this.deps.store.reopenRun(tenantId, runId))
      await this.deps.history?.update(tenantId, runId, { status: 'open' });
  }

  /**
   * The background half of a large `complete` (a job, or in-process locally): removes the users the run did not
   * see, page by page, and completes the run. Safe to run twice: deletes are conditional, and a completed run is
   * left alone.
   */
  async runRemoval(tenantId: string, runId: string, actor = 'system'): Promise<void> {
    const { store } = this.deps;
    const run = await store.getRun(tenantId, runId);
    if (run?.status !== 'completing') return;
    const seen = await this.runSeen(tenantId, runId);
    let removed = 0;
    for await (const page of store.listSyncedUsers(tenantId)) {
      const stale = page.filter((u) => isStale(u, seen, run.createdAt));
      if (stale.length > 0) removed += await this.remove(tenantId, run, stale);
    }
    await this.finish(tenantId, run, seen.counts, removed, actor);
  }

  /** What the run's batches saw and counted; throws when a batch did not finish (nobody is removed then). */
  private async runSeen(tenantId: string, runId: string): Promise<RunSeen> {
    const batches = await this.deps.store.listBatches(tenantId, runId);
    const unfinished = batches.filter((b) => b.state !== 'done').length;
    if (unfinished > 0)
      throw new RunStateError(
        'run_has_errors',
        `${unfinished} batch(es) of this run did not finish; nobody was removed. Send them again, or start a new run.`,
      );
    const tags = new Set<string>();
    const ids = new Set<string>();
    const createdTags = new Set<string>();
    const updatedTags = new Set<string>();
    let rejected = 0;
    for (const b of batches) {
      for (const t of b.seen) tags.add(t);
      for (const id of b.legacySeen ?? []) ids.add(id);
      for (const t of b.created) createdTags.add(t);
      for (const t of b.updated) updatedTags.add(t);
      rejected += b.rejected;
    }
    // A user in two batches of the run counts once, and a user this run created is not also "updated".
    const created = createdTags.size;
    const updated = [...updatedTags].filter((t) => !createdTags.has(t)).length;
    return { tags, ids, counts: { created, updated, rejected } };
  }

  private async remove(tenantId: string, run: SyncRun, stale: StaleUser[]): Promise<number> {
    if (stale.length === 0) return 0;
    const { users, limit } = this.deps;
    return limit.removing(tenantId, async () => {
      const gone = await mapPool(stale, DELETE_CONCURRENCY, (u) =>
        users.delete(tenantId, u.username, { syncId: u.syncId, syncedBefore: run.createdAt }),
      );
      return gone.filter(Boolean).length;
    });
  }

  private async finish(
    tenantId: string,
    run: SyncRun,
    counts: RunSeen['counts'],
    removed: number,
    actor: string,
  ): Promise<CompleteOutcome> {
    const { store, limit, clock, audit } = this.deps;
    const result = { created: counts.created, updated: counts.updated, removed, rejected: counts.rejected };
    const at = new Date(clock.now()).toISOString();
    if (!(await store.completeRun(tenantId, run.runId, result, at))) {
      const again = await store.getRun(tenantId, run.runId);
      if (again?.result) return { state: 'completed', result: again.result };
    }
    await limit.recount(tenantId);
    await this.deps.history?.update(tenantId, run.runId, { status: 'completed', result, completedAt: at });
    await audit.record({
      tenantId,
      at,
      actor,
      action: 'sync.completed',
      target: `sync-run:${run.runId}`,
      details: { ...result, mode: run.mode ?? 'full' },
    });
    return { state: 'completed', result };
  }

  /** Waits for the tenant's create lock; a batch that cannot get it in time is refused whole (retry it). */
  private async lockCreates(tenantId: string): Promise<{ holder: string; until: number }> {
    const { store, clock } = this.deps;
    const holder = newId(9);
    const deadline = clock.now() + LOCK_WAIT_MS;
    for (let attempt = 0; ; attempt++) {
      const now = clock.now();
      const until = now + CREATE_LEASE_MS;
      if (await store.acquireCreateLock(tenantId, holder, until, now)) return { holder, until };
      if (now >= deadline) throw new SyncBusyError();
      await new Promise((r) =>
        // Short polls: a batch holds the lock well under a second, and a late waiter leaves the table idle.
        setTimeout(r, Math.min(20, 2 * 2 ** Math.min(attempt, 4)) * (0.5 + Math.random())),
      );
    }
  }

  /**
   * Renews the create lock and the reservation once half their lease is gone; true while it is still safe to
   * write. The lock is renewed first, so the reservation never outlives it.
   */
  private async keepLease(
    tenantId: string,
    lease: { holder: string; until: number },
    reservation: Reservation,
  ): Promise<boolean> {
    const { store, limit, clock } = this.deps;
    const now = clock.now();
    if (Math.min(lease.until, reservation.until) - now < CREATE_LEASE_MS / 2) {
      const until = now + CREATE_LEASE_MS;
      if (!(await store.renewCreateLock(tenantId, lease.holder, until))) return false;
      lease.until = until;
      if (!(await limit.renew(tenantId, reservation, until))) return false;
    }
    return clock.now() < Math.min(lease.until, reservation.until) - SAFETY_MS;
  }

  private async openRun(tenantId: string, runId: string): Promise<SyncRun> {
    const run = await this.deps.store.getRun(tenantId, runId);
    if (!run) throw new NotFoundError('The sync run');
    if (run.status !== 'open')
      throw new RunStateError(
        'run_completed',
        'The sync run is completed (or completing); start a new run to send more users.',
      );
    if (run.expiresAt <= new Date(this.deps.clock.now()).toISOString())
      throw new RunStateError('run_expired', 'The sync run expired; start a new run.');
    return run;
  }

  /**
   * The tenant's learned NetBIOS names with this batch's added: the connector's `netbiosDomain` wins, a domain
   * it does not name gets the admin's mapping or the default. Written to the tenant item only when they change.
   */
  private async learnDomains(tenant: Tenant, users: SyncUser[]): Promise<Record<string, string>> {
    const known = { ...(tenant.adDomains ?? {}) };
    const changes: Record<string, string> = {};
    for (const user of users) {
      const dns = user.domain.trim().toLowerCase();
      const nb = user.netbiosDomain?.toUpperCase() ?? (dns in known ? undefined : netbiosOf(tenant, dns));
      if (nb === undefined || known[dns] === nb) continue;
      if (!(dns in known) && Object.keys(known).length >= MAX_KNOWN_DOMAINS) continue;
      known[dns] = nb;
      changes[dns] = nb;
    }
    if (Object.keys(changes).length > 0) await this.deps.store.noteDomains(tenant.id, changes);
    return known;
  }

  private prepare(
    tenant: Tenant,
    integration: IntegrationPolicy[],
    user: SyncUser,
    username: string,
    nowIso: string,
  ): Omit<Candidate, 'parts'> | RejectReason {
    const phone = (raw: string | null | undefined) => {
      if (raw === null || raw === undefined || raw.trim() === '') return null;
      return normalisePhone(raw, tenant.defaultCountry) ?? 'invalid';
    };
    const mobile = phone(user.mobile);
    const secondary = phone(user.secondaryMobile);
    if (mobile === 'invalid' || secondary === 'invalid') return 'invalid_phone';
    const email = user.email?.trim() || null;
    if (email !== null && !EMAIL.test(email)) return 'invalid_email';

    let groupPolicyId: string | null = null;
    let groupDn: string | null = null;
    // Whether a user in no mapped group may stay depends on an admin's assignment, known once it is read.
    let unmapped = false;
    if (integration.length > 0) {
      const match = resolveGroupPolicy(integration, user.domain, user.groups ?? []);
      unmapped = !match;
      groupPolicyId = match?.groupPolicyId ?? null;
      groupDn = match?.groupDn ?? null;
    }
    const fields = {
      username,
      domain: user.domain,
      displayName: user.displayName ?? null,
      mobile: mobile?.e164 ?? null,
      secondaryMobile: secondary?.e164 ?? null,
      email,
      groupPolicyId,
      groupDn,
    };
    const { groupPolicyId: mappedGroupPolicyId, ...rest } = fields;
    return {
      unmapped,
      user: {
        tenantId: tenant.id,
        syncId: user.id,
        ...rest,
        mappedGroupPolicyId,
        ...(mobile && { mobileType: mobile.type }),
        ...(secondary && { secondaryMobileType: secondary.type }),
        // The digest keeps its inputs' old names, so that an upgrade rewrites no unchanged user.
        syncHash: createHash('sha256').update(JSON.stringify(fields)).digest('base64url').slice(0, 22),
        syncedAt: nowIso,
      },
    };
  }
}
