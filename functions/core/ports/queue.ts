/** The dispatch queue: each step of a challenge's rule chain, and its failover timer, travel through it. */
import type { DispatchMessage } from '../../contracts/queue.ts';

export interface DispatchQueue {
  send(message: DispatchMessage, delaySeconds?: number): Promise<void>;
}

export type { DispatchMessage };
