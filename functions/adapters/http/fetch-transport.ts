/**
 * `HttpTransport` over `node:http` and `node:https`: redirects are not followed, bodies are read up to a cap,
 * and unless a request allows private networks, the address connected to must be public. The name a tenant
 * wrote is checked after DNS (every address it resolves to), and the socket's peer once connected, so neither
 * `localhost.`, a name that resolves to 10.0.0.5, nor `[::ffff:127.0.0.1]` reaches an internal service.
 * (The runtime's `fetch` cannot take a DNS hook without the undici package, hence plain `node:http`.)
 */
import { lookup as dnsLookup } from 'node:dns';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { LookupFunction, Socket } from 'node:net';
import {
  type HttpRequest,
  type HttpResponse,
  type HttpTransport,
  HttpTransportError,
} from '../../core/channels/http.ts';
import { isIpLiteral, isLocalhostName, isPublicAddress } from '../../core/channels/private-address.ts';

/** The provider's address is not a public one; nothing was sent. */
export class PrivateAddressError extends Error {
  constructor(readonly address: string) {
    super(`${address} is not a public address`);
    this.name = 'PrivateAddressError';
  }
}

type LookupAll = Array<{ address: string; family: number }>;

/** Resolves every address of the name and refuses the name when any of them is not public. */
function publicOnlyLookup(resolve: LookupFunction): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, '', 0);
      const all = (Array.isArray(addresses) ? addresses : []) as LookupAll;
      const refused = all.find((a) => !isPublicAddress(a.address));
      if (refused || all.length === 0)
        return callback(new PrivateAddressError(refused?.address ?? hostname), '', 0);
      if (options.all) return (callback as (e: null, a: LookupAll) => void)(null, all);
      const first = all[0]!;
      callback(null, first.address, first.family);
    });
  };
}

/** Drops a connection whose peer is not public before anything is written to it. */
function guardSocket(socket: Socket): Socket {
  socket.once('connect', () => {
    const peer = socket.remoteAddress;
    if (!peer || !isPublicAddress(peer)) socket.destroy(new PrivateAddressError(peer ?? 'unknown'));
  });
  return socket;
}

class PublicOnlyHttpAgent extends http.Agent {
  override createConnection(...args: Parameters<http.Agent['createConnection']>) {
    return guardSocket(super.createConnection(...args) as Socket);
  }
}
class PublicOnlyHttpsAgent extends https.Agent {
  override createConnection(...args: Parameters<https.Agent['createConnection']>) {
    return guardSocket(super.createConnection(...args) as Socket);
  }
}

export interface FetchHttpTransportOptions {
  /** The most of a response body that is read; a provider's answer is small. */
  maxBodyBytes?: number;
  /** DNS resolution, `dns.lookup` by default; tests give names of their own. */
  lookup?: LookupFunction;
}

export class FetchHttpTransport implements HttpTransport {
  // Separate pools: a kept-alive socket that a request allowed to reach a private address must never
  // carry a request that was not allowed to.
  private readonly publicOnly: { http: http.Agent; https: https.Agent };
  private readonly anyAddress: { http: http.Agent; https: https.Agent };

  constructor(private readonly options: FetchHttpTransportOptions = {}) {
    const resolve = options.lookup ?? (dnsLookup as LookupFunction);
    const guarded = { keepAlive: true, lookup: publicOnlyLookup(resolve) };
    this.publicOnly = { http: new PublicOnlyHttpAgent(guarded), https: new PublicOnlyHttpsAgent(guarded) };
    const open = { keepAlive: true, lookup: resolve };
    this.anyAddress = { http: new http.Agent(open), https: new https.Agent(open) };
  }

  async send(request: HttpRequest, signal: AbortSignal): Promise<HttpResponse> {
    const allowPrivate = request.allowPrivateNetworks === true;
    const host = request.url.hostname;
    // A literal address is connected to without a lookup, and what `localhost.` resolves to varies by
    // system: refuse both before even opening a socket.
    if (!allowPrivate && (isLocalhostName(host) || (isIpLiteral(host) && !isPublicAddress(host))))
      throw new HttpTransportError('private_address', 'The provider address is not a public one.');
    const secure = request.url.protocol === 'https:';
    const agents = allowPrivate ? this.anyAddress : this.publicOnly;
    try {
      const response = await new Promise<IncomingMessage>((resolve, reject) => {
        const req = (secure ? https : http).request(request.url, {
          method: request.method,
          headers: request.headers,
          agent: secure ? agents.https : agents.http,
          signal,
        });
        req.once('response', resolve);
        req.once('error', reject);
        // A redirect is answered as it is: following it could carry the message and credentials to a host
        // the tenant never configured, and node:http never follows one.
        req.end(request.body);
      });
      const body = await readCapped(response, this.options.maxBodyBytes ?? 64 * 1024);
      return { status: response.statusCode ?? 0, headers: flatHeaders(response), body };
    } catch (cause) {
      if (signal.aborted) {
        const timedOut = (signal.reason as Error | undefined)?.name === 'TimeoutError';
        throw new HttpTransportError(timedOut ? 'timeout' : 'aborted', 'The request was cut off.', { cause });
      }
      if (cause instanceof PrivateAddressError)
        throw new HttpTransportError('private_address', 'The provider address is not a public one.', {
          cause,
        });
      throw new HttpTransportError('network', 'The provider could not be reached.', { cause });
    }
  }

  /** Closes kept-alive sockets (tests, shutdown). */
  close(): void {
    for (const agent of [...Object.values(this.publicOnly), ...Object.values(this.anyAddress)])
      agent.destroy();
  }
}

function flatHeaders(response: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(response.headers))
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
  return out;
}

async function readCapped(response: IncomingMessage, maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response) {
    chunks.push(chunk as Buffer);
    size += (chunk as Buffer).byteLength;
    if (size >= maxBytes) break;
  }
  // Leaving the loop early destroys the response: the rest of an oversized body is never read.
  return new TextDecoder().decode(Buffer.concat(chunks).subarray(0, maxBytes));
}
