/**
 * Driving the RADIUS front as a gateway would: FreeRADIUS's `radclient` (Debian freeradius-utils), and a raw
 * UDP client for what radclient cannot send (the same packet twice from one port, malformed datagrams).
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import {
  Attr,
  type Attribute,
  Code,
  decodePacket,
  encodeRequest,
  encodeUserPassword,
  type Packet,
  text,
} from '../../edge-agent/radius/codec.ts';

export const RADCLIENT = 'radclient';
export const haveRadclient = spawnSync(RADCLIENT, ['-v'], { stdio: 'ignore' }).status === 0;
export const RADCLIENT_MISSING = `${RADCLIENT} not found: install it with "apt-get install -y freeradius-utils"`;

export interface RadclientReply {
  /** e.g. `Access-Challenge`; undefined: no reply. */
  code: string | undefined;
  /** Reply attributes in order, `[name, value]` as radclient prints them. */
  attributes: Array<[string, string]>;
  status: number | null;
}

/**
 * Runs radclient once, asynchronously (the server under test runs in this very process). `attrs` are
 * radclient's `Name = value` lines; add `Message-Authenticator = 0x00` to have it sign the request.
 */
export function radclient(
  port: number,
  kind: 'auth' | 'acct' | 'status',
  secret: string,
  attrs: string[],
  options: { timeout?: number; retries?: number } = {},
): Promise<RadclientReply> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      RADCLIENT,
      [
        '-x',
        '-t',
        String(options.timeout ?? 3),
        '-r',
        String(options.retries ?? 1),
        `127.0.0.1:${port}`,
        kind,
        secret,
      ],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      out += d;
    });
    child.on('error', reject);
    child.on('close', (status) => {
      const received = /^Received (\S+) Id \d+/m.exec(out);
      const attributes: Array<[string, string]> = [];
      if (received) {
        const after = out.slice(received.index).split('\n').slice(1);
        for (const line of after) {
          const m = /^\s+(\S+) = (.*)$/.exec(line);
          if (!m) break;
          attributes.push([m[1]!, m[2]!.replace(/^"(.*)"$/, '$1')]);
        }
      }
      resolve({ code: received?.[1], attributes, status });
    });
    child.stdin.end(`${attrs.join('\n')}\n`);
  });
}

export const attr = (reply: RadclientReply, name: string) => reply.attributes.find(([n]) => n === name)?.[1];

/** A UDP socket on 127.0.0.1 that sends datagrams to the front and collects what comes back. */
export class RawClient {
  private replies: Buffer[] = [];
  private waiters: Array<() => void> = [];
  private constructor(private readonly socket: Socket) {
    socket.on('message', (msg) => {
      this.replies.push(msg);
      for (const w of this.waiters.splice(0)) w();
    });
  }

  /** `recvBufferSize`: room for the replies to a burst (the kernel's default holds some 256). */
  static async open(options: { recvBufferSize?: number } = {}): Promise<RawClient> {
    const socket = createSocket({
      type: 'udp4',
      ...(options.recvBufferSize && { recvBufferSize: options.recvBufferSize }),
    });
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
    return new RawClient(socket);
  }

  send(port: number, datagram: Buffer): Promise<void> {
    return new Promise((resolve, reject) =>
      this.socket.send(datagram, port, '127.0.0.1', (e) => (e ? reject(e) : resolve())),
    );
  }

  /** Waits until `count` replies came in, or `timeoutMs` passed; returns what came (and forgets it). */
  async receive(count: number, timeoutMs = 5000): Promise<Buffer[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.replies.length < count && Date.now() < deadline) {
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.max(1, deadline - Date.now()));
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
    return this.replies.splice(0);
  }

  close() {
    this.socket.close();
  }
}

let nextId = 0;
/** An Access-Request as a gateway sends it: User-Name, the hidden password, any `extra` attributes. */
export function accessRequest(
  secret: string,
  username: string,
  password: string,
  extra: Attribute[] = [],
  options: { messageAuthenticator?: boolean; identifier?: number } = {},
): { datagram: Buffer; authenticator: Buffer } {
  const authenticator = randomBytes(16);
  const key = Buffer.from(secret);
  const datagram = encodeRequest(
    Code.AccessRequest,
    options.identifier ?? nextId++ % 256,
    authenticator,
    [
      { type: Attr.UserName, value: text(username) },
      { type: Attr.UserPassword, value: encodeUserPassword(Buffer.from(password), authenticator, key) },
      ...extra,
    ],
    key,
    { messageAuthenticator: options.messageAuthenticator ?? true },
  );
  return { datagram, authenticator };
}

export const decodeReply = (reply: Buffer): Packet => decodePacket(reply);
