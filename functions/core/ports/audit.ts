/**
 * The audit log: who did what to which object, when, with the state before and after. Entries never
 * hold a passcode, password or key, and phone numbers in them are masked by the writer.
 */
export interface AuditEntry {
  /** Empty for deployment-wide operator actions. */
  tenantId: string;
  at: string;
  /** `key:<prefix>`, `agent:<id>`, `system`, or later a console user. */
  actor: string;
  /** e.g. `challenge.created`, `challenge.accepted`, `user.locked`, `policy.updated`, `tenant.suspended`. */
  action: string;
  /** The object acted on, e.g. `challenge:<id>`, `user:<username>`, `policy:<id>`. */
  target: string;
  before?: unknown;
  after?: unknown;
  details?: Record<string, string | number | boolean | null>;
}

export interface AuditLog {
  record(entry: AuditEntry): Promise<void>;
  /** Newest first, within one tenant; `cursor` continues a previous page. */
  list(
    tenantId: string,
    options?: { limit?: number; cursor?: string },
  ): Promise<{ entries: AuditEntry[]; cursor?: string }>;
}
