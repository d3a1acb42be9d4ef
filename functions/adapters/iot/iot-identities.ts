/**
 * Agents' identities in AWS IoT Core: one thing per agent (`{tenantId}:{agentId}`, attributes `tenantId` and
 * `agentId` that the stack's policy scopes topics by), a certificate IoT Core signs from the agent's request, the
 * policy attached to the certificate and the certificate to the thing. Revoking deactivates the certificate
 * first (IoT Core then refuses the agent's connects and ends its session), then undoes the rest.
 */
import {
  AttachPolicyCommand,
  AttachThingPrincipalCommand,
  CreateCertificateFromCsrCommand,
  CreateThingCommand,
  DeleteThingCommand,
  DetachPolicyCommand,
  DetachThingPrincipalCommand,
  type IoTClient,
  UpdateCertificateCommand,
} from '@aws-sdk/client-iot';
import type { AgentIdentities, IssuedCertificate } from '../../core/ports/agent-registry.ts';
import type { AgentSessions } from '../../core/ports/agents.ts';
import type { DirectoryStore } from '../../core/ports/directory.ts';

/** `arn:aws:iot:<region>:<account>:cert/<id>` → `<id>` (UpdateCertificate takes the id, the rest the ARN). */
export const certificateIdOf = (arn: string) => arn.slice(arn.lastIndexOf('/') + 1);

export class IotAgentIdentities implements AgentIdentities {
  constructor(
    private readonly iot: IoTClient,
    private readonly settings: { policyName: string; dataEndpoint: string; detachWaitsMs?: number[] },
  ) {}

  async endpoint() {
    // Node's built-in CA list holds Amazon Root CA 1, which signs IoT Core's ATS endpoint.
    return { mqttUrl: `mqtts://${this.settings.dataEndpoint}:8883` };
  }

  async issue(input: {
    thingName: string;
    tenantId: string;
    agentId: string;
    csrPem: string;
  }): Promise<IssuedCertificate> {
    const { thingName } = input;
    // Idempotent for the same attributes, so an enrolment retried after a failure finds the thing in place.
    await this.iot.send(
      new CreateThingCommand({
        thingName,
        attributePayload: { attributes: { tenantId: input.tenantId, agentId: input.agentId } },
      }),
    );
    const created = await this.iot.send(
      new CreateCertificateFromCsrCommand({ certificateSigningRequest: input.csrPem, setAsActive: true }),
    );
    const arn = created.certificateArn;
    if (!arn || !created.certificatePem) throw new Error('IoT Core returned no certificate');
    try {
      await this.iot.send(new AttachPolicyCommand({ policyName: this.settings.policyName, target: arn }));
      await this.iot.send(new AttachThingPrincipalCommand({ thingName, principal: arn }));
    } catch (error) {
      await this.iot
        .send(new UpdateCertificateCommand({ certificateId: certificateIdOf(arn), newStatus: 'INACTIVE' }))
        .catch(() => undefined);
      throw error;
    }
    return { certificateRef: arn, certificatePem: created.certificatePem };
  }

  async revoke(input: { thingName: string; certificateRef: string; keepThing?: boolean }): Promise<void> {
    const arn = input.certificateRef;
    await this.iot.send(
      new UpdateCertificateCommand({ certificateId: certificateIdOf(arn), newStatus: 'INACTIVE' }),
    );
    await this.iot.send(new DetachPolicyCommand({ policyName: this.settings.policyName, target: arn }));
    await this.iot.send(new DetachThingPrincipalCommand({ thingName: input.thingName, principal: arn }));
    if (!input.keepThing) await this.deleteThing(input.thingName);
  }

  /**
   * DetachThingPrincipal takes effect "within several seconds", and DeleteThing refuses a thing that still shows
   * a principal (InvalidRequestException), so the delete is retried while the detach propagates. A thing still
   * refused after that is left behind: its certificate is inactive and detached, so it can connect nothing, and
   * registering the same agent again finds it in place (CreateThing is idempotent for the same attributes).
   */
  private async deleteThing(thingName: string): Promise<void> {
    for (const wait of [...(this.settings.detachWaitsMs ?? DETACH_WAITS_MS), undefined]) {
      try {
        await this.iot.send(new DeleteThingCommand({ thingName }));
        return;
      } catch (error) {
        if ((error as { name?: string }).name !== 'InvalidRequestException') throw error;
        if (wait === undefined) return;
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
    }
  }
}

/** The waits between DeleteThing attempts after a detach: 7 s in all, well inside the admin function's timeout. */
const DETACH_WAITS_MS = [1000, 2000, 4000];

/**
 * Suspending a tenant deactivates every enrolled agent's certificate, which ends their sessions and refuses
 * their reconnects; resuming activates them again. The things and attachments stay.
 */
export class IotAgentSessions implements AgentSessions {
  constructor(
    private readonly iot: IoTClient,
    private readonly directory: Pick<DirectoryStore, 'listAgents'>,
  ) {}

  private async setStatus(tenantId: string, newStatus: 'ACTIVE' | 'INACTIVE') {
    const agents = await this.directory.listAgents(tenantId);
    for (const agent of agents)
      if (agent.certificateRef)
        await this.iot.send(
          new UpdateCertificateCommand({ certificateId: certificateIdOf(agent.certificateRef), newStatus }),
        );
  }

  disconnectTenant(tenantId: string) {
    return this.setStatus(tenantId, 'INACTIVE');
  }

  resumeTenant(tenantId: string) {
    return this.setStatus(tenantId, 'ACTIVE');
  }
}
