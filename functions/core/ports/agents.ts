/**
 * The edge agents as the cloud reaches them: SMS jobs published to one agent, and a tenant's sessions ended.
 */
import type { SmsJob } from '../../contracts/index.ts';

export interface JobPublisher {
  publishJob(tenantId: string, agentId: string, job: SmsJob): Promise<void>;
}

/**
 * Ends the live sessions of a tenant's agents (suspension) and keeps them out until the tenant is resumed; in
 * AWS that is deactivating their certificates, which `resumeTenant` activates again.
 */
export interface AgentSessions {
  disconnectTenant(tenantId: string): Promise<void>;
  resumeTenant?(tenantId: string): Promise<void>;
}
