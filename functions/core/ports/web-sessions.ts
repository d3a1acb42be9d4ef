/** Where signed-in browser sessions live: one small item per session under its tenant, gone at its TTL. */

export interface WebSessionRecord {
  /** Which pages the session is for (`admin`, `portal`): one kind's id never opens the other's pages. */
  kind: string;
  /** The tenant the session belongs to; `-` for the operator, who has none. */
  tenantId: string;
  /** SHA-256 of the session id: the id itself is only ever in the browser's cookie. */
  idHash: string;
  /** Who signed in, and how far (e.g. password checked, second factor pending). Small, JSON-able. */
  principal: Record<string, unknown>;
  /** The synchronizer token every state-changing request must echo. */
  csrf: string;
  createdAt: number;
  lastSeenAt: number;
  /** The absolute end (epoch ms), whatever the activity. */
  expiresAt: number;
}

export interface WebSessionStore {
  put(record: WebSessionRecord): Promise<void>;
  get(kind: string, tenantId: string, idHash: string): Promise<WebSessionRecord | undefined>;
  /** Moves the idle clock; does nothing for a session that is gone. */
  touch(kind: string, tenantId: string, idHash: string, lastSeenAt: number): Promise<void>;
  delete(kind: string, tenantId: string, idHash: string): Promise<void>;
}
