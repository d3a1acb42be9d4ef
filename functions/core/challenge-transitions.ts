/**
 * Which status a challenge and its delivery steps may move to, and from where. The store turns these into
 * the conditions of its writes, so a late or repeated event never moves anything back; the rules themselves
 * are the domain's.
 */
import type { Challenge, DeliveryStatus } from './model.ts';

/** Statuses in which a challenge can still be accepted or delivered. */
export const LIVE_STATUSES = [
  'pending',
  'sent',
  'delivered',
  'failed',
] as const satisfies Challenge['status'][];

/** Which delivery statuses a step may move from. Statuses with none are only ever set when a step starts. */
export const DELIVERY_FROM: Record<DeliveryStatus, DeliveryStatus[]> = {
  queued: [],
  dispatched: [],
  sending: [],
  sent: ['dispatched', 'sending'],
  delivered: ['dispatched', 'sent'],
  failed: ['dispatched', 'sending', 'sent'],
};

/** Which challenge statuses move along with a step that reports. */
export const CHALLENGE_FROM: Record<DeliveryStatus, Challenge['status'][]> = {
  queued: [],
  dispatched: [],
  sending: [],
  sent: ['pending', 'failed'],
  delivered: ['pending', 'sent', 'failed'],
  failed: ['pending', 'sent'],
};
