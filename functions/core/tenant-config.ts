/**
 * A tenant's configuration: modem groups, providers, load-balancing, user group and user integration policies,
 * with the integrity rules that keep them pointing at each other correctly. Every change is audited.
 *
 * The checks read, then write: two admins racing (one deleting a modem group while the other points a rule at
 * it) can still slip past them, as DynamoDB offers no multi-item condition without transactions. Dispatch
 * treats a rule whose route has vanished as a failed step.
 */
import type {
  GroupPolicyInput,
  IntegrationPolicyInput,
  LoadBalancingPolicyInput,
} from '../contracts/admin.ts';
import {
  AlreadyExistsError,
  ChainLoopError,
  EmptyChainError,
  InUseError,
  MissingReferenceError,
} from './admin-errors.ts';
import { channelUnit, ruleIssues } from './channels/registry.ts';
import type { Clock } from './clock.ts';
import { InvalidRequestError, NotFoundError } from './errors.ts';
import { newId } from './ids.ts';
import type { AuditLog } from './ports/audit.ts';
import type { CredentialCipher } from './ports/credentials.ts';
import type { DirectoryStore } from './ports/directory.ts';
import type { ConfigKind, ConfigKinds, ConfigStore, Provider } from './ports/tenant-config.ts';
import type { UserStore } from './ports/users.ts';
import { ProviderSecrets, providerView } from './provider-secrets.ts';
import {
  assertPasscodeWithinCeilings,
  assertPinWithinCeilings,
  assertStrongPasscode,
  passcodeOf,
  resolveSettings,
} from './settings.ts';

export interface TenantConfigDeps {
  config: ConfigStore;
  users: UserStore;
  directory: DirectoryStore;
  audit: AuditLog;
  clock: Clock;
  /**
   * Seals providers' secret parameters (KMS in AWS, the key file locally): the same key dispatch opens them
   * with. Without it, a provider with a secret parameter cannot be saved (503 credential_unavailable).
   */
  cipher?: CredentialCipher;
}

const LABEL: Record<ConfigKind, string> = {
  modemGroup: 'The modem group',
  provider: 'The provider',
  loadBalancing: 'The load-balancing policy',
  group: 'The user group policy',
  integration: 'The user integration policy',
};
const ACTION: Record<ConfigKind, string> = {
  modemGroup: 'modem_group',
  provider: 'provider',
  loadBalancing: 'load_balancing_policy',
  group: 'group_policy',
  integration: 'integration_policy',
};
/** How far a chain of fallback policies is followed. */
const MAX_FALLBACK_DEPTH = 16;

/** Objects as the API and the audit log show them: a provider's secrets masked. */
export function viewOf<K extends ConfigKind>(kind: K, value: ConfigKinds[K]): unknown {
  return kind === 'provider' ? providerView(value as Provider) : value;
}

export class TenantConfigService {
  private readonly secrets: ProviderSecrets;

  constructor(private readonly deps: TenantConfigDeps) {
    this.secrets = new ProviderSecrets(deps.cipher);
  }

  list<K extends ConfigKind>(tenantId: string, kind: K) {
    return this.deps.config.list(tenantId, kind);
  }

  async get<K extends ConfigKind>(tenantId: string, kind: K, id: string): Promise<ConfigKinds[K]> {
    const found = await this.deps.config.get(tenantId, kind, id);
    if (!found) throw new NotFoundError(LABEL[kind]);
    return found;
  }

  async create<K extends ConfigKind>(
    tenantId: string,
    actor: string,
    kind: K,
    input: Omit<ConfigKinds[K], 'id' | 'createdAt' | 'updatedAt'>,
    givenId?: string,
  ): Promise<ConfigKinds[K]> {
    const id = givenId ?? newId(12);
    await this.validate(tenantId, kind, id, input);
    const sealed =
      kind === 'provider' ? await this.secrets.seal(tenantId, id, input as unknown as Provider) : input;
    const now = this.now();
    const value = {
      ...sealed,
      ...(givenId === undefined && { id }),
      createdAt: now,
      updatedAt: now,
    } as ConfigKinds[K];
    if (!(await this.deps.config.put(tenantId, kind, id, value, 'create')))
      throw new AlreadyExistsError(LABEL[kind]);
    await this.record(tenantId, actor, `${ACTION[kind]}.created`, kind, id, undefined, value);
    return value;
  }

