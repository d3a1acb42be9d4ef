/** The tenant's service-status log (see contracts/service-events.ts). */
import type { ServiceEventRow } from '../../contracts/service-events.ts';

export interface ServiceEventStore {
  /**
   * Keeps one event. `id` names the fact it records (a connection's event, a modem report), so writing the
   * same fact again, as a redelivered message does, leaves one entry.
   */
  record(tenantId: string, event: ServiceEventRow, id: string): Promise<void>;
  /** Events at or after `since`, newest first; of one agent when `agentId` is given. */
  list(
    tenantId: string,
    options: { since: string; limit: number; agentId?: string; cursor?: string },
  ): Promise<{ events: ServiceEventRow[]; cursor?: string }>;
}
