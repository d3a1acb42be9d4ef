/** The tenant's message log (admin key): what was sent to whom, how, and what became of it. */
import * as z from 'zod';
import { CHANNEL_KINDS } from './channels.ts';
import type { RouteDoc } from './openapi.ts';

export const MessageLogQuery = z
  .object({
    /** Usernames starting with this (case as stored). */
    username: z.string().min(1).max(256).optional(),
    status: z.enum(['queued', 'dispatched', 'sending', 'sent', 'delivered', 'failed']).optional(),
    channel: z.enum(CHANNEL_KINDS).optional(),
    /** A route: a modem group or provider name. */
    route: z.string().min(1).max(64).optional(),
    limit: z.coerce.number().int().min(1).max(200).optional(),
    cursor: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,1024}$/)
      .optional(),
  })
  .strict();
export type MessageLogQuery = z.infer<typeof MessageLogQuery>;

export const MessageLogRow = z.object({
  at: z.string(),
  challengeId: z.string(),
  username: z.string(),
  step: z.number().int(),
  channel: z.string(),
  route: z.string(),
  /** Masked: `+45 •• •• •• 56`, `a••••@example.com`. */
  destination: z.string(),
  status: z.string(),
  reason: z.string().optional(),
});
export type MessageLogRow = z.infer<typeof MessageLogRow>;

export const MessageLogPage = z.object({ messages: z.array(MessageLogRow), cursor: z.string().optional() });

export const MessageLogRetention = z.object({ days: z.int().min(1).max(400) }).strict();

export const ROUTES: RouteDoc[] = [
  {
    method: 'get',
    path: '/v1/message-log',
    summary: "The tenant's messages, newest first: time, channel, route, masked destination, status, step",
    tag: 'message-log',
    auth: 'admin',
    query: MessageLogQuery,
    replies: { 200: { description: 'A page of messages', schema: MessageLogPage } },
    errors: [400, 401],
  },
  {
    method: 'put',
    path: '/v1/message-log/retention',
    summary: 'How many days the message log keeps messages (applies to messages from now on, and to listing)',
    tag: 'message-log',
    auth: 'admin',
    body: MessageLogRetention,
    replies: { 200: { description: 'The retention', schema: MessageLogRetention } },
    errors: [400, 401],
  },
];
