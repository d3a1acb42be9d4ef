/**
 * The tenant admin's view of users: search, view, overrides, lock, delete, effective settings. Personal passcodes
 * and failed-attempt lockouts live with the challenge code (`/v1/personal-passcodes`, `/v1/lockouts`).
 */
import type * as z from 'zod';
import type { UserUpdate } from '../contracts/admin.ts';
import { MissingReferenceError } from './admin-errors.ts';
import { maskOrNull } from './audit-view.ts';
import type { Clock } from './clock.ts';
import { NotFoundError } from './errors.ts';
import type { AuditLog } from './ports/audit.ts';
import type { DirectoryStore } from './ports/directory.ts';
import type { ConfigStore } from './ports/tenant-config.ts';
import type { ManagedUser, UserStore } from './ports/users.ts';
import { ChainResolver, type ResolvedChain } from './rule-chain.ts';
import { assertPasscodeWithinCeilings, assertStrongPasscode, passcodeOf } from './settings.ts';
import type { UserLimit } from './user-limit.ts';

/** Clears the lockout that failed passcodes leave in the user's guard, when an admin unlocks a user. */
export interface LockoutReset {
  unlock(tenantId: string, username: string, nowIso: string): Promise<unknown>;
  /** Copies the admin's lock to the guard that every verify passes, so open challenges stop too. */
  setAdminLock(tenantId: string, username: string, locked: boolean, nowIso: string): Promise<void>;
}

export interface UserAdminDeps {
  users: UserStore;
  config: ConfigStore;
  directory: DirectoryStore;
  limit: UserLimit;
  audit: AuditLog;
  clock: Clock;
  lockouts?: LockoutReset;
}

/**
 * The group policy the AD mapping gave the user. Items the sync wrote before it kept the mapping apart hold it
 * only as the effective policy, which is the mapping's while no admin assigned one.
 */
export const mappedPolicyOf = (user: ManagedUser): string | null =>
  user.mappedGroupPolicyId !== undefined
    ? user.mappedGroupPolicyId
    : user.assignedGroupPolicyId
      ? null
      : (user.groupPolicyId ?? null);

/** A user as the admin API shows it: numbers masked, sync bookkeeping left out. */
export function userView(user: ManagedUser) {
  return {
    username: user.username,
    id: user.syncId ?? null,
    domain: user.domain ?? null,
    displayName: user.displayName ?? null,
    mobile: maskOrNull(user.mobile),
    mobileType: user.mobileType ?? null,
    secondaryMobile: maskOrNull(user.secondaryMobile),
    secondaryMobileType: user.secondaryMobileType ?? null,
    email: user.email,
    /** The effective group policy: the assigned one, else the mapped one. */
    groupPolicyId: user.groupPolicyId ?? null,
    assignedGroupPolicyId: user.assignedGroupPolicyId ?? null,
    mappedGroupPolicyId: mappedPolicyOf(user),
    groupDn: user.groupDn ?? null,
    locked: user.locked === true,
    lockedAt: user.lockedAt ?? null,
    /** Whether the user set a PIN (never the PIN or its hash). */
    pinSet: user.pin !== undefined,
    overrides: user.overrides ?? null,
    syncedAt: user.syncedAt ?? null,
    createdAt: user.createdAt ?? null,
  };
}
export type UserView = ReturnType<typeof userView>;

export class UserAdminService {
  /** The same resolver the challenge path runs on, without its cache: an admin sees a change at once. */
  private readonly chains: ChainResolver;

  constructor(private readonly deps: UserAdminDeps) {
    this.chains = new ChainResolver({ config: deps.config, clock: deps.clock, cacheMs: 0 });
  }

  async list(tenantId: string, options: { search?: string; limit: number; cursor?: string }) {
    const page = await this.deps.users.list(tenantId, {
      limit: options.limit,
      ...(options.search && { prefix: options.search }),
      ...(options.cursor && { cursor: options.cursor }),
    });
    return { users: page.users.map(userView), ...(page.cursor && { cursor: page.cursor }) };
  }

  async get(tenantId: string, username: string): Promise<ManagedUser> {
    const user = await this.deps.users.get(tenantId, username);
    if (!user) throw new NotFoundError('The user');
    return user;
  }

