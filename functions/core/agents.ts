/**
 * Edge agents of a tenant: an admin registers one and gets a one-time enrolment token; the box makes its key
 * pair, sends a certificate request with the token, and gets its certificate, broker endpoint and configuration.
 * Deleting an agent revokes its certificate and ends its session. The same code runs in AWS (IoT Core things)
 * and on the local stack (a local CA and aedes): only the AgentIdentities adapter differs.
 */
import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import {
  type AgentCreateRequest,
  type AgentPatchRequest,
  type EnrolReply,
  parseEnrolmentToken,
} from '../contracts/agents.ts';
import { agentTopicPrefix, parseThingName, thingName, thingNameFits } from '../contracts/topics.ts';
import { AlreadyExistsError } from './admin-errors.ts';
import type { Clock } from './clock.ts';
import { checkCsr } from './csr.ts';
import { DomainError, NotFoundError, UnauthorizedError } from './errors.ts';
import type { KeyActor } from './keys-service.ts';
import type { AgentIdentities, AgentRecord, AgentStore } from './ports/agent-registry.ts';
import type { AuditLog } from './ports/audit.ts';
import type { ModemReport } from './ports/directory.ts';
import type { TenantStore } from './ports/tenants.ts';

/** Long enough to copy a command to the box, short enough that a leaked token is soon worthless. */
export const ENROLMENT_TOKEN_TTL_SECONDS = 3600;

export class TokenExpiredError extends DomainError {
  constructor() {
    super('token_expired', 'The enrolment token has expired; register the agent again for a new one.');
  }
}

export class TokenUsedError extends DomainError {
  constructor() {
    super('token_used', 'The enrolment token was already used.');
  }
}

export class AgentIdTooLongError extends DomainError {
  constructor(name: string) {
    super(
      'invalid_request',
      `agentId: the thing name ${JSON.stringify(name)} would exceed AWS IoT's 128 characters; choose a shorter agentId.`,
    );
  }
}

const INVALID_TOKEN = 'A valid enrolment token is required.';

const tokenHash = (secret: string) => createHash('sha256').update(secret).digest('hex');

/** What an admin sees of an agent: never the certificate reference or a secret hash. */
export function agentView(agent: AgentRecord, stage: string) {
  return {
    agentId: agent.agentId,
    displayName: agent.displayName ?? null,
    thingName: agent.thingName ?? thingName({ stage, ...agent }),
    modemGroups: agent.modemGroups,
    enrolled: agent.certificateFingerprint !== undefined,
    enrolledAt: agent.enrolledAt ?? null,
    state: agent.state,
    stateAt: agent.stateAt ?? null,
    createdAt: agent.createdAt,
    updatedAt: agent.updatedAt,
  };
}

export class AgentService {
  constructor(
    private readonly deps: {
      /** The stage this deployment is: its agents' thing names and topics carry it. */
      stage: string;
      store: AgentStore;
      identities: AgentIdentities;
      tenants: Pick<TenantStore, 'get'>;
      audit: AuditLog;
      clock: Clock;
      modemHistory(tenantId: string, agentId: string, modem: string, limit: number): Promise<ModemReport[]>;
    },
  ) {}

  private now(): string {
    return new Date(this.deps.clock.now()).toISOString();
  }

  private view(agent: AgentRecord) {
    return agentView(agent, this.deps.stage);
  }

  private staged(address: { tenantId: string; agentId: string }) {
    return { stage: this.deps.stage, tenantId: address.tenantId, agentId: address.agentId };
  }

  async register(actor: KeyActor, request: AgentCreateRequest) {
    if (!thingNameFits(this.staged({ tenantId: actor.tenantId, agentId: request.agentId })))
      throw new AgentIdTooLongError(
        thingName(this.staged({ tenantId: actor.tenantId, agentId: request.agentId })),
      );
    const at = this.now();
    const record: AgentRecord = {
      tenantId: actor.tenantId,
      agentId: request.agentId,
      secretHash: '',
      modemGroups: [...new Set(request.modemGroups)],
      state: 'unknown',
      ...(request.displayName !== undefined && { displayName: request.displayName }),
      createdAt: at,
      updatedAt: at,
    };
    if (!(await this.deps.store.create(record))) throw new AlreadyExistsError(`Agent "${request.agentId}"`);
    const enrolment = await this.newToken(actor.tenantId, request.agentId);
    await this.deps.audit.record({
      tenantId: actor.tenantId,
      at,
      actor: `key:${actor.keyPrefix}`,
      action: 'agent.registered',
      target: `agent:${request.agentId}`,
      after: { ...this.view(record), enrolmentExpiresAt: enrolment.expiresAt },
    });
    return { ...this.view(record), enrolment };
  }

