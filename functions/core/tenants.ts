/**
 * The operator's view: tenants, their user sync limit, allowed countries and default passcode settings, their
 * usage, and their lifecycle (suspend keeps data and stops keys and agents at once; delete leaves a tombstone).
 */
import type * as z from 'zod';
import type { TenantInput, TenantUpdate } from '../contracts/admin.ts';
import { AlreadyExistsError, MissingReferenceError, TenantStateError } from './admin-errors.ts';
import { mintKey } from './api-keys.ts';
import type { Clock } from './clock.ts';
import { NotFoundError } from './errors.ts';
import { DEFAULT_PASSCODE } from './passcode.ts';
import type { AgentSessions } from './ports/agents.ts';
import type { AuditLog } from './ports/audit.ts';
import type { ConfigStore } from './ports/tenant-config.ts';
import type { TenantDeletion, TenantRecord, TenantStore } from './ports/tenants.ts';
import type { UsageStore } from './ports/usage.ts';
import { assertStrongPasscode, passcodeOf, resolveSettings } from './settings.ts';
import type { UserLimit } from './user-limit.ts';

export const DEFAULT_TEMPLATE = 'Your login code is {code}. It expires in {minutes} minutes.';
export const DEFAULT_MODEM_GROUP = 'default';

export interface TenantServiceDeps {
  tenants: TenantStore;
  config: ConfigStore;
  limit: UserLimit;
  usage: UsageStore;
  audit: AuditLog;
  clock: Clock;
  agentSessions?: AgentSessions;
  /**
   * Starts `runPurge(tenantId)` somewhere that outlives the request: a queued job in AWS, a background promise
   * locally. Without it the purge runs inside the delete.
   */
  schedulePurge?: (tenantId: string) => Promise<void>;
}

export interface TenantUsage {
  tenantId: string;
  activeUsers: number;
  userLimit: number;
  month: string;
  challenges: number;
  messages: number;
}

export class TenantService {
  constructor(private readonly deps: TenantServiceDeps) {}

  async create(
    actor: string,
    input: z.infer<typeof TenantInput>,
  ): Promise<{ tenant: TenantRecord; adminKey: string }> {
    const { tenants, config, limit } = this.deps;
    const now = this.now();
    const tenant: TenantRecord = {
      id: input.id,
      name: input.name,
      status: 'active',
      defaultCountry: input.defaultCountry,
      allowedCountries: input.allowedCountries ?? [input.defaultCountry],
      userLimit: input.userLimit,
      passcode: input.passcode ?? DEFAULT_PASSCODE,
      messageTemplate: input.messageTemplate ?? DEFAULT_TEMPLATE,
      defaultModemGroup: input.defaultModemGroup ?? DEFAULT_MODEM_GROUP,
      createdAt: now,
    };
    assertStrongPasscode(tenant.passcode, 'The default passcode');
    if (!(await tenants.create(tenant))) throw new AlreadyExistsError(`A tenant with the id "${input.id}"`);
    await config.put(
      tenant.id,
      'modemGroup',
      tenant.defaultModemGroup,
      {
        name: tenant.defaultModemGroup,
        description: 'Created with the tenant',
        createdAt: now,
        updatedAt: now,
      },
      'create',
    );
    await limit.recount(tenant.id);
    const minted = mintKey('admin', tenant.id);
    await tenants.putKey({
      hash: minted.hash,
      prefix: minted.prefix,
      kind: 'admin',
      tenantId: tenant.id,
      createdAt: now,
    });
    await this.record(actor, 'tenant.created', tenant.id, undefined, tenant, { adminKey: minted.prefix });
    return { tenant, adminKey: minted.key };
  }

  async list(): Promise<TenantRecord[]> {
    return (await this.deps.tenants.list()).filter((t) => t.status !== 'deleted');
  }

  async get(tenantId: string): Promise<TenantRecord> {
    const tenant = await this.deps.tenants.get(tenantId);
    if (!tenant || tenant.status === 'deleted') throw new NotFoundError('The tenant');
    return tenant;
  }

  async update(actor: string, tenantId: string, patch: z.infer<typeof TenantUpdate>): Promise<TenantRecord> {
    const before = await this.get(tenantId);
    const passcode = patch.passcode ?? before.passcode;
    assertStrongPasscode(passcode, 'The default passcode');
    if (patch.passcode) {
      // Group policies override single fields; the new defaults must not make any combination weak.
      const candidate = { ...before, passcode };
      for (const group of await this.deps.config.list(tenantId, 'group'))
        assertStrongPasscode(
          passcodeOf(resolveSettings(candidate, group, undefined)),
          `With these defaults, user group policy "${group.name}" gives a passcode that`,
        );
    }
    if (
      patch.defaultModemGroup &&
      !(await this.deps.config.get(tenantId, 'modemGroup', patch.defaultModemGroup))
    )
      throw new MissingReferenceError(`The modem group "${patch.defaultModemGroup}" does not exist.`);
    const after = await this.deps.tenants.update(tenantId, { ...patch, updatedAt: this.now() });
    if (!after) throw new NotFoundError('The tenant');
    await this.record(actor, 'tenant.updated', tenantId, before, after);
    return after;
  }

