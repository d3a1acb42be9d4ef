/**
 * A tenant's providers: the kinds the console can offer (`describeProviderKinds`), how an admin's input
 * becomes a stored provider (`prepareProvider`), and how a stored one becomes a channel for dispatch
 * (`ProviderChannels.channelFor`). What each kind asks for and builds is its unit in `./kinds/`.
 */

import { PROVIDER_KIND_NAMES, type ProviderKindName } from '../../contracts/channels.ts';
import type { CredentialCipher, CredentialContext } from '../ports/credentials.ts';
import { type Channel, failed, UnusableChannel } from './channel.ts';
import type { ProviderChannelsDeps } from './kinds/unit.ts';
import {
  openParams,
  type PlainParams,
  ProviderParamsError,
  type StoredParams,
  sealParams,
  validateParams,
} from './provider-params.ts';
import { isProviderKind, providerUnit } from './registry.ts';

/** What the console renders a form from: one entry per provider kind, serving the channel of its name. */
export function describeProviderKinds() {
  return PROVIDER_KIND_NAMES.map((kind) => {
    const unit = providerUnit(kind);
    return { kind, channel: unit.kind, title: unit.title, parameters: unit.parameters };
  });
}

/** A tenant's provider as stored: secrets sealed. */
export interface ProviderDefinition {
  tenantId: string;
  id: string;
  kind: ProviderKindName;
  params: StoredParams;
}

export const providerCipherContext = (tenantId: string, providerId: string): CredentialContext => ({
  tenantId,
  providerId,
});

/**
 * Checks an admin's input for a provider and seals its secrets, ready to store. `previous` is the stored
 * version when editing, so secrets sent back masked are kept. Throws `ProviderParamsError`.
 */
export async function prepareProvider(
  input: { tenantId: string; id: string; kind: string; params: Record<string, unknown> },
  cipher: CredentialCipher,
  previous?: ProviderDefinition,
): Promise<ProviderDefinition> {
  if (!isProviderKind(input.kind))
    throw new ProviderParamsError([
      { param: 'kind', message: `must be one of ${PROVIDER_KIND_NAMES.join(', ')}` },
    ]);
  const unit = providerUnit(input.kind);
  const plain = validateParams(unit.parameters, input.params);
  // Full checks (templates, matcher) with secrets replaced by placeholders: masked values are not real ones.
  unit.check(plain);
  const params = await sealParams(
    unit.parameters,
    plain,
    cipher,
    providerCipherContext(input.tenantId, input.id),
    previous?.kind === input.kind ? previous.params : {},
  );
  return { tenantId: input.tenantId, id: input.id, kind: input.kind, params };
}

export interface ProviderChannelsOptions extends ProviderChannelsDeps {
  cipher: CredentialCipher;
  /**
   * How long opened parameters are kept in a warm process, so a burst of sends costs one KMS Decrypt, not
   * one each. The cache key includes the stored parameters, so an edited provider is picked up at once.
   */
  openCacheMs?: number;
  now?: () => number;
}

export class ProviderChannels {
  private readonly opened = new Map<string, { at: number; params: PlainParams }>();

  constructor(private readonly deps: ProviderChannelsOptions) {}

  /**
   * The channel for a stored provider. Never throws: a provider that cannot be opened or is set up wrong
   * becomes a channel that fails with a `config` (or, when the key service is unavailable, `temporary`)
   * outcome, so the rule chain moves on and the console can show why.
   */
  async channelFor(provider: ProviderDefinition): Promise<Channel> {
    if (!isProviderKind(provider.kind))
      return new UnusableChannel('sms_web', failed('config', 'provider_kind_unknown'));
    const unit = providerUnit(provider.kind);
    let params: PlainParams;
    try {
      params = await this.open(provider);
    } catch (error) {
      this.deps.log?.warn('provider credentials do not open', {
        tenantId: provider.tenantId,
        providerId: provider.id,
        error,
      });
      return new UnusableChannel(unit.kind, failed('temporary', 'credential_unavailable'));
    }
    try {
      return unit.build(params, { tenantId: provider.tenantId, providerId: provider.id }, this.deps);
    } catch (error) {
      const detail = error instanceof Error ? error.message : undefined;
      return new UnusableChannel(unit.kind, failed('config', 'provider_config', detail));
    }
  }

  private async open(provider: ProviderDefinition): Promise<PlainParams> {
    const ttl = this.deps.openCacheMs ?? 300_000;
    const now = (this.deps.now ?? Date.now)();
    const key = `${provider.tenantId}\u0000${provider.id}\u0000${JSON.stringify(provider.params)}`;
    const hit = this.opened.get(key);
    if (hit && now - hit.at < ttl) return hit.params;
    const params = await openParams(
      providerUnit(provider.kind).parameters,
      provider.params,
      this.deps.cipher,
      providerCipherContext(provider.tenantId, provider.id),
    );
    // Old versions of an edited provider and long-idle entries go; the map stays as small as the tenants in use.
    for (const [k, v] of this.opened)
      if (now - v.at >= ttl || k.startsWith(`${provider.tenantId}\u0000${provider.id}\u0000`))
        this.opened.delete(k);
    this.opened.set(key, { at: now, params });
    return params;
  }
}
