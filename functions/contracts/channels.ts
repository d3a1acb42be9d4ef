/**
 * The names of the delivery channels a rule may use, and of the provider kinds a tenant may define. What
 * each kind does is one unit under `functions/core/channels/kinds/`; the core registry is typed against
 * these tuples, so a name without a unit, or a unit without a name, fails the type check.
 */

export const CHANNEL_KINDS = ['sms_modem', 'sms_web', 'voice', 'email', 'totp'] as const;
export type ChannelKindName = (typeof CHANNEL_KINDS)[number];

/** The channels whose rules name a tenant's provider; each provider kind serves the channel of its name. */
export const PROVIDER_KIND_NAMES = ['sms_web', 'voice', 'email'] as const;
export type ProviderKindName = (typeof PROVIDER_KIND_NAMES)[number];
