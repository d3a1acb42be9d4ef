/**
 * The cloud's side of the agent RPC (contracts/rpc.ts): the pending-request items, the publisher that puts a
 * request on one agent's `rpc/req` topic, and what the cloud knows of the agents an RPC may go to.
 */
import type { RpcMethod, RpcReply, RpcRequest } from '../../contracts/rpc.ts';

export interface PendingRpc {
  tenantId: string;
  id: string;
  /** The one agent asked: only a reply on its own `rpc/res` topic is taken. */
  agentId: string;
  method: RpcMethod;
  createdAt: string;
  expiresAt: string;
  /** The reply taken, once; absent while pending. */
  reply?: RpcReply | undefined;
  answeredAt?: string | undefined;
}

export interface RpcStore {
  create(pending: PendingRpc): Promise<void>;
  get(tenantId: string, id: string): Promise<PendingRpc | undefined>;
  /**
   * Takes `reply` for the request in one conditional write: only while it is unanswered, only from `agentId`
   * (the agent it was sent to) and only before its expiry. False when any of those does not hold.
   */
  answer(tenantId: string, id: string, agentId: string, reply: RpcReply, nowIso: string): Promise<boolean>;
}

export interface RpcPublisher {
  publishRequest(tenantId: string, agentId: string, request: RpcRequest): Promise<void>;
}

/** An agent as the RPC sees it: whether it is up, which AD domains it serves, and the key to seal secrets for. */
export interface RpcAgent {
  agentId: string;
  state: 'online' | 'offline' | 'unknown';
  /** From the agent's latest `agent.online`; empty when it has no AD section. */
  adDomains: string[];
  /** The P-256 public key the agent enrolled with (SPKI PEM); absent for agents that log in with a password. */
  publicKeyPem?: string | undefined;
}

export interface RpcAgentDirectory {
  list(tenantId: string): Promise<RpcAgent[]>;
  /** Records the domains an agent announced, unless a later announcement was recorded already. */
  noteDomains(tenantId: string, agentId: string, domains: string[], heardAt: string): Promise<boolean>;
}