  private async newToken(tenantId: string, agentId: string) {
    const secret = randomBytes(24).toString('base64url');
    const expiresAt = new Date(this.deps.clock.now() + ENROLMENT_TOKEN_TTL_SECONDS * 1000).toISOString();
    await this.deps.store.putToken(tokenHash(secret), { tenantId, agentId, expiresAt });
    return { token: `sp.enrol.${this.deps.stage}.${tenantId}.${agentId}.${secret}`, expiresAt };
  }

  async list(actor: KeyActor) {
    const agents = await this.deps.store.list(actor.tenantId);
    return agents.filter((a) => a.tenantId === actor.tenantId).map((a) => this.view(a));
  }

  private async own(actor: KeyActor, agentId: string): Promise<AgentRecord> {
    const agent = await this.deps.store.get(actor.tenantId, agentId);
    if (!agent || agent.tenantId !== actor.tenantId) throw new NotFoundError(`Agent "${agentId}"`);
    return agent;
  }

  /** The agent with each modem's latest report and its recent history (newest first). */
  async show(actor: KeyActor, agentId: string, historyLimit = 20) {
    const agent = await this.own(actor, agentId);
    const modems = await Promise.all(
      Object.entries(agent.modems ?? {}).map(async ([modem, latest]) => ({
        modem,
        ...latest,
        history: await this.deps.modemHistory(actor.tenantId, agentId, modem, historyLimit),
      })),
    );
    modems.sort((a, b) => a.modem.localeCompare(b.modem));
    return { ...this.view(agent), modems };
  }

  async update(actor: KeyActor, agentId: string, patch: AgentPatchRequest) {
    const before = await this.own(actor, agentId);
    const at = this.now();
    const after = await this.deps.store.update(
      actor.tenantId,
      agentId,
      {
        ...(patch.displayName !== undefined && { displayName: patch.displayName }),
        ...(patch.modemGroups !== undefined && { modemGroups: [...new Set(patch.modemGroups)] }),
      },
      at,
    );
    if (!after) throw new NotFoundError(`Agent "${agentId}"`);
    await this.deps.audit.record({
      tenantId: actor.tenantId,
      at,
      actor: `key:${actor.keyPrefix}`,
      action: 'agent.updated',
      target: `agent:${agentId}`,
      before: { displayName: before.displayName ?? null, modemGroups: before.modemGroups },
      after: { displayName: after.displayName ?? null, modemGroups: after.modemGroups },
    });
    return this.view(after);
  }

  /**
   * A new one-time enrolment token for a registered agent whose box was replaced (or whose token ran out). The
   * certificate it has is revoked at once: the old box may be lost or stolen, and the new one gets its own at
   * enrolment. The thing, the agent's record and its modem history stay.
   */
  async reissue(actor: KeyActor, agentId: string) {
    const agent = await this.own(actor, agentId);
    const by = `key:${actor.keyPrefix}`;
    const name = agent.thingName ?? thingName(this.staged(agent));
    if (
      agent.certificateRef &&
      (await this.deps.store.clearCertificate(actor.tenantId, agentId, agent.certificateRef, this.now()))
    )
      await this.revoke(actor.tenantId, name, agent.certificateRef, by, true);
    const enrolment = await this.newToken(actor.tenantId, agentId);
    await this.deps.audit.record({
      tenantId: actor.tenantId,
      at: this.now(),
      actor: by,
      action: 'agent.enrolment_issued',
      target: `agent:${agentId}`,
      details: {
        enrolmentExpiresAt: enrolment.expiresAt,
        certificateRevoked: agent.certificateRef !== undefined,
      },
    });
    return { agentId, enrolment };
  }

  /** Removes the agent first (the broker refuses it from then on), then revokes its certificate and session. */
  async remove(actor: KeyActor, agentId: string) {
    await this.own(actor, agentId);
    const removed = await this.deps.store.delete(actor.tenantId, agentId);
    if (!removed) throw new NotFoundError(`Agent "${agentId}"`);
    const at = this.now();
    const name = removed.thingName ?? thingName(this.staged(removed));
    await this.deps.audit.record({
      tenantId: actor.tenantId,
      at,
      actor: `key:${actor.keyPrefix}`,
      action: 'agent.deleted',
      target: `agent:${agentId}`,
      before: this.view(removed),
    });
    if (removed.certificateRef)
      await this.revoke(actor.tenantId, name, removed.certificateRef, `key:${actor.keyPrefix}`);
    return { agentId, deletedAt: at };
  }