  async replace<K extends ConfigKind>(
    tenantId: string,
    actor: string,
    kind: K,
    id: string,
    input: Partial<ConfigKinds[K]>,
  ): Promise<ConfigKinds[K]> {
    const before = await this.get(tenantId, kind, id);
    // Modem groups and providers take partial updates; a policy is replaced whole (its id and age stay).
    const named = kind === 'modemGroup' || kind === 'provider';
    const base = named ? before : { id, createdAt: before.createdAt };
    let merged = { ...base, ...input, updatedAt: this.now() } as ConfigKinds[K];
    await this.validate(tenantId, kind, id, merged);
    // New params are checked and sealed whole; secrets sent back as the mask keep the stored ones.
    if (kind === 'provider' && (input as Partial<Provider>).params !== undefined)
      merged = (await this.secrets.seal(
        tenantId,
        id,
        merged as Provider,
        before as Provider,
      )) as unknown as ConfigKinds[K];
    if (!(await this.deps.config.put(tenantId, kind, id, merged, 'replace')))
      throw new NotFoundError(LABEL[kind]);
    await this.record(tenantId, actor, `${ACTION[kind]}.updated`, kind, id, before, merged);
    return merged;
  }

  async remove(tenantId: string, actor: string, kind: ConfigKind, id: string): Promise<void> {
    const before = await this.get(tenantId, kind, id);
    const usedBy = await this.usedBy(tenantId, kind, id);
    if (usedBy.length > 0) throw new InUseError(`${LABEL[kind]} "${id}"`, usedBy);
    if (!(await this.deps.config.delete(tenantId, kind, id))) throw new NotFoundError(LABEL[kind]);
    await this.record(tenantId, actor, `${ACTION[kind]}.deleted`, kind, id, before, undefined);
  }

  private async validate(tenantId: string, kind: ConfigKind, id: string, value: unknown) {
    if (kind === 'loadBalancing') await this.validateChain(tenantId, id, value as LoadBalancingPolicyInput);
    if (kind === 'group') await this.validateGroup(tenantId, value as GroupPolicyInput);
    if (kind === 'integration') await this.validateIntegration(tenantId, id, value as IntegrationPolicyInput);
  }

  private async validateChain(tenantId: string, id: string, policy: LoadBalancingPolicyInput) {
    const { config } = this.deps;
    const misfits = policy.rules.flatMap((rule, i) =>
      ruleIssues(rule).map((issue) => ({ path: `rules.${i}.${issue.field}`, message: issue.message })),
    );
    if (misfits.length > 0) {
      const first = misfits[0]!;
      throw new InvalidRequestError(`${first.path}: ${first.message}`, misfits);
    }
    if (policy.rules.length === 0) throw new EmptyChainError();
    const steps = new Set<string>();
    for (const [i, rule] of policy.rules.entries()) {
      const where = `Rule ${i + 1} (${rule.channel})`;
      const step = `${rule.channel}/${rule.target}/${rule.route}`;
      if (steps.has(step))
        throw new ChainLoopError(
          `${where} repeats an earlier rule (same channel, target and route): the chain would send the same message the same way again.`,
        );
      steps.add(step);
      if (rule.route === null) continue;
      const routeKind = channelUnit(rule.channel).route;
      if (routeKind === 'modem_group') {
        if (!(await config.get(tenantId, 'modemGroup', rule.route)))
          throw new MissingReferenceError(
            `${where} names the modem group "${rule.route}", which does not exist.`,
          );
        continue;
      }
      if (routeKind !== 'provider') continue;
      const provider = await config.get(tenantId, 'provider', rule.route);
      if (!provider)
        throw new MissingReferenceError(`${where} names the provider "${rule.route}", which does not exist.`);
      // A provider serves the channel of its kind's name.
      if (provider.kind !== rule.channel)
        throw new MissingReferenceError(
          `${where} names the provider "${rule.route}", which is a ${provider.kind} provider, not ${rule.channel}.`,
        );
    }
    // Follow the fallback chain: it must exist, and never come back to this policy.
    let next = policy.fallbackPolicyId ?? null;
    const visited = [id];
    for (let depth = 0; next !== null; depth++) {
      if (visited.includes(next) || depth >= MAX_FALLBACK_DEPTH)
        throw new ChainLoopError(`The fallback policies form a loop: ${[...visited, next].join(' → ')}.`);
      const fallback = await config.get(tenantId, 'loadBalancing', next);
      if (!fallback)
        throw new MissingReferenceError(`The fallback load-balancing policy "${next}" does not exist.`);
      visited.push(next);
      next = fallback.fallbackPolicyId ?? null;
    }
  }

