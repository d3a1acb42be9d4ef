/**
 * Agents' identities on the local stack, in the part AWS IoT Core plays in the cloud: the local CA signs the
 * agent's checked request (its thing name as common name), the broker's TLS port takes it, and revoking ends
 * the agent's live session at once. The broker refuses the certificate on reconnect because the agent's record
 * no longer names it (broker-auth.ts), as an inactive certificate is refused by IoT Core.
 */
import { parseThingName } from '../contracts/topics.ts';
import { checkCsr } from '../core/csr.ts';
import type { AgentIdentities, IssuedCertificate } from '../core/ports/agent-registry.ts';
import type { Broker } from './broker.ts';
import type { LocalCa } from './local-ca.ts';

export class LocalAgentIdentities implements AgentIdentities {
  constructor(
    private readonly ca: LocalCa,
    private readonly broker: Pick<Broker, 'tlsUrl' | 'disconnect'>,
  ) {}

  async endpoint() {
    if (!this.broker.tlsUrl) throw new Error('the local broker was started without TLS');
    return { mqttUrl: this.broker.tlsUrl, caPem: this.ca.certificatePem };
  }

  async issue(input: { thingName: string; csrPem: string }): Promise<IssuedCertificate> {
    const { publicKeyInfo } = checkCsr(input.csrPem, input.thingName);
    const leaf = this.ca.signClient(input.thingName, publicKeyInfo);
    return { certificateRef: `local:${leaf.serial}`, certificatePem: leaf.certificatePem };
  }

  async revoke(input: { thingName: string }): Promise<void> {
    const address = parseThingName(input.thingName);
    if (!address) return;
    this.broker.disconnect(
      (p) => p.kind === 'agent' && p.tenantId === address.tenantId && p.agentId === address.agentId,
    );
  }
}
