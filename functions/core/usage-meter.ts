/**
 * Counts messages for the operator's usage view without a write per message: counts gather per tenant and
 * month while a queue batch is handled, and each batch ends with one ADD per tenant. A flush that fails is
 * logged, and the usage view undercounts by that batch; delivery itself is never held up by accounting.
 */
import type { Logger } from './ports/log.ts';
import type { UsageStore } from './ports/usage.ts';

export class UsageMeter {
  private readonly pending = new Map<string, { tenantId: string; month: string; messages: number }>();

  constructor(
    private readonly store: Pick<UsageStore, 'add'>,
    private readonly log: Logger,
  ) {}

  /** One message left for `tenantId` at `atIso` (it counts in that month). */
  message(tenantId: string, atIso: string): void {
    const month = atIso.slice(0, 7);
    const key = `${tenantId}#${month}`;
    const entry = this.pending.get(key) ?? { tenantId, month, messages: 0 };
    entry.messages++;
    this.pending.set(key, entry);
  }

  async flush(): Promise<void> {
    const entries = [...this.pending.values()];
    this.pending.clear();
    await Promise.all(
      entries.map((e) =>
        this.store.add(e.tenantId, e.month, { messages: e.messages }).catch((error: unknown) => {
          this.log.warn('usage count lost for one batch', { tenantId: e.tenantId, month: e.month, error });
        }),
      ),
    );
  }
}
