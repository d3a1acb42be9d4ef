/**
 * Delivery planning for a new challenge: which rule chain it runs, the text it carries, step 0 as a queue
 * message with its agent already chosen, and, for a challenge that sends nothing, the decoy it shows instead.
 */
import { fitsOneSms } from '../contracts/gsm7.ts';
import type { AgentRouter } from './agent-router.ts';
import { channelUnit, deliveryRoute, maskedDestination } from './channels/registry.ts';
import { DeliveryTimes } from './decoy-timeline.ts';
import { checkDestination } from './destination.ts';
import { chainSealContext } from './dispatch.ts';
import type { Challenge, Tenant, User } from './model.ts';
import { maskPhone } from './phone.ts';
import type { DispatchMessage } from './ports/queue.ts';
import { type ChainResolver, chainOf, deliveryChannel, type ResolvedChain } from './rule-chain.ts';
import type { DeploymentKeys } from './secrets.ts';
import type { EffectiveSettings } from './settings.ts';

/** The longest text an SMS job may carry (the contract's limit, ten concatenated parts and some). */
export const MAX_MESSAGE_CHARS = 1600;

export interface MessageFacts {
  code: string;
  minutes: number;
  ip?: string;
  client?: string;
}

export function renderMessage(template: string, facts: MessageFacts) {
  const fill = (ip: string, client: string) =>
    template
      .replaceAll('{code}', facts.code)
      .replaceAll('{minutes}', String(facts.minutes))
      .replaceAll('{ip}', ip)
      .replaceAll('{client}', client);
  const full = fill(facts.ip ?? 'unknown', facts.client ?? 'unknown');
  // A template that repeats long session facts could outgrow a job and never be sent: drop the facts, keep
  // the code (templates are at most 320 characters, so this always fits).
  return full.length <= MAX_MESSAGE_CHARS ? full : fill('-', '-');
}

/**
 * The passcode message as the user's settings make it. With a login page host set, the message ends with the
 * origin-bound code line of the WebOTP format (`@login.example.com #123456`, its own last line), which Chrome
 * and Safari read and offer only on that host, and the whole message is kept to one SMS: browsers read only a
 * single message, so the text above the line gives way (first the session facts, then its end), never the line.
 */
export function composeMessage(settings: EffectiveSettings, facts: MessageFacts): string {
  const template = settings['passcode.messageTemplate'].value;
  const host = settings['passcode.webOtpOrigin'].value;
  const text = renderMessage(template, facts);
  if (!host) return text;
  const line = `@${host} #${facts.code}`;
  const withLine = (body: string) => (body ? `${body}\n\n${line}` : line);
  if (fitsOneSms(withLine(text))) return withLine(text);
  const plain = Array.from(
    renderMessage(template, { code: facts.code, minutes: facts.minutes, ip: '-', client: '-' }),
  );
  while (plain.length > 0 && !fitsOneSms(withLine(plain.join('').trimEnd()))) plain.pop();
  return withLine(plain.join('').trimEnd());
}

export interface DeliveryPlannerDeps {
  keys: DeploymentKeys;
  /** The user's rule chain; without it every challenge runs the tenant's default one-rule SMS chain. */
  chains?: ChainResolver | undefined;
  /** Picks step 0's agent; without it the dispatcher picks (and claims the step with a write). */
  router?: AgentRouter | undefined;
}

export class DeliveryPlanner {
  /** Real challenges' delivery times, which decoys' status follows. */
  readonly times = new DeliveryTimes();

  constructor(private readonly deps: DeliveryPlannerDeps) {}

  /** The rule chain a user's challenge runs: the user's group policy's, or the tenant's default for a stranger. */
  chainFor(tenant: Tenant, user: User | undefined): Promise<ResolvedChain> {
    return this.deps.chains
      ? this.deps.chains.resolve(tenant, user)
      : Promise.resolve(chainOf(tenant, user, undefined, []));
  }

