/**
 * Bulkheads keep one tenant's slow provider from holding up everyone else.
 *
 * Node does not block on a slow HTTP peer; what a slow provider takes is *capacity*: open sockets, memory
 * for waiting requests and, in a Lambda, the concurrent slots of the dispatch function. Without a limit,
 * a provider that hangs for its full timeout while a tenant's burst of logins arrives would soon own
 * every in-flight request of a warm container, and other tenants' messages would queue behind it.
 *
 * So each (tenant, provider) pair gets its own small compartment:
 * - at most `maxConcurrent` calls in flight to that provider;
 * - at most `maxQueued` more waiting for a slot, each still bound to its caller's deadline (the rule's
 *   timeout), so a wait never outlives the step it serves;
 * - anything beyond that fails fast as `provider_busy` (a temporary failure), which lets the rule chain
 *   move to the next route at once instead of waiting for a provider that is known to be saturated.
 *
 * Compartments are keyed by tenant *and* provider, so neither another tenant nor the same tenant's other
 * providers share the limit. Each call also has a strict timeout of its own (see `web-provider.ts`), which
 * bounds how long a slot can be held. Compartments live in the warm process and disappear when idle.
 */

export class BulkheadFullError extends Error {
  constructor(readonly key: string) {
    super(`Too many calls are waiting for ${key}.`);
    this.name = 'BulkheadFullError';
  }
}

export interface BulkheadLimits {
  maxConcurrent: number;
  maxQueued: number;
}

interface Waiter {
  start(): void;
}

export class Bulkhead {
  private active = 0;
  private readonly waiting: Waiter[] = [];

  constructor(
    readonly key: string,
    private limits: BulkheadLimits,
    private readonly onIdle?: (b: Bulkhead) => void,
  ) {}

  get inFlight(): number {
    return this.active;
  }

  get queued(): number {
    return this.waiting.length;
  }

  setLimits(limits: BulkheadLimits): void {
    this.limits = limits;
  }

  /**
   * Runs `task` when a slot is free. Throws `BulkheadFullError` at once when the queue is full, and the
   * signal's reason when it aborts while waiting (the task then never runs).
   */
  async run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    signal?.throwIfAborted();
    if (this.active >= this.limits.maxConcurrent) {
      if (this.waiting.length >= this.limits.maxQueued) throw new BulkheadFullError(this.key);
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => {
          const i = this.waiting.indexOf(waiter);
          if (i >= 0) this.waiting.splice(i, 1);
          reject(signal?.reason);
          this.idleCheck();
        };
        const waiter: Waiter = {
          start: () => {
            signal?.removeEventListener('abort', onAbort);
            resolve();
          },
        };
        this.waiting.push(waiter);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    } else {
      this.active++;
    }
    try {
      return await task();
    } finally {
      this.release();
    }
  }

  private release(): void {
    const next = this.waiting.shift();
    // The slot passes straight to the next waiter, so a newcomer cannot jump the queue.
    if (next) next.start();
    else {
      this.active--;
      this.idleCheck();
    }
  }

  private idleCheck(): void {
    if (this.active === 0 && this.waiting.length === 0) this.onIdle?.(this);
  }
}

/** One bulkhead per key (`tenantId/providerId`), created on first use and dropped when idle. */
export class Bulkheads {
  private readonly byKey = new Map<string, Bulkhead>();

  constructor(private readonly defaults: BulkheadLimits = { maxConcurrent: 4, maxQueued: 16 }) {}

  for(key: string, limits: Partial<BulkheadLimits> = {}): Bulkhead {
    const wanted = { ...this.defaults, ...limits };
    let bulkhead = this.byKey.get(key);
    if (bulkhead) bulkhead.setLimits(wanted);
    else {
      bulkhead = new Bulkhead(key, wanted, (idle) => {
        if (this.byKey.get(key) === idle) this.byKey.delete(key);
      });
      this.byKey.set(key, bulkhead);
    }
    return bulkhead;
  }

  /** How many compartments are in use: for monitoring and tests. */
  get size(): number {
    return this.byKey.size;
  }
}
