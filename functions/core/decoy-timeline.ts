/**
 * Challenges that send nothing (for an unknown name, or a known user whom no rule may reach) must look like
 * real ones to the auth client for their whole life, or polling `GET /v1/challenges/{id}` would tell who
 * exists. A real challenge shows step 0 at once, then `sent` and (with a delivery report) `delivered`; a decoy
 * follows a plan made when it is created, drawn from the times this container saw on real challenges of the
 * same tenant, so that it moves as fast as the tenant's real deliveries do.
 */
import { randomInt } from 'node:crypto';
import type { Challenge, ChallengeStatus, Delivery, DeliveryChannel } from './model.ts';

/** What a decoy shows, and when: offsets from its creation, in milliseconds. */
export interface DecoyPlan {
  channel: DeliveryChannel;
  route: string;
  /** Step 0's first status: `dispatched` when a real one would have gone straight to an agent. */
  initial: 'dispatched' | 'queued';
  sentAfterMs: number;
  deliveredAfterMs?: number;
}

/** Until real deliveries were seen: a GSM modem's usual few seconds to send, and a report a little later. */
const DEFAULT_SENT_MS = 3000;
const SAMPLES_KEPT = 64;
const TENANTS_KEPT = 1000;

/** The step-0 times of real challenges that this container saw when clients polled them. */
export class DeliveryTimes {
  private readonly byTenant = new Map<string, { sent: number[]; delivered: number[] }>();

  /** Learns from a real challenge's step 0 as a client polls it. */
  observe(challenge: Challenge) {
    if (!challenge.userKnown || challenge.refusal) return;
    const step0 = challenge.deliveries.find((d) => d.step === 0);
    if (!step0 || (step0.status !== 'sent' && step0.status !== 'delivered')) return;
    const after = Date.parse(step0.at) - Date.parse(challenge.createdAt);
    if (!(after >= 0)) return;
    const times = this.tenant(challenge.tenantId);
    const list = step0.status === 'sent' ? times.sent : times.delivered;
    list.push(after);
    if (list.length > SAMPLES_KEPT) list.shift();
  }

  /** A plan for a new decoy: each time drawn from those seen, so its spread matches the real one's. */
  plan(tenantId: string, step0: Pick<DecoyPlan, 'channel' | 'route' | 'initial'>): DecoyPlan {
    const times = this.byTenant.get(tenantId);
    const draw = (list: number[] | undefined) =>
      list && list.length > 0 ? list[randomInt(list.length)] : undefined;
    const sentAfterMs = draw(times?.sent) ?? DEFAULT_SENT_MS;
    const delivered = draw(times?.delivered);
    return {
      ...step0,
      sentAfterMs,
      ...(delivered !== undefined && { deliveredAfterMs: Math.max(delivered, sentAfterMs) }),
    };
  }

  private tenant(tenantId: string) {
    let times = this.byTenant.get(tenantId);
    if (!times) {
      if (this.byTenant.size >= TENANTS_KEPT) this.byTenant.delete(this.byTenant.keys().next().value!);
      times = { sent: [], delivered: [] };
      this.byTenant.set(tenantId, times);
    }
    return times;
  }
}

/** A decoy's status and step 0 at `now`, as a real challenge's would read. */
export function decoyProgress(
  challenge: Pick<Challenge, 'createdAt'>,
  plan: DecoyPlan,
  now: number,
): { status: Extract<ChallengeStatus, 'pending' | 'sent' | 'delivered'>; deliveries: Delivery[] } {
  const created = Date.parse(challenge.createdAt);
  const at = (ms: number) => new Date(created + ms).toISOString();
  const step = (status: Delivery['status'], when: string): Delivery => ({
    step: 0,
    channel: plan.channel,
    route: plan.route,
    status,
    at: when,
  });
  const elapsed = now - created;
  if (plan.deliveredAfterMs !== undefined && elapsed >= plan.deliveredAfterMs)
    return { status: 'delivered', deliveries: [step('delivered', at(plan.deliveredAfterMs))] };
  if (elapsed >= plan.sentAfterMs)
    return { status: 'sent', deliveries: [step('sent', at(plan.sentAfterMs))] };
  return { status: 'pending', deliveries: [step(plan.initial, challenge.createdAt)] };
}

/** The last `size` values of something measured, to draw from with their real spread (not a mean). */
export class Samples {
  private readonly values: number[] = [];

  constructor(private readonly size: number) {}

  add(value: number) {
    this.values.push(value);
    if (this.values.length > this.size) this.values.shift();
  }

  draw(): number | undefined {
    return this.values.length > 0 ? this.values[randomInt(this.values.length)] : undefined;
  }
}
