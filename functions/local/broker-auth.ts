/**
 * Who may log in to the local broker, as AWS IoT Core's certificates and policies decide it in the cloud:
 * - the cloud side as `service` with the password the stack made for this run;
 * - an enrolled agent over TLS with the certificate the local CA signed at its enrolment: the thing name is
 *   the certificate's common name, the client id must be that name, and the certificate must be the one the
 *   agent's record holds (a deleted or re-registered agent's old certificate is refused);
 * - an agent the local seed registered with a secret, as user `{stage}:{tenant}:{agent}` (its thing name).
 * Agents get in only while their tenant is active, and only agents of the stage whose directory this is: a
 * broker that stands for an account shared by stages chains one authenticator per stage (`anyOf`). The topic
 * ACL is the broker's (broker.ts).
 */
import { parseThingName } from '../contracts/topics.ts';
import type { DirectoryStore } from '../core/ports/directory.ts';
import { constantTimeEqual, secretHash } from '../core/secrets.ts';
import type { BrokerOptions, Principal } from './broker.ts';

export const SERVICE_USERNAME = 'service';

export function brokerAuthenticator(deps: {
  directory: Pick<DirectoryStore, 'getAgent' | 'getTenant'>;
  servicePassword: string;
  /** The stage of `directory`'s agents. */
  stage: string;
}): BrokerOptions['authenticate'] {
  const { directory, servicePassword, stage } = deps;
  const ours = (name: string) => {
    const address = parseThingName(name);
    return address?.stage === stage ? address : undefined;
  };
  return async (username, password, clientId, certificate): Promise<Principal | null> => {
    if (certificate) {
      const address = ours(certificate.commonName);
      if (!address || clientId !== certificate.commonName) return null;
      const agent = await directory.getAgent(address.tenantId, address.agentId);
      if (
        !agent?.certificateFingerprint ||
        !constantTimeEqual(agent.certificateFingerprint, certificate.fingerprint256)
      )
        return null;
      const tenant = await directory.getTenant(address.tenantId);
      return tenant?.status === 'active' ? { kind: 'agent', ...address } : null;
    }
    const given = password?.toString('utf8') ?? '';
    if (username === SERVICE_USERNAME)
      return constantTimeEqual(given, servicePassword) ? { kind: 'service' } : null;
    const address = username === undefined ? undefined : ours(username);
    if (!address) return null;
    const agent = await directory.getAgent(address.tenantId, address.agentId);
    if (!agent?.secretHash || !constantTimeEqual(agent.secretHash, secretHash(given))) return null;
    const tenant = await directory.getTenant(address.tenantId);
    return tenant?.status === 'active' ? { kind: 'agent', ...address } : null;
  };
}

/** Several stages' logins on one broker: the first that knows the client decides. */
export function anyOf(...authenticators: BrokerOptions['authenticate'][]): BrokerOptions['authenticate'] {
  return async (...args) => {
    for (const authenticate of authenticators) {
      const principal = await authenticate(...args);
      if (principal) return principal;
    }
    return null;
  };
}
