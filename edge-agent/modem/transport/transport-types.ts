/** The byte stream the AT driver talks over: a serial port or a TCP serial server, reconnecting on its own. */

export type TransportEvents = {
  data: [chunk: Buffer];
  connect: [];
  disconnect: [error: Error | undefined];
  connectError: [error: Error];
};

export interface ModemTransport {
  /** Where it connects, for logs and status (`tcp://10.0.0.5:4001`, `serial:///dev/ttyUSB0`). */
  readonly url: string;
  readonly isConnected: boolean;
  /** Starts connecting, and reconnecting after every loss, until `close()`. Idempotent. */
  open(): void;
  /** Throws `ModemDisconnectedError` while disconnected. */
  write(data: Buffer | string): void;
  /** Opens if needed and resolves once connected; rejects with `ModemDisconnectedError` after the timeout. */
  waitConnected(timeoutMs: number): Promise<void>;
  close(): Promise<void>;
  on<E extends keyof TransportEvents>(event: E, listener: (...args: TransportEvents[E]) => void): this;
  off<E extends keyof TransportEvents>(event: E, listener: (...args: TransportEvents[E]) => void): this;
}
