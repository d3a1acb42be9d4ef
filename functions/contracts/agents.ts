/**
 * Edge agents on the admin API (`/v1/agents`, admin key) and their enrolment (`POST /v1/enrolments`, the
 * one-time token instead of a key). The edge agent's `enroll` command reads the enrolment reply with the same
 * schema the cloud writes it with.
 */
import * as z from 'zod';
import type { RouteDoc } from './openapi.ts';
import { ID_PATTERN, STAGE_PATTERN } from './topics.ts';

const agentId = z.string().regex(ID_PATTERN, 'must be 1 to 64 letters, digits, "_" or "-"');
const modemGroup = z.string().min(1).max(64);
const displayName = z.string().trim().min(1).max(128);

export const AgentCreateRequest = z
  .object({
    agentId,
    displayName: displayName.optional(),
    modemGroups: z.array(modemGroup).min(1).max(32),
  })
  .strict();
export type AgentCreateRequest = z.output<typeof AgentCreateRequest>;

/** The agent id and thing name never change; the name shown and the modem groups may. */
export const AgentPatchRequest = z
  .object({
    displayName: displayName.nullable().optional(),
    modemGroups: z.array(modemGroup).min(1).max(32).optional(),
  })
  .strict()
  .refine((p) => p.displayName !== undefined || p.modemGroups !== undefined, 'Nothing to change.');
export type AgentPatchRequest = z.output<typeof AgentPatchRequest>;

/**
 * A one-time enrolment token: `sp.enrol.<stage>.<tenant>.<agent>.<secret>`. The agent learns its own thing
 * name from it (the common name its certificate request must carry); only the secret's SHA-256 is stored.
 */
export const ENROLMENT_TOKEN =
  /^sp\.enrol\.([a-z][a-z0-9]{0,11})\.([A-Za-z0-9_-]{1,64})\.([A-Za-z0-9_-]{1,64})\.([A-Za-z0-9_-]{32})$/;

export function parseEnrolmentToken(
  token: string,
): { stage: string; tenantId: string; agentId: string; secret: string } | undefined {
  const m = ENROLMENT_TOKEN.exec(token);
  return m ? { stage: m[1]!, tenantId: m[2]!, agentId: m[3]!, secret: m[4]! } : undefined;
}

/** At most 16 KiB: a P-384 or RSA-4096 request is well under 4 KiB. */
export const EnrolRequest = z
  .object({
    token: z.string().min(1).max(256),
    csr: z.string().min(1).max(16_384),
  })
  .strict();
export type EnrolRequest = z.output<typeof EnrolRequest>;

/** Everything the agent needs to run: who it is, where to connect, and the certificate it connects with. */
export const EnrolReply = z.object({
  tenantId: z.string(),
  agentId: z.string(),
  /** The IoT thing name, and so the MQTT client id: `{stage}:{tenantId}:{agentId}`. */
  thingName: z.string(),
  /** The deployment's stage; every topic of the agent starts with `topicPrefix`. */
  stage: z.string().regex(STAGE_PATTERN).describe('The stage of the deployment the agent enrolled with'),
  /** `s/{stage}/t/{tenantId}/a/{agentId}/`: the contract's `t/{tenant}/a/{agent}/…` under the stage prefix. */
  topicPrefix: z
    .string()
    .describe(
      'The stage prefix: every topic of the agent is the contract topic t/{tenant}/a/{agent}/… under s/{stage}/, ' +
        'i.e. this prefix followed by jobs, events, status, rpc/req or rpc/res',
    ),
  modemGroups: z.array(z.string()),
  mqtt: z.object({
    url: z.string(),
    /** The client certificate, PEM; its key never left the agent. */
    certificatePem: z.string(),
    /** The CA of the broker's server certificate when Node's built-in list lacks it (the local stack's). */
    caPem: z.string().optional(),
  }),
});
export type EnrolReply = z.output<typeof EnrolReply>;

export const ROUTES: RouteDoc[] = [
  {
    method: 'post',
    path: '/v1/enrolments',
    summary:
      "Trade a one-time enrolment token and the box's certificate request for its certificate, broker endpoint, " +
      'thing name and stage prefix (topics s/{stage}/t/{tenant}/a/{agent}/…)',
    tag: 'agents',
    auth: 'none',
    body: EnrolRequest,
    replies: { 201: { description: 'What the agent needs to connect', schema: EnrolReply } },
    errors: [400, 401, 404, 410],
  },
  {
    method: 'post',
    path: '/v1/agents/{id}/enrolment',
    summary:
      "Re-enrol a registered agent (its box was replaced): a new one-time enrolment token; the agent's current " +
      'certificate is revoked at once',
    tag: 'agents',
    auth: 'admin',
    replies: {
      201: {
        description: 'The token, shown this once',
        schema: z.object({
          agentId: z.string(),
          enrolment: z.object({ token: z.string(), expiresAt: z.string() }),
        }),
      },
    },
    errors: [401, 403, 404],
  },
];
