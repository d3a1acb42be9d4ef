/**
 * What one delivery channel kind is, in one place: its name and title, what its rules may point at, what
 * the console asks for when a tenant defines its provider, and how a stored provider becomes a channel.
 * Each kind is one file beside this one; `../registry.ts` lists them.
 */
import type { Target } from '../../../contracts/admin.ts';
import type { ChannelKindName } from '../../../contracts/channels.ts';
import type { Logger } from '../../ports/log.ts';
import type { Bulkheads } from '../bulkhead.ts';
import type { Channel } from '../channel.ts';
import type { MailTransport } from '../email.ts';
import type { HttpTransport } from '../http.ts';
import type { SmtpSettings } from '../mail-params.ts';
import type { ParameterSpec, PlainParams } from '../provider-params.ts';
import type { ProviderIdentity, WebProviderDeps } from '../web-provider.ts';

/**
 * Where a step's code goes, which decides how the destination is read and shown:
 * - `phone`: the target's E.164 number, shown masked (`+45 •• •• •• 56`);
 * - `email`: the target's address, shown masked (`a••••@example.com`);
 * - `app`: the user's authenticator app. Nothing is sent (so nothing is counted as a message), the channel
 *   is asked about the username, and once the step succeeds verify checks a TOTP code.
 */
export type Reach = 'phone' | 'email' | 'app';

/**
 * What a rule's route names: a modem group (the step goes to an edge agent over MQTT), a provider of the
 * channel's own kind (the cloud calls it), or nothing (the cloud carries out the step itself).
 */
export type RouteKind = 'modem_group' | 'provider' | 'none';

export interface ChannelUnitBase {
  kind: ChannelKindName;
  title: string;
  /**
   * The channel as `GET /v1/challenges/{id}` shows a step, and as a step is stored: the person sees an SMS,
   * not whether a modem or a web gateway sent it.
   */
  label: string;
  /** The user's destinations a rule of this channel may send to. */
  targets: readonly Target[];
  reaches: Reach;
  route: RouteKind;
}

/** A channel the product carries itself: through the agents' modems, or with no route at all. */
export interface BuiltInUnit extends ChannelUnitBase {
  route: 'modem_group' | 'none';
}

/** What the cloud gives a provider's channel to work with. */
export interface ProviderChannelsDeps {
  http: HttpTransport;
  bulkheads: Bulkheads;
  /** Builds (and may pool) an SMTP transport for a tenant's server. Absent: SMTP providers fail as config. */
  smtp?: (settings: SmtpSettings) => MailTransport;
  /** The deployment's SES transport. Absent: SES providers fail as config. */
  ses?: MailTransport;
  log?: Logger;
  allowPrivateNetworks?: boolean;
  allowPlainHttp?: boolean;
}

export interface ProviderUnit extends ChannelUnitBase {
  route: 'provider';
  /** What a tenant's provider of this kind asks for; the console renders its form from these. */
  parameters: readonly ParameterSpec[];
  /**
   * The kind's own checks of validated parameters (templates, matchers, transport settings), run before a
   * provider is stored; throws `ProviderParamsError`.
   */
  check(params: PlainParams): void;
  /** The channel for one stored provider, from its opened parameters. May throw for a broken setup. */
  build(params: PlainParams, provider: ProviderIdentity, deps: ProviderChannelsDeps): Channel;
}

export type ChannelUnit = BuiltInUnit | ProviderUnit;

/** The part of the deps an HTTP provider (web SMS, voice) uses. */
export function httpProviderDeps(deps: ProviderChannelsDeps): WebProviderDeps {
  return {
    http: deps.http,
    bulkheads: deps.bulkheads,
    ...(deps.log && { log: deps.log }),
    ...(deps.allowPrivateNetworks !== undefined && { allowPrivateNetworks: deps.allowPrivateNetworks }),
    ...(deps.allowPlainHttp !== undefined && { allowPlainHttp: deps.allowPlainHttp }),
  };
}
