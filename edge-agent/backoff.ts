/** Exponential backoff with jitter for reconnecting to the broker. */

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 1_000, maxMs: 60_000 };

/**
 * Delay before reconnect attempt number `attempt` (0-based): the exponential ceiling, then "equal jitter"
 * (half fixed, half random) so a fleet of agents that lost the broker together does not return in lockstep,
 * while each agent still backs off at least half the ceiling.
 */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(options.maxMs, options.initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
