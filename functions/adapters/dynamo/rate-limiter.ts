/**
 * Fixed-window abuse limits as small items of fixed size, one per counter and window (`RL#<tenant>#<window>#…`,
 * about 100 bytes, expiring by TTL), so no item written per login grows with traffic or makes a hot key:
 *
 * - user, destination and client IP: one item per digest, counted by one conditional `ADD` (`n < max`);
 * - the tenant: `shards` items of `max / shards` each. A create takes a slot in a random shard and, when that
 *   one is full, in the next, so the tenant's total never passes `max` and a create is refused only when every
 *   shard is full: exact, at the cost of a probe per full shard near the limit.
 *
 * The counters of one create are taken in parallel, each atomically. When one refuses, the slots the others
 * took are given back (`ADD -1`), so a refused create counts against nothing once it has answered, as when all
 * counters were one item. While it runs, a racing create may see those slots taken and be refused too: the
 * limit errs towards refusing, never towards letting more through. A give-back that fails leaves its slot
 * counted until the window ends, the same safe side.
 *
 * A counter found full is remembered by this instance (a warm Lambda) until its window ends, so a client that
 * keeps knocking on a full tenant costs no write per attempt, let alone a probe of every shard. A slot given
 * back later is then not offered again in this instance's window: again refusing, never letting more through.
 */
import { type DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { LimitCounter, RateLimiter } from '../../core/ports/abuse.ts';
import { isConditionalCheckFailed } from './errors.ts';
import { limitItem } from './keys.ts';

type Key = ReturnType<typeof limitItem>;

/** How many full counters one instance remembers before it forgets them all (a bound on its memory). */
const MAX_REMEMBERED = 10_000;

/** The item names of a counter, each with its own maximum; a sharded one's maxima add up to its `max`. */
export function counterSlots(counter: LimitCounter): Array<{ name: string; max: number }> {
  const shards = Math.max(1, Math.min(counter.shards ?? 1, counter.max));
  if (shards === 1) return [{ name: counter.name, max: counter.max }];
  const base = Math.floor(counter.max / shards);
  const extra = counter.max % shards;
  return Array.from({ length: shards }, (_, i) => ({
    name: `${counter.name}#${i}`,
    max: base + (i < extra ? 1 : 0),
  }));
}

export class DynamoRateLimiter implements RateLimiter {
  /** Counters seen full, by tenant and counter name, with the window they were full in. */
  private readonly full = new Map<string, number>();

  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  async hit(tenantId: string, window: number, expiresAtSeconds: number, counters: LimitCounter[]) {
    if (counters.some((c) => c.max <= 0)) return false;
    const taken = await Promise.allSettled(
      counters.map((counter) => this.take(tenantId, window, expiresAtSeconds, counter)),
    );
    const held = taken.flatMap((t) => (t.status === 'fulfilled' && t.value ? [t.value] : []));
    if (held.length === counters.length) return true;
    await Promise.allSettled(held.map((key) => this.giveBack(key)));
    const failed = taken.find((t): t is PromiseRejectedResult => t.status === 'rejected');
    if (failed) throw failed.reason;
    return false;
  }

  /** Takes one slot of the counter: the key of the item counted, or undefined when every item is full. */
  private async take(
    tenantId: string,
    window: number,
    expiresAtSeconds: number,
    counter: LimitCounter,
  ): Promise<Key | undefined> {
    const remembered = `${tenantId}\u0000${counter.name}`;
    if (this.full.get(remembered) === window) return undefined;
    const slots = counterSlots(counter);
    const start = Math.floor(Math.random() * slots.length);
    for (let i = 0; i < slots.length; i++) {
      const slot = slots[(start + i) % slots.length]!;
      const key = limitItem(tenantId, window, slot.name);
      if (await this.add(key, slot.max, expiresAtSeconds)) return key;
    }
    if (this.full.size >= MAX_REMEMBERED) this.full.clear();
    this.full.set(remembered, window);
    return undefined;
  }

  private async add(key: Key, max: number, expiresAtSeconds: number): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: marshall(key),
          UpdateExpression: 'SET #ttl = :ttl ADD n :one',
          ConditionExpression: 'attribute_not_exists(n) OR n < :max',
          ExpressionAttributeNames: { '#ttl': 'ttl' },
          ExpressionAttributeValues: marshall({ ':one': 1, ':max': max, ':ttl': expiresAtSeconds }),
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }

  private async giveBack(key: Key) {
    await this.client.send(
      new UpdateItemCommand({
        TableName: this.table,
        Key: marshall(key),
        UpdateExpression: 'ADD n :minus',
        ConditionExpression: 'n > :zero',
        ExpressionAttributeValues: marshall({ ':minus': -1, ':zero': 0 }),
      }),
    );
  }
}
