/** Exponential backoff with jitter for reconnect loops. */

export interface BackoffOptions {
  /** First delay; doubles per failed attempt. */
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** Injected for tests; defaults to Math.random. */
  random?: () => number;
}

/**
 * The delay before reconnect attempt `attempt` (0-based): a random point in the upper half of the capped
 * exponential, so a room full of agents does not reconnect in lockstep after a shared outage.
 */
export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  const initial = options.initialDelayMs ?? 250;
  const max = options.maxDelayMs ?? 30_000;
  const random = options.random ?? Math.random;
  const ceiling = Math.min(max, initial * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
