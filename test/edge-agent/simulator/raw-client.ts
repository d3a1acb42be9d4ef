/** A bare TCP client that types at the simulator and waits for what it expects to see, like a terminal user. */
import net from 'node:net';

export class RawClient {
  private buffer = '';
  private waiters: Array<{ pattern: RegExp; resolve: (m: string) => void }> = [];
  readonly closed: Promise<void>;

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (d) => {
      this.buffer += d.toString('latin1');
      this.check();
    });
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
  }

  static connect(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: '127.0.0.1', port }, () => resolve(new RawClient(socket)));
      socket.once('error', reject);
    });
  }

  /** Types `text` and resolves with everything received up to and including the first match of `until`. */
  type(text: string, until: RegExp): Promise<string> {
    const waiting = this.waitFor(until);
    this.socket.write(Buffer.from(text, 'latin1'));
    return waiting;
  }

  waitFor(pattern: RegExp): Promise<string> {
    return new Promise((resolve) => {
      this.waiters.push({ pattern, resolve });
      this.check();
    });
  }

  private check(): void {
    for (const w of [...this.waiters]) {
      const m = w.pattern.exec(this.buffer);
      if (!m) continue;
      const end = m.index + m[0].length;
      const seen = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end);
      this.waiters.splice(this.waiters.indexOf(w), 1);
      w.resolve(seen);
    }
  }

  close(): void {
    this.socket.destroy();
  }
}
