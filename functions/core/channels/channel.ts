/**
 * A delivery channel: one way to get a passcode message to a person, other than the edge agents' modems
 * (which go over MQTT and report back asynchronously). A channel answers with an outcome and never
 * throws: a failing gateway must not crash the login flow, it makes the rule chain move on.
 */

import type { ChannelKindName } from '../../contracts/channels.ts';

/** The kinds a channel object serves (modem SMS goes to the agents instead, and has none). */
export type ChannelKind = ChannelKindName;

export interface DeliveryRequest {
  tenantId: string;
  challengeId: string;
  step: number;
  /** An E.164 number (`+4520123456`) for SMS and voice, an address for e-mail, the username for TOTP. */
  to: string;
  /** The message with the passcode in it. Never logged. */
  text: string;
  /** The e-mail subject; other channels ignore it. */
  subject?: string;
}

/**
 * Why a delivery failed, which tells the chain what to do next:
 * - `temporary`: the route may work later (timeout, 5xx, busy): the next rule runs, the route stays in use.
 * - `permanent`: this message will never go this way (number refused, provider said no).
 * - `config`: the tenant's setup is wrong (bad credentials, bad template): an admin must act; the console
 *   shows it.
 */
export type FailureClass = 'temporary' | 'permanent' | 'config';

export type ChannelOutcome =
  | {
      status: 'sent';
      /** The provider's id for the message, when it gave one (for support and delivery reports). */
      providerMessageId?: string;
    }
  | {
      status: 'failed';
      failure: FailureClass;
      /** A stable snake_case reason, safe to store and show (no secrets, no numbers). */
      reason: string;
      /** A short human explanation, also safe to show. */
      detail?: string;
    };

export interface Channel {
  readonly kind: ChannelKind;
  deliver(request: DeliveryRequest, signal?: AbortSignal): Promise<ChannelOutcome>;
}

export const failed = (failure: FailureClass, reason: string, detail?: string): ChannelOutcome =>
  detail === undefined
    ? { status: 'failed', failure, reason }
    : { status: 'failed', failure, reason, detail };

/** A channel that only reports why it cannot be used (a provider set up wrong, a transport missing). */
export class UnusableChannel implements Channel {
  constructor(
    readonly kind: ChannelKind,
    private readonly outcome: ChannelOutcome,
  ) {}

  async deliver(): Promise<ChannelOutcome> {
    return this.outcome;
  }
}

/**
 * Calls a channel and turns anything it throws into a temporary failure. Channels already return
 * outcomes; this is the last line for bugs, so one broken channel cannot take the chain down with it.
 */
export async function deliverSafely(
  channel: Channel,
  request: DeliveryRequest,
  signal?: AbortSignal,
): Promise<ChannelOutcome> {
  try {
    return await channel.deliver(request, signal);
  } catch (error) {
    return failed('temporary', 'channel_error', error instanceof Error ? error.name : 'unknown error');
  }
}
