/**
 * What a user's login runs on: the settings (settings.ts) and the rule chain. The user's group policy names a
 * load-balancing policy, whose rules run in order, then those of its fallback policy (and its fallback's, never
 * twice); the settings' channels and secondary-number switch then drop the rules the user may not get. A user
 * without a group policy, or a policy without a load-balancing policy, gets SMS through the tenant's default
 * modem group. Policies change rarely and are read on every login, so a warm container keeps them a few seconds.
 * `effective-settings` resolves through this same class, uncached.
 */
import type { Rule } from '../contracts/admin.ts';
import type { Clock } from './clock.ts';
import type { Tenant, User } from './model.ts';
import type { ConfigStore, GroupPolicy, LoadBalancingPolicy } from './ports/tenant-config.ts';
import { allowedRules, type EffectiveSettings, resolveSettings } from './settings.ts';

export interface ResolvedChain {
  /** The rules the user may get, in order; empty when no rule may reach the user. */
  rules: Rule[];
  settings: EffectiveSettings;
  /** The user's group policy, when it still exists. */
  group?: GroupPolicy | undefined;
}

/** The one-rule chain of a tenant without load-balancing policies: SMS for as long as the passcode lives. */
export function defaultChain(settings: EffectiveSettings): Rule[] {
  return [
    {
      channel: 'sms_modem',
      target: 'primary',
      route: settings.defaultModemGroup.value,
      timeoutSeconds: Math.min(900, Math.max(5, settings['passcode.validitySeconds'].value)),
    },
  ];
}

/** A user's settings and chain, given the group policy and its load-balancing policies as loaded. */
export function chainOf(
  tenant: Tenant,
  user: User | undefined,
  group: GroupPolicy | undefined,
  policyRules: Rule[],
): ResolvedChain {
  const settings = resolveSettings(tenant, group, user?.overrides);
  const rules = policyRules.length > 0 ? policyRules : defaultChain(settings);
  return { rules: allowedRules(rules, settings), settings, group };
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
    return chainOf(tenant, user, group, rules.slice(0, MAX_RULES));
  }

  private async cached<T>(
    tenantId: string,
    kind: 'group' | 'loadBalancing',
    id: string,
  ): Promise<T | undefined> {
    const key = `${tenantId}\u0000${kind}\u0000${id}`;
    const now = this.deps.clock.now();
    const hit = this.cache.get(key);
    const ttl = this.deps.cacheMs ?? 5000;
    if (hit && now - hit.at < ttl) return hit.value as T | undefined;
    const value = await this.deps.config.get(tenantId, kind, id);
    if (ttl <= 0) return value as T | undefined;
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(key, { at: now, value });
    return value as T | undefined;
  }
}
