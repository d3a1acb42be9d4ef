/**
 * Who may log in to the local broker, as AWS IoT Core's certificates and policies decide it in the cloud:
 * the cloud side as `service` with the password the stack made for this run, and each edge agent as
 * `{tenant}.{agent}` with its registered secret while its tenant is active. What a logged-in client may then
 * publish and subscribe to is the broker's topic ACL (broker.ts).
 */
import type { DirectoryStore } from '../core/ports/directory.ts';
import { constantTimeEqual, secretHash } from '../core/secrets.ts';
import type { BrokerOptions, Principal } from './broker.ts';

export const SERVICE_USERNAME = 'service';

export function brokerAuthenticator(deps: {
  directory: Pick<DirectoryStore, 'getAgent' | 'getTenant'>;
  servicePassword: string;
}): BrokerOptions['authenticate'] {
  const { directory, servicePassword } = deps;
  return async (username, password, _clientId): Promise<Principal | null> => {
    const given = password?.toString('utf8') ?? '';
    if (username === SERVICE_USERNAME)
      return constantTimeEqual(given, servicePassword) ? { kind: 'service' } : null;
    const [tenantId, agentId, ...rest] = username.split('.');
    if (!tenantId || !agentId || rest.length > 0) return null;
    const agent = await directory.getAgent(tenantId, agentId);
    if (!agent || !constantTimeEqual(agent.secretHash, secretHash(given))) return null;
    const tenant = await directory.getTenant(tenantId);
    return tenant?.status === 'active' ? { kind: 'agent', tenantId, agentId } : null;
  };
}
