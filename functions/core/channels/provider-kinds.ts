/**
 * The provider kinds a tenant can define, what each asks for, and how a stored provider becomes a
 * channel. Part of the console (`describeProviderKinds`) and of dispatch (`ProviderChannels.channelFor`).
 */

import type { CredentialCipher, CredentialContext } from '../ports/credentials.ts';
import type { Logger } from '../ports/log.ts';
import type { Bulkheads } from './bulkhead.ts';
import { type Channel, type ChannelKind, type ChannelOutcome, failed } from './channel.ts';
import { EmailChannel, type MailTransport } from './email.ts';
import type { HttpTransport } from './http.ts';
import { EMAIL_PROVIDER_PARAMETERS, emailProviderConfig, type SmtpSettings } from './mail-params.ts';
import {
  openParams,
  type ParameterSpec,
  type PlainParams,
  ProviderParamsError,
  type StoredParams,
  sealParams,
  validateParams,
} from './provider-params.ts';
import { VOICE_PROVIDER_PARAMETERS, VoiceProvider, voiceProviderConfig } from './voice-provider.ts';
import { WEB_PROVIDER_PARAMETERS, WebSmsProvider, webProviderConfig } from './web-provider.ts';

/** Keyed like the tenant's provider objects (issue 4): one kind per channel that needs a provider. */
export const PROVIDER_KINDS = {
  sms_web: { channel: 'sms_web', title: 'Web SMS gateway (HTTP)', parameters: WEB_PROVIDER_PARAMETERS },
  voice: { channel: 'voice', title: 'Voice call gateway (HTTP)', parameters: VOICE_PROVIDER_PARAMETERS },
  email: { channel: 'email', title: 'E-mail (SMTP or Amazon SES)', parameters: EMAIL_PROVIDER_PARAMETERS },
} as const satisfies Record<
  string,
  { channel: ChannelKind; title: string; parameters: readonly ParameterSpec[] }
>;

export type ProviderKind = keyof typeof PROVIDER_KINDS;

export const isProviderKind = (kind: string): kind is ProviderKind => Object.hasOwn(PROVIDER_KINDS, kind);

/** What the console renders a form from. */
export function describeProviderKinds() {
  return Object.entries(PROVIDER_KINDS).map(([kind, d]) => ({
    kind: kind as ProviderKind,
    channel: d.channel,
    title: d.title,
    parameters: d.parameters,
  }));
}

/** A tenant's provider as stored: secrets sealed. Issue 4's provider objects map onto this. */
export interface ProviderDefinition {
  tenantId: string;
  id: string;
  kind: ProviderKind;
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
      { param: 'kind', message: `must be one of ${Object.keys(PROVIDER_KINDS).join(', ')}` },
    ]);
  const specs = PROVIDER_KINDS[input.kind].parameters;
  const plain = validateParams(specs, input.params);
  // Full checks (templates, matcher) with secrets replaced by placeholders: masked values are not real ones.
  if (input.kind === 'sms_web') webProviderConfig(plain);
  if (input.kind === 'voice') voiceProviderConfig(plain);
  if (input.kind === 'email') emailProviderConfig(plain);
  const params = await sealParams(
    specs,
    plain,
    cipher,
    providerCipherContext(input.tenantId, input.id),
    previous?.kind === input.kind ? previous.params : {},
  );
  return { tenantId: input.tenantId, id: input.id, kind: input.kind, params };
}

export interface ProviderChannelsDeps {
  cipher: CredentialCipher;
  http: HttpTransport;
  bulkheads: Bulkheads;
  /** Builds (and may pool) an SMTP transport for a tenant's server. Absent: SMTP providers fail as config. */
  smtp?: (settings: SmtpSettings) => MailTransport;
  /** The deployment's SES transport. Absent: SES providers fail as config. */
  ses?: MailTransport;
  log?: Logger;
  allowPrivateNetworks?: boolean;
  allowPlainHttp?: boolean;
  /**
   * How long opened parameters are kept in a warm process, so a burst of sends costs one KMS Decrypt, not
   * one each. The cache key includes the stored parameters, so an edited provider is picked up at once.
   */
  openCacheMs?: number;
  now?: () => number;
}

/** A channel that only reports why its provider cannot be used. */
class UnusableProvider implements Channel {
  constructor(
    readonly kind: ChannelKind,
    private readonly outcome: ChannelOutcome,
  ) {}

  async deliver(): Promise<ChannelOutcome> {
    return this.outcome;
  }
}

export class ProviderChannels {
  private readonly opened = new Map<string, { at: number; params: PlainParams }>();

  constructor(private readonly deps: ProviderChannelsDeps) {}

  /**
   * The channel for a stored provider. Never throws: a provider that cannot be opened or is set up wrong
   * becomes a channel that fails with a `config` (or, when the key service is unavailable, `temporary`)
   * outcome, so the rule chain moves on and the console can show why.
   */
  async channelFor(provider: ProviderDefinition): Promise<Channel> {
    const kind = PROVIDER_KINDS[provider.kind];
    if (!kind) return new UnusableProvider('sms_web', failed('config', 'provider_kind_unknown'));
    let params: PlainParams;
    try {
      params = await this.open(provider);
    } catch (error) {
      this.deps.log?.warn('provider credentials do not open', {
        tenantId: provider.tenantId,
        providerId: provider.id,
        error,
      });
      return new UnusableProvider(kind.channel, failed('temporary', 'credential_unavailable'));
    }
    try {
      return this.build(provider, params);
    } catch (error) {
      const detail = error instanceof Error ? error.message : undefined;
      return new UnusableProvider(kind.channel, failed('config', 'provider_config', detail));
    }
  }

  private build(provider: ProviderDefinition, params: PlainParams): Channel {
    const identity = { tenantId: provider.tenantId, providerId: provider.id };
    const web = {
      http: this.deps.http,
      bulkheads: this.deps.bulkheads,
      ...(this.deps.log && { log: this.deps.log }),
      ...(this.deps.allowPrivateNetworks !== undefined && {
        allowPrivateNetworks: this.deps.allowPrivateNetworks,
      }),
      ...(this.deps.allowPlainHttp !== undefined && { allowPlainHttp: this.deps.allowPlainHttp }),
    };
    switch (provider.kind) {
      case 'sms_web':
        return new WebSmsProvider(identity, webProviderConfig(params), web);
      case 'voice':
        return new VoiceProvider(identity, voiceProviderConfig(params), web);
      case 'email': {
        const config = emailProviderConfig(params);
        const transport = config.smtp ? this.deps.smtp?.(config.smtp) : this.deps.ses;
        if (!transport)
          return new UnusableProvider('email', failed('config', `${config.transport}_unavailable`));
        return new EmailChannel(transport, {
          from: config.from,
          subject: config.subject,
          timeoutMs: config.timeoutMs,
          ...(this.deps.log && { log: this.deps.log }),
        });
      }
    }
  }

  private async open(provider: ProviderDefinition): Promise<PlainParams> {
    const ttl = this.deps.openCacheMs ?? 300_000;
    const now = (this.deps.now ?? Date.now)();
    const key = `${provider.tenantId}\u0000${provider.id}\u0000${JSON.stringify(provider.params)}`;
    const hit = this.opened.get(key);
    if (hit && now - hit.at < ttl) return hit.params;
    const params = await openParams(
      PROVIDER_KINDS[provider.kind].parameters,
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
