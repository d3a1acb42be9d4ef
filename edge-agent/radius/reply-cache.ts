/**
 * Retransmit detection (RFC 5080 §2.2.2). A gateway that hears nothing within a few seconds sends the very same
 * request again: same source address and port, Identifier and Request Authenticator. Leg 1 waits on the
 * password check and the challenge, so that happens while the first copy is still being worked on. Each copy
 * gets the first one's reply bytes; none starts a second challenge (a second SMS, a second State, and the
 * first code dead).
 */
export type Send = (reply: Buffer) => void;

type Entry = { state: 'pending'; waiters: Send[]; at: number } | { state: 'done'; reply: Buffer; at: number };

export class ReplyCache {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly options: { ttlMs: number; maxEntries: number; now?: () => number }) {}

  private now() {
    return this.options.now?.() ?? Date.now();
  }

  static key(address: string, port: number, identifier: number, authenticator: Buffer): string {
    return `${address}|${port}|${identifier}|${authenticator.toString('base64')}`;
  }

  /**
   * `fresh`: the caller works the request out and calls `finish`; `duplicate`: a copy of one in hand or
   * answered, whose reply goes (or went) to `send`.
   */
  admit(key: string, send: Send): 'fresh' | 'duplicate' {
    const now = this.now();
    const entry = this.entries.get(key);
    if (entry && (entry.state === 'pending' || now - entry.at < this.options.ttlMs)) {
      if (entry.state === 'pending') entry.waiters.push(send);
      else send(entry.reply);
      return 'duplicate';
    }
    if (entry) this.entries.delete(key);
    this.evict(now);
    this.entries.set(key, { state: 'pending', waiters: [send], at: now });
    return 'fresh';
  }

  /** Sends the reply to every copy that came in meanwhile and keeps it for later ones; none: answer nobody. */
  finish(key: string, reply: Buffer | undefined): void {
    const entry = this.entries.get(key);
    if (entry?.state !== 'pending') return;
    if (reply === undefined) {
      // nothing was said, so a retransmit deserves a fresh try (the cloud may be back)
      this.entries.delete(key);
      return;
    }
    this.entries.delete(key);
    this.entries.set(key, { state: 'done', reply, at: this.now() });
    for (const send of entry.waiters) send(reply);
  }

  get size() {
    return this.entries.size;
  }

  private evict(now: number) {
    // oldest first: Map keeps insertion order, and a finished entry is re-inserted when it finishes
    for (const [key, entry] of this.entries) {
      const full = this.entries.size >= this.options.maxEntries;
      if (!full && (entry.state === 'pending' || now - entry.at < this.options.ttlMs)) break;
      this.entries.delete(key);
    }
  }
}
