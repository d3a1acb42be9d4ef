/**
 * Splits the raw byte stream from a modem into lines and the `> ` prompt.
 *
 * Modems end lines with CR LF, but some send a bare CR or LF, and bytes arrive in arbitrary fragments.
 * The SMS prompt has no line ending at all, so it is recognised from the bytes still pending.
 */

export type AtToken = { type: 'line'; text: string } | { type: 'prompt' };

/** A line longer than this is garbage (or a stuck stream) and is cut, so memory stays bounded. */
const MAX_LINE = 4096;

export class AtLineParser {
  private pending = '';

  /** Feeds a chunk and returns the complete tokens it finished, in order. */
  push(chunk: Buffer | string): AtToken[] {
    // latin1 keeps every byte as one char: garbled bytes stay visible instead of becoming U+FFFD runs.
    this.pending += typeof chunk === 'string' ? chunk : chunk.toString('latin1');
    const out: AtToken[] = [];
    let start = 0;
    for (let i = 0; i < this.pending.length; i++) {
      const c = this.pending.charCodeAt(i);
      if (c === 0x0d || c === 0x0a) {
        const text = this.pending.slice(start, i).trim();
        // A prompt that arrived in the same chunk as the next line ending is still a prompt.
        if (text === '>') out.push({ type: 'prompt' });
        else if (text.length > 0) out.push({ type: 'line', text });
        start = i + 1;
      }
    }
    this.pending = this.pending.slice(start);
    if (/^\s*>\s?$/.test(this.pending)) {
      out.push({ type: 'prompt' });
      this.pending = '';
    } else if (this.pending.length > MAX_LINE) {
      out.push({ type: 'line', text: this.pending.slice(0, MAX_LINE).trim() });
      this.pending = '';
    }
    return out;
  }

  /** Drops a partial line, e.g. after the stream reconnects. */
  reset(): void {
    this.pending = '';
  }
}