  async update(tenantId: string, actor: string, username: string, patch: z.infer<typeof UserUpdate>) {
    const before = await this.get(tenantId, username);
    const assign = patch.groupPolicyId;
    if (typeof assign === 'string' && !(await this.deps.config.get(tenantId, 'group', assign)))
      throw new MissingReferenceError(`The user group policy "${assign}" does not exist.`);
    if (patch.overrides || assign !== undefined) {
      const groupPolicyId = assign === undefined ? before.groupPolicyId : (assign ?? mappedPolicyOf(before));
      const overrides = patch.overrides === undefined ? before.overrides : (patch.overrides ?? undefined);
      const { overrides: _old, ...rest } = before;
      const { settings, tenant } = await this.resolve(tenantId, {
        ...rest,
        groupPolicyId: groupPolicyId ?? null,
        ...(overrides && { overrides }),
      });
      if (patch.overrides)
        assertPasscodeWithinCeilings(patch.overrides, tenant.ceilings, "The user's overrides");
      assertStrongPasscode(passcodeOf(settings), "With these settings the user's passcode");
    }
    const after = await this.deps.users.updateAdminFields(tenantId, username, {
      ...(patch.overrides !== undefined && { overrides: patch.overrides }),
      ...(assign !== undefined && {
        groupPolicy: { assign, mapped: mappedPolicyOf(before), at: this.now() },
      }),
    });
    if (!after) throw new NotFoundError('The user');
    await this.record(tenantId, actor, 'user.updated', username, before, after);
    return userView(after);
  }

  async setLocked(tenantId: string, actor: string, username: string, locked: boolean) {
    const before = await this.get(tenantId, username);
    const now = this.now();
    const after = await this.deps.users.updateAdminFields(tenantId, username, {
      locked: locked ? true : null,
      lockedAt: locked ? now : null,
    });
    if (!after) throw new NotFoundError('The user');
    await this.deps.lockouts?.setAdminLock(tenantId, username, locked, now);
    if (!locked) await this.deps.lockouts?.unlock(tenantId, username, now);
    await this.record(tenantId, actor, locked ? 'user.locked' : 'user.unlocked', username, before, after);
    return userView(after);
  }

  /**
   * Clears the user's PIN (forgotten, or known to someone else). Where a PIN is required the user then logs in
   * nowhere until they set a new one in the portal.
   */
  async clearPin(tenantId: string, actor: string, username: string) {
    const before = await this.get(tenantId, username);
    const after = await this.deps.users.updateAdminFields(tenantId, username, { pin: null });
    if (!after) throw new NotFoundError('The user');
    await this.record(tenantId, actor, 'user.pin_cleared', username, before, after);
    return userView(after);
  }

  async delete(tenantId: string, actor: string, username: string) {
    let deleted: ManagedUser | undefined;
    await this.deps.limit.removing(tenantId, async () => {
      deleted = await this.deps.users.delete(tenantId, username);
      return deleted ? 1 : 0;
    });
    if (!deleted) throw new NotFoundError('The user');
    await this.record(tenantId, actor, 'user.deleted', username, deleted, undefined);
  }

  /** What the user's next login runs on: every setting with where it comes from, and the rule chain. */
  async effective(tenantId: string, username: string) {
    const user = await this.get(tenantId, username);
    const { settings, group, rules } = await this.resolve(tenantId, user);
    return {
      username: user.username,
      groupPolicy: group ? { id: group.id, name: group.name } : null,
      /** Whether the policy is the admin's assignment or the AD mapping's. */
      groupPolicyFrom: group ? (user.assignedGroupPolicyId ? 'assigned' : 'ad_mapping') : null,
      settings,
      chain: rules,
    };
  }

  private async resolve(
    tenantId: string,
    user: ManagedUser,
  ): Promise<ResolvedChain & { tenant: NonNullable<Awaited<ReturnType<DirectoryStore['getTenant']>>> }> {
    const tenant = await this.deps.directory.getTenant(tenantId);
    if (!tenant) throw new NotFoundError('The tenant');
    // A user whose group policy was deleted since the last sync falls back to the tenant's settings.
    return { ...(await this.chains.resolve(tenant, user)), tenant };
  }

  private record(
    tenantId: string,
    actor: string,
    action: string,
    username: string,
    before: ManagedUser,
    after: ManagedUser | undefined,
  ) {
    return this.deps.audit.record({
      tenantId,
      at: this.now(),
      actor,
      action,
      target: `user:${username}`,
      before: userView(before),
      ...(after && { after: userView(after) }),
    });
  }

  private now() {
    return new Date(this.deps.clock.now()).toISOString();
  }
}
