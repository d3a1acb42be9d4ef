/** Exponential backoff with jitter, for every reconnect loop of the agent: modem transports and the MQTT link. */

export interface BackoffOptions {
  /** Ceiling of the first delay; it doubles per failed attempt. */
  initialMs: number;
  maxMs: number;
}

/**
 * Delay before reconnect attempt number `attempt` (0-based): the capped exponential ceiling, then "equal
 * jitter" (half fixed, half random) so a fleet of agents, or a rack of modems behind one converter, that lost
 * their peer together does not return in lockstep, while each still backs off at least half the ceiling.
 */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(options.maxMs, options.initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
