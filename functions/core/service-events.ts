/**
 * The tenant's service-status log: agents connected and disconnected (from IoT Core's lifecycle events) and
 * modems up, blocked and recovered (from changes in `modem.status`, not every report), each with its reason.
 */
import {
  SERVICE_EVENT_RETENTION_DAYS,
  type ServiceEventRow,
  type ServiceEventsQuery,
} from '../contracts/service-events.ts';
import type { Clock } from './clock.ts';
import type { ServiceEventStore } from './ports/service-events.ts';

/** A store's `list` throws it for a cursor it did not hand out; the API answers it as a bad request. */
export class InvalidServiceEventCursorError extends Error {
  constructor() {
    super('The cursor is not one this log handed out.');
    this.name = 'InvalidServiceEventCursorError';
  }
}

export class ServiceEventService {
  constructor(private readonly deps: { store: ServiceEventStore; clock: Clock }) {}

  list(tenantId: string, query: ServiceEventsQuery): Promise<{ events: ServiceEventRow[]; cursor?: string }> {
    // real DynamoDB deletes expired items late (dynalite never), so the age is checked on read as well
    const since = new Date(
      this.deps.clock.now() - SERVICE_EVENT_RETENTION_DAYS * 24 * 3600 * 1000,
    ).toISOString();
    return this.deps.store.list(tenantId, {
      since,
      limit: query.limit ?? 50,
      ...(query.agentId && { agentId: query.agentId }),
      ...(query.cursor && { cursor: query.cursor }),
    });
  }
}

/** A modem's health as the cloud last stored it, and the report that replaces it. */
export function modemTransition(
  previous: { healthy: boolean } | undefined,
  report: { healthy: boolean },
): 'modem.up' | 'modem.blocked' | 'modem.recovered' | undefined {
  if (!previous) return report.healthy ? 'modem.up' : 'modem.blocked';
  if (previous.healthy === report.healthy) return undefined;
  return report.healthy ? 'modem.recovered' : 'modem.blocked';
}
