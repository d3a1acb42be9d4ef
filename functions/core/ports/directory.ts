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
  /** Keeps the job versions a known agent said it takes (an unknown agent is left alone). */
  setAgentJobVersions(tenantId: string, agentId: string, versions: number[]): Promise<void>;
  /**
   * Applies one of IoT Core's lifecycle events to a known agent unless a newer one was applied already;
   * true when it was. Events may come late, twice or out of order (AWS says so), so they are ordered by the
   * connection's `versionNumber`, and within one connection a disconnect comes after its connect. The version
   * may restart from 0 once a client stayed away about an hour: an event more than `PRESENCE_RESET_GAP_MS`
   * younger than the stored one wins whatever its version, and one that much older loses.
   */
  applyPresence(tenantId: string, agentId: string, presence: PresenceUpdate): Promise<boolean>;
  /**
   * Keeps an agent's latest report of one modem (for routing) and a short history of them (for monitoring).
   * Says what the latest report was before (`previous`, absent for a modem's first), or `applied: false`
   * when a newer report was already there (or the agent is unknown).
   */
  recordModemStatus(
    tenantId: string,
    agentId: string,
    status: ModemReport,
  ): Promise<{ applied: boolean; previous?: { healthy: boolean } }>;
  /** The newest reports of one modem, newest first. */
  modemHistory(tenantId: string, agentId: string, modem: string, limit?: number): Promise<ModemReport[]>;
}

export interface ModemReport {
  modem: string;
  group: string;
  healthy: boolean;
  signal: number | null;
  registration: string;
  /** The network the modem is registered with, as it names it (absent in reports stored before it was kept). */
  operator?: string | null | undefined;
  queue: number;
  retries: number;
  errors: number;
  lastError: string | null;
  /** When the cloud heard it. */
  at: string;
}

/** Far beyond the ±2 min accuracy of lifecycle timestamps, far below the ~1 h before a version restarts. */
export const PRESENCE_RESET_GAP_MS = 10 * 60 * 1000;

export interface PresenceUpdate {
  state: 'online' | 'offline';
  /** The lifecycle event's `versionNumber`. */
  version: number;
  /** 0 for connected, 1 for disconnected: a connection's disconnect supersedes its connect. */
  phase: 0 | 1;
  /** The lifecycle event's `timestamp` (ms). */
  timestamp: number;
}
