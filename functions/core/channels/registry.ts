/**
 * Every delivery channel kind, one line each. Rules, providers, dispatch, the message log and the challenge
 * view all read a kind's behaviour from here, so a new channel is its unit file, its line below and its
 * name in `contracts/channels.ts`.
 */
import type { Rule } from '../../contracts/admin.ts';
import {
  type ChannelKindName,
  PROVIDER_KIND_NAMES,
  type ProviderKindName,
} from '../../contracts/channels.ts';
import { maskPhone } from '../phone.ts';
import { email } from './kinds/email.ts';
import { smsModem } from './kinds/sms-modem.ts';
import { smsWeb } from './kinds/sms-web.ts';
import { totp } from './kinds/totp.ts';
import type { ChannelUnit, ProviderUnit } from './kinds/unit.ts';
import { voice } from './kinds/voice.ts';

export const CHANNEL_UNITS = {
  sms_modem: smsModem,
  sms_web: smsWeb,
  voice,
  email,
  totp,
} as const satisfies { [K in ChannelKindName]: ChannelUnit & { kind: K } };

type Units = typeof CHANNEL_UNITS;

/** The kinds whose rules route through a provider: exactly the provider kinds named in the contracts. */
type ProviderRouted = {
  [K in ChannelKindName]: Units[K] extends { route: 'provider' } ? K : never;
}[ChannelKindName];
const providerKindsMatch: [ProviderRouted, ProviderKindName] extends [ProviderKindName, ProviderRouted]
  ? true
  : never = true;
void providerKindsMatch;

/** What `GET /v1/challenges/{id}` shows as a step's channel, and what a stored delivery holds. */
export type DeliveryChannel = Units[ChannelKindName]['label'];

export const channelUnit = (kind: ChannelKindName): ChannelUnit => CHANNEL_UNITS[kind];

export const providerUnit = (kind: ProviderKindName): ProviderUnit => CHANNEL_UNITS[kind];

export const isProviderKind = (kind: string): kind is ProviderKindName =>
  (PROVIDER_KIND_NAMES as readonly string[]).includes(kind);

export const deliveryChannel = (rule: Pick<Rule, 'channel'>): DeliveryChannel =>
  CHANNEL_UNITS[rule.channel].label;

/** A step's route as stored and logged: the rule's route, or the channel's name when it has none. */
export const deliveryRoute = (rule: Pick<Rule, 'channel' | 'route'>): string => rule.route ?? rule.channel;

/** `a••••@example.com`: enough for support to recognise, not enough to harvest. */
export function maskEmail(address: string): string {
  const at = address.lastIndexOf('@');
  if (at < 1) return '••••';
  return `${address[0]}••••${address.slice(at)}`;
}

/** A step's destination as the message log shows it; undefined where nothing is sent to an address. */
export function maskedDestination(rule: Pick<Rule, 'channel'>, to: string): string | undefined {
  const { reaches } = CHANNEL_UNITS[rule.channel];
  return reaches === 'phone' ? maskPhone(to) : reaches === 'email' ? maskEmail(to) : undefined;
}

export interface RuleIssue {
  field: 'target' | 'route';
  message: string;
}

/** Where a rule's target or route does not fit its channel; empty when it fits. */
export function ruleIssues(rule: Pick<Rule, 'channel' | 'target' | 'route'>): RuleIssue[] {
  const unit = channelUnit(rule.channel);
  const issues: RuleIssue[] = [];
  if (!unit.targets.includes(rule.target))
    issues.push({
      field: 'target',
      message: `${unit.kind} rules go to the ${unit.targets.join(' or ')} target`,
    });
  if ((unit.route === 'none') !== (rule.route === null))
    issues.push({
      field: 'route',
      message: unit.route === 'none' ? `${unit.kind} rules have no route` : 'this channel needs a route',
    });
  return issues;
}
