/** The cloud's AD sync API (DESIGN.md "AD sync API") as the connector calls it, with the tenant's sync key. */
import type { BatchReply, CompleteReply, SyncUser } from '../../functions/contracts/sync.ts';

export class SyncApiError extends Error {
  override name = 'SyncApiError';
  constructor(
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface SyncApiOptions {
  apiUrl: string;
  key: string;
  fetch?: typeof fetch;
  /** Attempts for one call that failed on the network or with a 5xx/429; a batch is idempotent in the cloud. */
  attempts?: number;
  retryDelayMs?: number;
}

export class SyncApi {
  private readonly base: string;
  private readonly fetch: typeof fetch;
  constructor(private readonly options: SyncApiOptions) {
    this.base = options.apiUrl.replace(/\/+$/, '');
    this.fetch = options.fetch ?? fetch;
  }

  /**
   * Starts a run. The mode goes along for a cloud that knows run modes (its delta runs' `complete` removes
   * nobody); a cloud that does not ignores the body, and says nothing of the mode in its reply.
   */
  startRun(mode: 'full' | 'delta'): Promise<{ runId: string; mode?: string }> {
    return this.call('POST', '/v1/sync/runs', { mode });
  }

  pushUsers(runId: string, users: SyncUser[]): Promise<BatchReply> {
    return this.call('PUT', `/v1/sync/runs/${encodeURIComponent(runId)}/users`, { users });
  }

  /**
   * Completes a run. A cloud that hands a large removal to the background answers 202 with a status URL: it is
   * followed until the run says `completed`.
   */
  async complete(
    runId: string,
    options: { pollMs?: number; maxWaitMs?: number } = {},
  ): Promise<CompleteReply> {
    const reply = await this.call<CompleteReply | { status: 'completing'; statusUrl: string }>(
      'POST',
      `/v1/sync/runs/${encodeURIComponent(runId)}/complete`,
    );
    if (!('status' in reply) || reply.status !== 'completing') return reply as CompleteReply;
    const deadline = Date.now() + (options.maxWaitMs ?? 30 * 60_000);
    const statusPath = reply.statusUrl.startsWith('/')
      ? reply.statusUrl
      : `/v1/sync/runs/${encodeURIComponent(runId)}`;
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, options.pollMs ?? 2000));
      const run = await this.call<{ status?: string; result?: CompleteReply }>('GET', statusPath);
      if (run.status === 'completed' && run.result) return run.result;
    }
    throw new SyncApiError(
      `the run ${runId} was still completing after ${Math.round((options.maxWaitMs ?? 1_800_000) / 60_000)} minutes`,
    );
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const attempts = this.options.attempts ?? 3;
    let last: SyncApiError | undefined;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (attempt > 1)
        await new Promise((r) => setTimeout(r, (this.options.retryDelayMs ?? 1000) * (attempt - 1)));
      let res: Response;
      try {
        res = await this.fetch(`${this.base}${path}`, {
          method,
          headers: {
            authorization: `Bearer ${this.options.key}`,
            ...(body !== undefined && { 'content-type': 'application/json' }),
          },
          ...(body !== undefined && { body: JSON.stringify(body) }),
          signal: AbortSignal.timeout(60_000),
        });
      } catch (err) {
        last = new SyncApiError(`${method} ${path}: ${(err as Error).message}`, undefined, { cause: err });
        continue;
      }
      const text = await res.text();
      if (res.ok) return (text ? JSON.parse(text) : {}) as T;
      // only the error's code and message: the body never holds the key
      let detail = `${res.status}`;
      try {
        const e = JSON.parse(text) as { error?: { code?: string; message?: string } };
        if (e.error?.code) detail = `${res.status} ${e.error.code}: ${e.error.message ?? ''}`.slice(0, 300);
      } catch {
        // not JSON
      }
      last = new SyncApiError(`${method} ${path}: ${detail}`, res.status);
      if (res.status < 500 && res.status !== 429) break;
    }
    throw last!;
  }
}
