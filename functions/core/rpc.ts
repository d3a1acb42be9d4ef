/**
 * Asks one edge agent something and waits for its answer (contracts/rpc.ts). A request is stored as a pending
 * item (tenant-scoped key, expiring with the request) naming the agent asked, then published on that agent's
 * `rpc/req` topic. The agent's reply comes back through the events queue (events.ts) and is taken by one
 * conditional write: only from the topic of the agent asked (the broker's ACL vouches for the topic), only
 * once, and only before the expiry; a late or second reply changes nothing.
 *
 * A Lambda serving an HTTP request has no channel a reply could wake it through, so the caller polls the item:
 * a strongly consistent read of a sub-kilobyte item (one read unit) every POLL_MS at first, backing off to
 * POLL_MAX_MS, until the reply or the deadline.
 */
import { createPublicKey } from 'node:crypto';
import {
  parseRpcResult,
  type RpcError,
  type RpcMethod,
  type RpcParams,
  type RpcReply,
  type RpcResult,
  rpcRequest,
  rpcSealContext,
} from '../contracts/rpc.ts';
import { type Sealed, seal } from '../contracts/sealed.ts';
import type { Clock } from './clock.ts';
import { newId } from './ids.ts';
import type { Logger } from './ports/log.ts';
import type { RpcAgent, RpcAgentDirectory, RpcPublisher, RpcStore } from './ports/rpc.ts';

/** The first wait between two reads of the pending item; an agent on a LAN answers a bind in tens of ms. */
export const POLL_MS = 25;
export const POLL_MAX_MS = 200;
/** A reply larger than this is not stored (the contract's results are a few bytes). */
export const MAX_REPLY_BYTES = 2048;

export type RpcOutcome<M extends RpcMethod> =
  | { kind: 'ok'; result: RpcResult<M>; polls: number }
  | { kind: 'error'; error: RpcError; polls: number }
  /** No reply before the deadline (the agent is slow, gone, or the request was lost). */
  | { kind: 'timeout'; polls: number };

/** Seals one secret field of a request for the agent asked, bound to the request's id and method. */
export type Sealer = (field: string, secret: string) => Sealed;

export interface RpcServiceDeps {
  store: RpcStore;
  publisher: RpcPublisher;
  agents: RpcAgentDirectory;
  clock: Clock;
  log: Logger;
  /** Waits between polls; tests may shorten it. */
  sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Whether a stored key can take sealed secrets (sealed.ts needs P-256). */
export function sealable(agent: Pick<RpcAgent, 'publicKeyPem'>): boolean {
  if (!agent.publicKeyPem) return false;
  try {
    const key = createPublicKey(agent.publicKeyPem);
    return key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1';
  } catch {
    return false;
  }
}

export type AgentPick =
  | { agent: RpcAgent }
  /** `none`: no online agent serves the domain; `no_key`: some do, but none has a key to seal for. */
  | { agent: undefined; reason: 'none' | 'no_key' };

export class RpcService {
  constructor(private readonly deps: RpcServiceDeps) {}

  /**
   * An online agent that serves `domain` (any AD agent when the domain is not known), at random among several.
   * `sealing`: the request carries a secret, so the agent must have enrolled a P-256 key.
   */
  async pickAgent(tenantId: string, domain: string | undefined, sealing: boolean): Promise<AgentPick> {
    const wanted = domain?.toLowerCase();
    const serving = (await this.deps.agents.list(tenantId)).filter(
      (a) =>
        a.state === 'online' &&
        a.adDomains.length > 0 &&
        (wanted === undefined || a.adDomains.some((d) => d.toLowerCase() === wanted)),
    );
    const usable = sealing ? serving.filter(sealable) : serving;
    if (usable.length === 0) return { agent: undefined, reason: serving.length > 0 ? 'no_key' : 'none' };
    return { agent: usable[Math.floor(Math.random() * usable.length)]! };
  }

  /**
   * Sends `method` to `agent` and waits up to `timeoutMs` for its reply. `params` gets a sealer bound to this
   * request, so secrets are sealed for this agent's key and this request alone.
   */
  async call<M extends RpcMethod>(
    tenantId: string,
    agent: RpcAgent,
    method: M,
    params: (seal: Sealer) => RpcParams<M>,
    timeoutMs: number,
  ): Promise<RpcOutcome<M>> {
    const { store, publisher, clock, log } = this.deps;
    const sleep = this.deps.sleep ?? defaultSleep;
    const id = newId();
    const now = clock.now();
    const expiresAt = new Date(now + timeoutMs);
    const sealer: Sealer = (field, secret) => {
      if (!agent.publicKeyPem) throw new Error(`agent ${agent.agentId} has no enrolled key to seal for`);
      return seal(agent.publicKeyPem, secret, rpcSealContext(id, method, field));
    };
    const request = rpcRequest(method, id, expiresAt, params(sealer));
    await store.create({
      tenantId,
      id,
      agentId: agent.agentId,
      method,
      createdAt: new Date(now).toISOString(),
      expiresAt: expiresAt.toISOString(),
    });
    await publisher.publishRequest(tenantId, agent.agentId, request);

    let polls = 0;
    let wait = POLL_MS;
    for (;;) {
      const left = expiresAt.getTime() - clock.now();
      if (left <= 0) break;
      await sleep(Math.min(wait, left));
      wait = Math.min(POLL_MAX_MS, Math.round(wait * 1.5));
      polls++;
      const pending = await store.get(tenantId, id);
      const reply = pending?.reply;
      if (!reply) continue;
      log.debug('rpc answered', { tenantId, agentId: agent.agentId, method, rpcId: id, polls, ok: reply.ok });
      if (!reply.ok) return { kind: 'error', error: reply.error, polls };
      const result = parseRpcResult(method, reply.result);
      if (result === undefined) {
        log.warn('rpc reply with a result that does not fit its method', { tenantId, method, rpcId: id });
        return {
          kind: 'error',
          error: { code: 'internal', message: 'the agent answered with a malformed result' },
          polls,
        };
      }
      return { kind: 'ok', result, polls };
    }
    log.warn('rpc timed out', { tenantId, agentId: agent.agentId, method, rpcId: id, polls });
    return { kind: 'timeout', polls };
  }

  /**
   * A reply heard on `t/{tenantId}/a/{agentId}/rpc/res`: taken if that agent was asked, it is the first, and
   * the request has not expired by the time it is written: a reply the waiter can no longer see is not taken,
   * so what the caller was told (a timeout) stays the truth of the record.
   */
  async answer(tenantId: string, agentId: string, reply: RpcReply): Promise<boolean> {
    const bounded =
      Buffer.byteLength(JSON.stringify(reply)) <= MAX_REPLY_BYTES
        ? reply
        : ({
            v: reply.v,
            id: reply.id,
            ok: false,
            error: { code: 'internal', message: 'the agent answered with a reply too large to keep' },
          } satisfies RpcReply);
    return this.deps.store.answer(
      tenantId,
      reply.id,
      agentId,
      bounded,
      new Date(this.deps.clock.now()).toISOString(),
    );
  }

  /** Records the AD domains an agent announced in `agent.online`. */
  noteDomains(tenantId: string, agentId: string, domains: string[], heardAt: string): Promise<boolean> {
    return this.deps.agents.noteDomains(tenantId, agentId, domains, heardAt);
  }
}
