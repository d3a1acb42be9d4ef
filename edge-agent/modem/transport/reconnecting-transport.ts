/**
 * A transport that keeps one byte stream open, reopening it with backoff whenever it closes or cannot be
 * opened. TCP and serial differ only in how one stream is opened.
 */
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { backoffDelay } from '../../backoff.ts';
import { ModemDisconnectedError } from '../at/errors.ts';
import type { ModemTransport, TransportEvents } from './transport-types.ts';

export type OpenStream = () => Promise<Duplex>;

export interface ReconnectingTransportOptions {
  /** Ceiling of the first reconnect delay, doubling per failed attempt; default 250 ms. */
  initialDelayMs?: number;
  /** Default 30 s. */
  maxDelayMs?: number;
  /** Injected for tests; defaults to Math.random. */
  random?: () => number;
}

export class ReconnectingTransport extends EventEmitter<TransportEvents> implements ModemTransport {
  private stream: Duplex | undefined;
  private attempt = 0;
  private timer: NodeJS.Timeout | undefined;
  private started = false;
  private closed = false;
  private connecting = false;

  constructor(
    readonly url: string,
    private readonly openStream: OpenStream,
    private readonly options: ReconnectingTransportOptions = {},
  ) {
    super();
  }

  get isConnected(): boolean {
    return this.stream !== undefined;
  }

  open(): void {
    if (this.started || this.closed) return;
    this.started = true;
    void this.connect();
  }

  write(data: Buffer | string): void {
    const stream = this.stream;
    if (!stream) throw new ModemDisconnectedError(`${this.url} is not connected`);
    stream.write(data);
  }

  waitConnected(timeoutMs: number): Promise<void> {
    if (this.stream) return Promise.resolve();
    if (this.closed) return Promise.reject(new ModemDisconnectedError(`${this.url} is closed`));
    this.open();
    return new Promise((resolve, reject) => {
      const onConnect = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.off('connect', onConnect);
        reject(new ModemDisconnectedError(`${this.url}: not connected within ${timeoutMs} ms`));
      }, timeoutMs);
      this.once('connect', onConnect);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    const stream = this.stream;
    this.stream = undefined;
    if (stream && !stream.destroyed) {
      await new Promise<void>((resolve) => {
        stream.once('close', () => resolve());
        stream.destroy();
      });
    }
  }

  private async connect(): Promise<void> {
    if (this.closed || this.connecting || this.stream) return;
    this.connecting = true;
    let stream: Duplex;
    try {
      stream = await this.openStream();
    } catch (err) {
      this.connecting = false;
      this.emit('connectError', err instanceof Error ? err : new Error(String(err)));
      this.scheduleReconnect();
      return;
    }
    this.connecting = false;
    if (this.closed) {
      stream.destroy();
      return;
    }
    this.stream = stream;
    this.attempt = 0;
    stream.on('data', (chunk: Buffer | string) => {
      this.emit('data', typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk);
    });
    // 'error' is always followed by 'close' on sockets and serial ports; the listener only keeps it from
    // becoming an uncaught exception.
    let lastError: Error | undefined;
    stream.on('error', (err: Error) => {
      lastError = err;
    });
    stream.once('close', () => {
      if (this.stream !== stream) return;
      this.stream = undefined;
      this.emit('disconnect', lastError);
      this.scheduleReconnect();
    });
    this.emit('connect');
  }

  private scheduleReconnect(): void {
    if (this.closed) return;
    const { initialDelayMs = 250, maxDelayMs = 30_000, random } = this.options;
    const delay = backoffDelay(this.attempt++, { initialMs: initialDelayMs, maxMs: maxDelayMs }, random);
    this.timer = setTimeout(() => void this.connect(), delay);
  }
}