  /**
   * The user's rule chain, and step 0 as a queue message. Step 0's agent is chosen here (from a list a warm
   * container caches), recorded in the challenge and carried by the message, so dispatch needs no claim write:
   * every copy of the message goes to that agent under the same job id. Fills in the challenge's chain, its
   * first delivery and (for chains that can fail over) the sealed destinations and text.
   */
  async planDelivery(
    tenant: Tenant,
    user: User,
    resolved: ResolvedChain,
    challenge: Challenge,
    code: string,
    nowIso: string,
    /** A notice without a passcode, sent in place of the passcode message. */
    notice?: string,
  ): Promise<DispatchMessage> {
    const { keys } = this.deps;
    const chain = resolved.rules;
    const rule = chain[0]!;
    const { settings } = resolved;
    const text =
      notice ??
      composeMessage(settings, {
        code,
        minutes: Math.round(settings['passcode.validitySeconds'].value / 60),
        ...(challenge.client.ip && { ip: challenge.client.ip }),
        ...(challenge.client.name && { client: challenge.client.name }),
      });
    let secondary = settings.secondaryPhone.value ? user.secondaryMobile : null;
    if (secondary) {
      try {
        checkDestination(secondary, settings['security.allowedCountries'].value, user.secondaryMobileType);
      } catch {
        secondary = null;
      }
    }
    const targets = { primary: user.mobile, secondary, email: user.email };
    const sealed = keys.seal(
      JSON.stringify({ text, targets, username: user.username }),
      chainSealContext(tenant.id, challenge.id),
    );
    const agent = await this.agentFor(tenant, rule);
    const to = rule.target === 'email' ? user.email : targets[rule.target];
    const shownTo = to ? maskedDestination(rule, to) : undefined;
    challenge.chain = chain;
    if (chain.length > 1) challenge.sealed = sealed;
    const flash = settings['passcode.flash'].value;
    if (flash) challenge.flash = true;
    challenge.deliveries = [
      {
        step: 0,
        channel: deliveryChannel(rule),
        route: deliveryRoute(rule),
        status: agent ? 'dispatched' : 'queued',
        at: nowIso,
        ...(agent && { agentId: agent.agentId }),
        ...(shownTo && { to: shownTo }),
      },
    ];
    return {
      v: 1,
      kind: 'step',
      tenantId: tenant.id,
      challengeId: challenge.id,
      step: 0,
      expiresAt: challenge.expiresAt,
      sealed,
      modemGroup: rule.route ?? rule.channel,
      flash,
      rule,
      ...(agent && { agentId: agent.agentId }),
      hasNext: chain.length > 1,
    };
  }

  /**
   * A challenge that sends nothing (unknown name, or a known user no rule may reach) does the same work as a
   * real one (route choice, sealing) so it takes as long, and gets the plan its status will follow. A known
   * user's refusal is kept as step 0's failure, for the message log.
   */
  async planDecoy(
    tenant: Tenant,
    resolved: ResolvedChain,
    challenge: Challenge,
    code: string,
    known: { refusal: string | undefined; to: string | null },
  ): Promise<void> {
    const { refusal, to } = known;
    const { settings } = resolved;
    // A user no rule may reach still shows a step: the one the tenant's default chain would take.
    const rules =
      resolved.rules.length > 0 ? resolved.rules : chainOf(tenant, undefined, undefined, []).rules;
    const rule = rules[0]!;
    const text = composeMessage(settings, {
      code,
      minutes: Math.round(settings['passcode.validitySeconds'].value / 60),
    });
    this.deps.keys.seal(
      JSON.stringify({ text, targets: { primary: null, secondary: null, email: null }, username: '' }),
      chainSealContext(tenant.id, challenge.id),
    );
    const agent = await this.agentFor(tenant, rule);
    const channel = deliveryChannel(rule);
    const route = deliveryRoute(rule);
    challenge.decoy = this.times.plan(tenant.id, {
      channel,
      route,
      initial: agent ? 'dispatched' : 'queued',
    });
    if (refusal) {
      challenge.refusal = refusal;
      challenge.status = 'failed';
      challenge.chain = rules;
      challenge.deliveries = [
        {
          step: 0,
          channel,
          route,
          status: 'failed',
          at: challenge.createdAt,
          reason: refusal,
          ...(to && { to: maskPhone(to) }),
        },
      ];
    }
  }

  /** Step 0's agent, for a rule whose route is a modem group: chosen now, so dispatch needs no claim write. */
  private agentFor(tenant: Tenant, rule: ResolvedChain['rules'][number]) {
    return channelUnit(rule.channel).route === 'modem_group' && rule.route && this.deps.router
      ? this.deps.router.pick(tenant.id, rule.route)
      : Promise.resolve(undefined);
  }

  /** An unknown user's destination looks like a real one and stays the same between calls. */
  decoyDestination(tenant: Tenant, username: string): string {
    const digest = this.deps.keys.digest(tenant.id, 'decoy-destination', username.toLowerCase());
    const lastTwo = String((digest.readUInt16BE(0) % 100) + 100).slice(1);
    const sample = DECOY_NUMBERS[tenant.defaultCountry] ?? DECOY_NUMBERS.DK!;
    return maskPhone(`${sample.slice(0, -2)}${lastTwo}`);
  }
}

/** Plausible mobile numbers per country, only their shape (country code and length) is ever shown. */
const DECOY_NUMBERS: Record<string, string> = {
  DK: '+4520000000',
  SE: '+46700000000',
  NO: '+4740000000',
  DE: '+4915100000000',
  GB: '+447700900000',
  US: '+12025550100',
};