  private async revoke(
    tenantId: string,
    name: string,
    certificateRef: string,
    actor: string,
    keepThing = false,
  ) {
    await this.deps.identities.revoke({ thingName: name, certificateRef, ...(keepThing && { keepThing }) });
    await this.deps.audit.record({
      tenantId,
      at: this.now(),
      actor,
      action: 'agent.certificate_revoked',
      target: `agent:${parseThingName(name)?.agentId ?? name}`,
      details: { thingName: name },
    });
  }

  /**
   * Trades a live token and a certificate request for the agent's certificate and configuration. The request
   * is checked before the token is taken, so a typo costs no token; a failure after taking it gives it back.
   */
  async enrol(token: string, csrPem: string): Promise<EnrolReply> {
    const parsed = parseEnrolmentToken(token);
    if (!parsed) throw new UnauthorizedError(INVALID_TOKEN);
    const hash = tokenHash(parsed.secret);
    const stored = await this.deps.store.getToken(hash);
    if (
      !stored ||
      parsed.stage !== this.deps.stage ||
      stored.tenantId !== parsed.tenantId ||
      stored.agentId !== parsed.agentId
    )
      throw new UnauthorizedError(INVALID_TOKEN);
    const address = { tenantId: stored.tenantId, agentId: stored.agentId };
    const name = thingName(this.staged(address));
    const at = this.now();
    if (stored.usedAt) throw new TokenUsedError();
    if (stored.expiresAt <= at) throw new TokenExpiredError();
    const tenant = await this.deps.tenants.get(address.tenantId);
    if (tenant?.status !== 'active') throw new UnauthorizedError(INVALID_TOKEN);
    // The key the agent made on its box: RPC secrets are sealed for it (contracts/sealed.ts).
    const publicKeyPem = checkCsr(csrPem, name).publicKey.export({ type: 'spki', format: 'pem' }).toString();

    const taken = await this.deps.store.takeToken(hash, at);
    if (taken === 'used') throw new TokenUsedError();
    if (taken === 'expired') throw new TokenExpiredError();
    if (taken === 'missing') throw new UnauthorizedError(INVALID_TOKEN);
    let agent: AgentRecord | undefined;
    let issued: Awaited<ReturnType<AgentIdentities['issue']>>;
    let endpoint: Awaited<ReturnType<AgentIdentities['endpoint']>>;
    try {
      agent = await this.deps.store.get(address.tenantId, address.agentId);
      if (!agent) throw new NotFoundError(`Agent "${address.agentId}"`);
      endpoint = await this.deps.identities.endpoint();
      issued = await this.deps.identities.issue({ thingName: name, ...address, csrPem });
    } catch (error) {
      if (!(error instanceof NotFoundError)) await this.deps.store.releaseToken(hash, at);
      throw error;
    }
    const fingerprint = new X509Certificate(issued.certificatePem).fingerprint256;
    const recorded = await this.deps.store.setCertificate(
      address.tenantId,
      address.agentId,
      {
        thingName: name,
        certificateRef: issued.certificateRef,
        certificateFingerprint: fingerprint,
        publicKeyPem,
      },
      this.now(),
    );
    if (!recorded) {
      // deleted while it enrolled: the certificate must not outlive the agent
      await this.revoke(address.tenantId, name, issued.certificateRef, `agent:${address.agentId}`);
      throw new NotFoundError(`Agent "${address.agentId}"`);
    }
    // a re-enrolment (a new box): the certificate of the old one ends here, if the re-issue had not ended it
    if (recorded.replaced)
      await this.revoke(address.tenantId, name, recorded.replaced, `agent:${address.agentId}`, true);
    await this.deps.audit.record({
      tenantId: address.tenantId,
      at: this.now(),
      actor: `agent:${address.agentId}`,
      action: 'agent.enrolled',
      target: `agent:${address.agentId}`,
      details: { thingName: name, certificateFingerprint: fingerprint },
    });
    return {
      ...address,
      thingName: name,
      stage: this.deps.stage,
      topicPrefix: agentTopicPrefix(this.staged(address)),
      modemGroups: agent.modemGroups,
      mqtt: {
        url: endpoint.mqttUrl,
        certificatePem: issued.certificatePem,
        ...(endpoint.caPem && { caPem: endpoint.caPem }),
      },
    };
  }
}