  async setStatus(actor: string, tenantId: string, status: 'active' | 'suspended'): Promise<TenantRecord> {
    const before = await this.get(tenantId);
    const after = await this.deps.tenants.update(tenantId, { status, updatedAt: this.now() });
    if (!after) throw new NotFoundError('The tenant');
    // Keys check the tenant's status on every request; live agent sessions are ended here.
    if (status === 'suspended') await this.deps.agentSessions?.disconnectTenant(tenantId);
    else if (before.status === 'suspended') await this.deps.agentSessions?.resumeTenant?.(tenantId);
    if (before.status !== status)
      await this.record(
        actor,
        status === 'suspended' ? 'tenant.suspended' : 'tenant.resumed',
        tenantId,
        before,
        after,
      );
    return after;
  }

  /**
   * Only a suspended tenant can be deleted: it becomes a tombstone at once (its keys stop working, its id can
   * never come back) and its data is purged in the background (`schedulePurge`; `runPurge` does the work).
   * Sending the delete again restarts a purge that was cut short.
   */
  async delete(actor: string, tenantId: string): Promise<TenantDeletion> {
    const stored = await this.deps.tenants.get(tenantId);
    const now = this.now();
    if (stored?.status === 'deleted') {
      const deletion: TenantDeletion = { state: 'purging', requestedAt: now, requestedBy: actor };
      if (!(await this.deps.tenants.setDeletion(tenantId, deletion))) throw new NotFoundError('The tenant');
      await this.schedule(tenantId);
      return deletion;
    }
    const before = await this.get(tenantId);
    if (before.status !== 'suspended') throw new TenantStateError('Suspend the tenant before deleting it.');
    const marked = await this.deps.tenants.update(tenantId, { status: 'deleted', updatedAt: now });
    if (!marked) throw new NotFoundError('The tenant');
    const deletion: TenantDeletion = { state: 'purging', requestedAt: now, requestedBy: actor };
    await this.deps.tenants.setDeletion(tenantId, deletion);
    // Kept in the operator's log (its retention) as the record that and when the tenant's data was erased.
    await this.record(actor, 'tenant.deleted', tenantId, before, undefined);
    await this.schedule(tenantId);
    return deletion;
  }

  /** The purge itself, run by the background worker; safe to run again, and twice at once. */
  async runPurge(tenantId: string): Promise<TenantDeletion | undefined> {
    const stored = await this.deps.tenants.get(tenantId);
    if (stored?.status !== 'deleted') return undefined;
    const purgedItems = await this.deps.tenants.purge(tenantId);
    const deletion: TenantDeletion = {
      state: 'done',
      requestedAt: stored.deletion?.requestedAt ?? stored.updatedAt ?? this.now(),
      ...(stored.deletion?.requestedBy && { requestedBy: stored.deletion.requestedBy }),
      finishedAt: this.now(),
      purgedItems,
    };
    await this.deps.tenants.setDeletion(tenantId, deletion);
    await this.deps.audit.record({
      at: this.now(),
      actor: deletion.requestedBy ?? 'system',
      action: 'tenant.purged',
      target: `tenant:${tenantId}`,
      details: { purgedItems },
      tenantId: '',
    });
    return deletion;
  }

  /** Where a delete is: 404 unless the tenant is deleted. */
  async deletion(tenantId: string): Promise<TenantDeletion> {
    const stored = await this.deps.tenants.get(tenantId);
    if (stored?.status !== 'deleted') throw new NotFoundError('A deletion of this tenant');
    // Tombstones from before deletions were tracked: their purge ran inside the delete request.
    return stored.deletion ?? { state: 'done', requestedAt: stored.updatedAt ?? stored.createdAt };
  }

  private async schedule(tenantId: string) {
    const { schedulePurge } = this.deps;
    if (schedulePurge) await schedulePurge(tenantId);
    else await this.runPurge(tenantId);
  }

  async usage(tenantId: string): Promise<TenantUsage> {
    const tenant = await this.get(tenantId);
    const month = this.now().slice(0, 7);
    const [activeUsers, counts] = await Promise.all([
      this.deps.limit.current(tenantId),
      this.deps.usage.get(tenantId, month),
    ]);
    return { tenantId, activeUsers, userLimit: tenant.userLimit, month, ...counts };
  }

  /** In the operator's log, and (unless the tenant is gone) in the tenant's own, so its admins see it too. */
  private async record(
    actor: string,
    action: string,
    tenantId: string,
    before: unknown,
    after: unknown,
    details?: Record<string, string | number>,
  ) {
    const entry = {
      at: this.now(),
      actor,
      action,
      target: `tenant:${tenantId}`,
      ...(before !== undefined && { before }),
      ...(after !== undefined && { after }),
      ...(details && { details }),
    };
    await this.deps.audit.record({ ...entry, tenantId: '' });
    if (action !== 'tenant.deleted') await this.deps.audit.record({ ...entry, tenantId });
  }

  private now() {
    return new Date(this.deps.clock.now()).toISOString();
  }
}
