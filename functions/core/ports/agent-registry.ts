/**
 * Registering edge agents: their records and one-time enrolment tokens (the table), and their identities at the
 * broker (IoT Core things and certificates in AWS, the local CA and aedes on the local stack).
 */
import type { Agent } from '../model.ts';

export interface AgentRecord extends Agent {
  createdAt: string;
  updatedAt: string;
}

export interface EnrolmentTokenRecord {
  tenantId: string;
  agentId: string;
  expiresAt: string;
  usedAt?: string | undefined;
}

export type TokenTake = 'taken' | 'used' | 'expired' | 'missing';

export interface AgentStore {
  /** False when the tenant already has an agent with this id. */
  create(agent: AgentRecord): Promise<boolean>;
  get(tenantId: string, agentId: string): Promise<AgentRecord | undefined>;
  list(tenantId: string): Promise<AgentRecord[]>;
  /** The changed record, or undefined when there is no such agent. */
  update(
    tenantId: string,
    agentId: string,
    change: { displayName?: string | null; modemGroups?: string[] },
    at: string,
  ): Promise<AgentRecord | undefined>;
  /**
   * Records the certificate an enrolment issued, with the one it replaced (to be revoked); false when the agent
   * was deleted meanwhile.
   */
  setCertificate(
    tenantId: string,
    agentId: string,
    certificate: {
      thingName: string;
      certificateRef: string;
      certificateFingerprint: string;
      /** The enrolled key (SPKI PEM), which RPC secrets are sealed for. */
      publicKeyPem?: string;
    },
    at: string,
  ): Promise<false | { replaced?: string }>;
  /** Forgets the agent's certificate, only if it is still `certificateRef`; false otherwise. */
  clearCertificate(tenantId: string, agentId: string, certificateRef: string, at: string): Promise<boolean>;
  /** Removes the agent and hands back what it was, or undefined when there was none. */
  delete(tenantId: string, agentId: string): Promise<AgentRecord | undefined>;

  putToken(hash: string, token: EnrolmentTokenRecord): Promise<void>;
  getToken(hash: string): Promise<EnrolmentTokenRecord | undefined>;
  /** Marks the token used if it is live at `now`: exactly one caller ever gets `taken`. */
  takeToken(hash: string, now: string): Promise<TokenTake>;
  /** Gives a taken token back (the enrolment failed after taking it), so the agent may try again. */
  releaseToken(hash: string, usedAt: string): Promise<void>;
}

export interface IssuedCertificate {
  /** What revokes it later: the certificate ARN in AWS, `local:<serial>` on the local stack. */
  certificateRef: string;
  certificatePem: string;
}

/** The broker's side of an agent: thing, certificate, policy, and the live session. */
export interface AgentIdentities {
  /** Where agents connect, and the CA to trust when Node's built-in list lacks it. */
  endpoint(): Promise<{ mqttUrl: string; caPem?: string }>;
  /**
   * Creates the thing (`thingName`, with the `tenantId` and `agentId` attributes the policy scopes topics by),
   * a certificate signed from the checked request, and attaches the policy and the thing to it.
   */
  issue(input: {
    thingName: string;
    tenantId: string;
    agentId: string;
    csrPem: string;
  }): Promise<IssuedCertificate>;
  /** Deactivates the certificate, detaches it, deletes the thing and ends the agent's live session. */
  /**
   * Ends a certificate: inactive, detached, and the thing deleted unless `keepThing` (a replaced certificate of
   * an agent that stays).
   */
  revoke(input: { thingName: string; certificateRef: string; keepThing?: boolean }): Promise<void>;
}
