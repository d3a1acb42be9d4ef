/** The tenant's service-status log (admin key): agents connecting and dropping, modems going up and down. */
import * as z from 'zod';
import type { RouteDoc } from './openapi.ts';

export const SERVICE_EVENT_TYPES = [
  'agent.connected',
  'agent.disconnected',
  'modem.up',
  'modem.blocked',
  'modem.recovered',
] as const;
export type ServiceEventType = (typeof SERVICE_EVENT_TYPES)[number];

/** How long the log keeps an event (the item's TTL; listings stop showing it at the same age). */
export const SERVICE_EVENT_RETENTION_DAYS = 30;

export const ServiceEventsQuery = z
  .object({
    agentId: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/)
      .optional(),
    limit: z.coerce.number().int().min(1).max(200).optional(),
    cursor: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,512}$/)
      .optional(),
  })
  .strict();
export type ServiceEventsQuery = z.infer<typeof ServiceEventsQuery>;

export const ServiceEventRow = z.object({
  at: z.string(),
  type: z.enum(SERVICE_EVENT_TYPES),
  agentId: z.string(),
  modem: z.string().optional(),
  group: z.string().optional(),
  /** Why: IoT Core's disconnect reason (`CONNECTION_LOST`, `CLIENT_INITIATED_DISCONNECT`, …) or the modem's error. */
  reason: z.string().optional(),
});
export type ServiceEventRow = z.infer<typeof ServiceEventRow>;

export const ServiceEventsPage = z.object({
  events: z.array(ServiceEventRow),
  cursor: z.string().optional(),
});

export const ROUTES: RouteDoc[] = [
  {
    method: 'get',
    path: '/v1/service-events',
    summary:
      "The tenant's service-status log, newest first: agents connected and disconnected, modems up, blocked and recovered, with the reason",
    tag: 'service-events',
    auth: 'admin',
    query: ServiceEventsQuery,
    replies: { 200: { description: 'A page of events', schema: ServiceEventsPage } },
    errors: [400, 401],
  },
];
