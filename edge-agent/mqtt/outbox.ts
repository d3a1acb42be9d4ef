/**
 * Events waiting to be handed to the MQTT client, in order. Bounded: when full, the oldest `modem.status`
 * (then `agent.online`) goes first, since a newer snapshot replaces it. Job results are never dropped; they are
 * bounded by the jobs the agent accepted, so the buffer may exceed its limit only with them.
 */
import type { AgentEvent } from '../../functions/contracts/index.ts';

export interface OutboxItem {
  event: AgentEvent;
  payload: string;
  settle(acked: boolean): void;
}

const DROPPABLE: ReadonlyArray<AgentEvent['type']> = ['modem.status', 'agent.online'];

export class Outbox {
  private items: OutboxItem[] = [];
  dropped = 0;

  constructor(private readonly limit: number) {}

  get size(): number {
    return this.items.length;
  }

  push(item: OutboxItem): void {
    this.items.push(item);
    while (this.items.length > this.limit && this.dropOne()) {
      // keep dropping droppable events until back under the limit or only job results remain
    }
  }

  /** Puts an item back at the head, e.g. when the client refused it while closing. */
  unshift(item: OutboxItem): void {
    this.items.unshift(item);
  }

  shift(): OutboxItem | undefined {
    return this.items.shift();
  }

  /** Settles everything still queued as not delivered; used when the link closes for good. */
  abandon(): void {
    for (const item of this.items.splice(0)) item.settle(false);
  }

  private dropOne(): boolean {
    for (const type of DROPPABLE) {
      const index = this.items.findIndex((i) => i.event.type === type);
      if (index >= 0) {
        const [item] = this.items.splice(index, 1);
        item?.settle(false);
        this.dropped++;
        return true;
      }
    }
    return false;
  }
}
