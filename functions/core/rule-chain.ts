/**
 * The rule chain a challenge's delivery runs: the user's group policy names a load-balancing policy, whose
 * rules run in order, then those of its fallback policy (and its fallback's, never twice). A user without a
 * group policy, or a policy without a load-balancing policy, gets SMS through the tenant's default modem
 * group. Policies change rarely and are read on every login, so a warm container keeps them a few seconds.
 */
import type { Rule } from '../contracts/admin.ts';
import type { Clock } from './clock.ts';
import type { Tenant, User } from './model.ts';
import type { ConfigStore, GroupPolicy, LoadBalancingPolicy } from './ports/tenant-config.ts';

export interface ResolvedChain {
  rules: Rule[];
  flash: boolean;
}

/** The one-rule chain of a tenant without load-balancing policies. */
export function defaultChain(tenant: Tenant): Rule[] {
  return [
    {
      channel: 'sms_modem',
      target: 'primary',
      route: tenant.defaultModemGroup,
      timeoutSeconds: Math.min(900, Math.max(5, tenant.passcode.validitySeconds)),
    },
  ];
}

export { deliveryChannel } from './channels/registry.ts';

/** The longest chain that is run; policies are at most 16 rules each. */
const MAX_RULES = 48;

export class ChainResolver {
  private readonly cache = new Map<string, { at: number; value: unknown }>();

  constructor(
    private readonly deps: {
      config: Pick<ConfigStore, 'get'>;
      clock: Clock;
      cacheMs?: number;
    },
  ) {}

  async resolve(tenant: Tenant, user: User | undefined): Promise<ResolvedChain> {
    const groupId = user?.groupPolicyId;
    const group = groupId ? await this.cached<GroupPolicy>(tenant.id, 'group', groupId) : undefined;
    const flash = group?.passcode?.flash ?? false;
    const rules: Rule[] = [];
    const seen = new Set<string>();
    let policyId = group?.loadBalancingPolicyId ?? null;
    while (policyId && !seen.has(policyId) && rules.length < MAX_RULES) {
      seen.add(policyId);
      const policy = await this.cached<LoadBalancingPolicy>(tenant.id, 'loadBalancing', policyId);
      if (!policy) break;
      rules.push(...policy.rules);
      policyId = policy.fallbackPolicyId ?? null;
    }
    return { rules: rules.length > 0 ? rules.slice(0, MAX_RULES) : defaultChain(tenant), flash };
  }

  private async cached<T>(
    tenantId: string,
    kind: 'group' | 'loadBalancing',
    id: string,
  ): Promise<T | undefined> {
    const key = `${tenantId}\u0000${kind}\u0000${id}`;
    const now = this.deps.clock.now();
    const hit = this.cache.get(key);
    if (hit && now - hit.at < (this.deps.cacheMs ?? 5000)) return hit.value as T | undefined;
    const value = await this.deps.config.get(tenantId, kind, id);
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(key, { at: now, value });
    return value as T | undefined;
  }
}
