/** A tenant's configuration objects: modem groups, providers and policies. */
import type {
  GroupPolicyInput,
  IntegrationPolicyInput,
  LoadBalancingPolicyInput,
} from '../../contracts/admin.ts';
import type { ProviderKindName } from '../../contracts/channels.ts';

export interface ModemGroup {
  name: string;
  description: string;
  createdAt: string;
  updatedAt: string;
}

export interface Provider {
  name: string;
  kind: ProviderKindName;
  description: string;
  params: Record<string, string | number | boolean>;
  createdAt: string;
  updatedAt: string;
}

export type LoadBalancingPolicy = LoadBalancingPolicyInput & {
  id: string;
  createdAt: string;
  updatedAt: string;
};

export type GroupPolicy = GroupPolicyInput & { id: string; createdAt: string; updatedAt: string };

export type IntegrationPolicy = IntegrationPolicyInput & { id: string; createdAt: string; updatedAt: string };

export interface ConfigKinds {
  modemGroup: ModemGroup;
  provider: Provider;
  loadBalancing: LoadBalancingPolicy;
  group: GroupPolicy;
  integration: IntegrationPolicy;
}

export type ConfigKind = keyof ConfigKinds;

/** Tenant configuration objects, each addressed by kind and id (a modem group's or provider's id is its name). */
export interface ConfigStore {
  get<K extends ConfigKind>(tenantId: string, kind: K, id: string): Promise<ConfigKinds[K] | undefined>;
  list<K extends ConfigKind>(tenantId: string, kind: K): Promise<Array<ConfigKinds[K]>>;
  /** `create` fails (false) if the id exists; `replace` fails (false) if it does not. */
  put<K extends ConfigKind>(
    tenantId: string,
    kind: K,
    id: string,
    value: ConfigKinds[K],
    mode: 'create' | 'replace',
  ): Promise<boolean>;
  delete(tenantId: string, kind: ConfigKind, id: string): Promise<boolean>;
}