  private async validateGroup(tenantId: string, group: GroupPolicyInput) {
    if (group.loadBalancingPolicyId !== null) {
      if (!(await this.deps.config.get(tenantId, 'loadBalancing', group.loadBalancingPolicyId)))
        throw new MissingReferenceError(
          `The load-balancing policy "${group.loadBalancingPolicyId}" does not exist.`,
        );
    }
    const tenant = await this.deps.directory.getTenant(tenantId);
    if (!tenant) throw new NotFoundError('The tenant');
    assertPasscodeWithinCeilings(group.passcode ?? {}, tenant.ceilings, "The group policy's passcode");
    assertPinWithinCeilings(group.pin, tenant.ceilings, "The group policy's PIN");
    const settings = resolveSettings(tenant, { ...group, id: '', createdAt: '', updatedAt: '' }, undefined);
    assertStrongPasscode(passcodeOf(settings), 'With this policy the passcode');
  }

  private async validateIntegration(tenantId: string, id: string, policy: IntegrationPolicyInput) {
    if (!(await this.deps.config.get(tenantId, 'group', policy.groupPolicyId)))
      throw new MissingReferenceError(`The user group policy "${policy.groupPolicyId}" does not exist.`);
    const same = (await this.deps.config.list(tenantId, 'integration')).find(
      (p) =>
        p.id !== id &&
        p.domain.toLowerCase() === policy.domain.toLowerCase() &&
        p.groupDn.toLowerCase() === policy.groupDn.toLowerCase(),
    );
    if (same) throw new AlreadyExistsError(`A mapping of this AD group (policy "${same.id}")`);
  }

  private async usedBy(tenantId: string, kind: ConfigKind, id: string): Promise<string[]> {
    const { config, users, directory } = this.deps;
    const used: string[] = [];
    if (kind === 'modemGroup' || kind === 'provider') {
      for (const p of await config.list(tenantId, 'loadBalancing')) {
        const routeKind = kind === 'modemGroup' ? 'modem_group' : 'provider';
        const hit = p.rules.some((r) => r.route === id && channelUnit(r.channel).route === routeKind);
        if (hit) used.push(`load-balancing policy "${p.name}" (${p.id})`);
      }
      if (kind === 'modemGroup' && (await directory.getTenant(tenantId))?.defaultModemGroup === id)
        used.push("the tenant's default modem group");
    }
    if (kind === 'loadBalancing') {
      for (const g of await config.list(tenantId, 'group'))
        if (g.loadBalancingPolicyId === id) used.push(`user group policy "${g.name}" (${g.id})`);
      for (const p of await config.list(tenantId, 'loadBalancing'))
        if (p.fallbackPolicyId === id)
          used.push(`load-balancing policy "${p.name}" (${p.id}) as its fallback`);
    }
    if (kind === 'group') {
      for (const p of await config.list(tenantId, 'integration'))
        if (p.groupPolicyId === id) used.push(`user integration policy ${p.id} (${p.groupDn})`);
      if (await users.anyWithGroupPolicy(tenantId, id))
        used.push('users (assigned to it, or synced into it: re-sync after changing the mappings)');
    }
    return used;
  }

  private record(
    tenantId: string,
    actor: string,
    action: string,
    kind: ConfigKind,
    id: string,
    before: unknown,
    after: unknown,
  ) {
    const view = (v: unknown) => (v === undefined ? undefined : viewOf(kind, v as ConfigKinds[typeof kind]));
    return this.deps.audit.record({
      tenantId,
      at: this.now(),
      actor,
      action,
      target: `${ACTION[kind]}:${id}`,
      ...(before !== undefined && { before: view(before) }),
      ...(after !== undefined && { after: view(after) }),
    });
  }

  private now() {
    return new Date(this.deps.clock.now()).toISOString();
  }
}
