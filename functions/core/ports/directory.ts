/**
 * What an API request reads in one round trip (key, tenant, user, guard, challenge), and the agents with their modems.
 */
import type { Agent, ApiKeyRecord, Challenge, Tenant, User, UserGuard } from '../model.ts';

export interface DirectoryStore {
  findKey(hash: string): Promise<ApiKeyRecord | undefined>;
  /**
   * The key, its tenant and (when named) one user with their guard, or one challenge, in a single strongly
   * consistent round trip.
   */
  loadForRequest(
    keyHash: string,
    tenantId: string,
    want?: { username?: string; challengeId?: string },
  ): Promise<{ key?: ApiKeyRecord; tenant?: Tenant; user?: User; guard?: UserGuard; challenge?: Challenge }>;
  getTenant(tenantId: string): Promise<Tenant | undefined>;
  getUser(tenantId: string, username: string): Promise<User | undefined>;
  listAgents(tenantId: string): Promise<Agent[]>;
  getAgent(tenantId: string, agentId: string): Promise<Agent | undefined>;
  setAgentState(tenantId: string, agentId: string, state: Agent['state'], at: string): Promise<void>;
  /** Keeps an agent's latest report of one modem (for routing) and a short history of them (for monitoring). */
  recordModemStatus(tenantId: string, agentId: string, status: ModemReport): Promise<void>;
  /** The newest reports of one modem, newest first. */
  modemHistory(tenantId: string, agentId: string, modem: string, limit?: number): Promise<ModemReport[]>;
}

export interface ModemReport {
  modem: string;
  group: string;
  healthy: boolean;
  signal: number | null;
  registration: string;
  queue: number;
  retries: number;
  errors: number;
  lastError: string | null;
  /** When the cloud heard it. */
  at: string;
}
