/** Monthly usage counts per tenant. */

export interface UsageStore {
  get(tenantId: string, month: string): Promise<{ challenges: number; messages: number }>;
  /** Adds messages sent; challenges are counted from where they are stored. */
  add(tenantId: string, month: string, counts: { messages: number }): Promise<void>;
}
