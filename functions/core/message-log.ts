/**
 * The tenant's message log: each message (one step of a challenge's rule chain) with its time, channel,
 * route, masked destination, status and step. The rows are read from the challenges themselves, so sending
 * costs no log write; a challenge is listed for as long as the tenant's retention says.
 */
import type { MessageLogQuery, MessageLogRow } from '../contracts/message-log.ts';
import { channelUnit } from './channels/registry.ts';
import type { Clock } from './clock.ts';
import type { Challenge } from './model.ts';
import type { MessageLogStore } from './ports/message-log.ts';

export const DEFAULT_RETENTION_DAYS = 30;

/** A store's `list` throws it for a cursor it did not hand out; the API answers it as a bad request. */
export class InvalidMessageLogCursorError extends Error {
  constructor() {
    super('The cursor is not one this log handed out.');
    this.name = 'InvalidMessageLogCursorError';
  }
}

export class MessageLogService {
  constructor(private readonly deps: { store: MessageLogStore; clock: Clock }) {}

  async list(
    tenantId: string,
    query: MessageLogQuery,
  ): Promise<{ messages: MessageLogRow[]; cursor?: string }> {
    const days = (await this.deps.store.getRetention(tenantId)) ?? DEFAULT_RETENTION_DAYS;
    const since = new Date(this.deps.clock.now() - days * 24 * 3600 * 1000).toISOString();
    const page = await this.deps.store.list(tenantId, {
      since,
      limit: query.limit ?? 50,
      ...(query.cursor && { cursor: query.cursor }),
      ...(query.username && { usernamePrefix: query.username }),
    });
    const messages = page.challenges
      .flatMap((c) => rowsOf(c))
      .filter(
        (r) =>
          (!query.status || r.status === query.status) &&
          (!query.channel || r.channel === query.channel) &&
          (!query.route || r.route === query.route),
      );
    return { messages, ...(page.cursor && { cursor: page.cursor }) };
  }

  async setRetention(tenantId: string, days: number): Promise<{ days: number }> {
    await this.deps.store.setRetention(tenantId, days);
    return { days };
  }
}

/** A challenge's messages, newest step first. */
export function rowsOf(challenge: Challenge): MessageLogRow[] {
  return challenge.deliveries
    .map((d) => {
      const channel = challenge.chain?.[d.step]?.channel ?? 'sms_modem';
      const app = channelUnit(channel).reaches === 'app';
      return {
        at: d.at,
        challengeId: challenge.id,
        username: challenge.username,
        step: d.step,
        channel,
        route: d.route,
        destination: d.to ?? (app ? 'authenticator app' : challenge.destination),
        status: d.status,
        ...(d.reason && { reason: d.reason }),
      };
    })
    .reverse();
}
