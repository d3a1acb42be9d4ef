/** The tenant's message log, read from the challenges themselves, and its retention. */
import type { Challenge } from '../model.ts';

export interface MessageLogStore {
  /** The tenant's known users' challenges made since `since`, newest first. */
  list(
    tenantId: string,
    options: { since: string; limit: number; cursor?: string; usernamePrefix?: string },
  ): Promise<{ challenges: Challenge[]; cursor?: string }>;
  getRetention(tenantId: string): Promise<number | undefined>;
  setRetention(tenantId: string, days: number): Promise<void>;
}
