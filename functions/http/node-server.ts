/**
 * The APIs on a plain Node HTTP server (the local stack), answering the way the hono apps do even where Node
 * answers before any app sees the request.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { serve } from '@hono/node-server';
import { errorBody } from './errors.ts';

/** Request line plus headers, as Node counts them (its default, pinned so a runtime flag cannot raise it). */
export const MAX_HEADER_BYTES = 16 * 1024;

const CLIENT_ERRORS: Record<string, { status: number; reason: string; code: string; message: string }> = {
  HPE_HEADER_OVERFLOW: {
    status: 431,
    reason: 'Request Header Fields Too Large',
    code: 'header_too_large',
    message: `The request line and headers are larger than ${MAX_HEADER_BYTES} bytes.`,
  },
  HPE_CHUNK_EXTENSIONS_OVERFLOW: {
    status: 413,
    reason: 'Payload Too Large',
    code: 'payload_too_large',
    message: 'The chunk extensions of the request body are too large.',
  },
  ERR_HTTP_REQUEST_TIMEOUT: {
    status: 408,
    reason: 'Request Timeout',
    code: 'request_timeout',
    message: 'The request did not arrive in time.',
  },
};

const BAD_REQUEST = {
  status: 400,
  reason: 'Bad Request',
  code: 'invalid_request',
  message: 'The request is not valid HTTP/1.1.',
};

/**
 * Node's own reply to a request it cannot parse is an empty one; this one carries the JSON error shape every
 * other error has. The connection closes after it, as Node's would.
 */
export function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  // A reply already under way on this connection (keep-alive) would be corrupted by a second one, as Node's
  // own handler knows.
  const inFlight = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (error.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  const answer = CLIENT_ERRORS[error.code ?? ''] ?? BAD_REQUEST;
  const body = JSON.stringify(errorBody(answer.code, answer.message));
  socket.end(
    `HTTP/1.1 ${answer.status} ${answer.reason}\r\n` +
      'Content-Type: application/json\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
    () => socket.destroy(),
  );
}

type Fetch = (request: Request) => Response | Promise<Response>;

/**
 * A reply sent while the request body is still arriving (a refused key, a body past its limit) closes the
 * connection: otherwise the server would go on reading, and discarding, whatever the client still sends.
 */
function closingUnreadBodies(fetch: Fetch) {
  return async (request: Request, env: { incoming: IncomingMessage }) => {
    const response = await fetch(request);
    if (env.incoming.complete) return response;
    const headers = new Headers(response.headers);
    headers.set('connection', 'close');
    return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
  };
}

/** Serves `fetch` on `hostname:port` (0 picks a free port); resolves once listening. */
export async function serveApi(options: {
  fetch: Fetch;
  port: number;
  hostname: string;
}): Promise<{ server: Server; port: number }> {
  const server = serve({
    fetch: closingUnreadBodies(options.fetch) as Parameters<typeof serve>[0]['fetch'],
    port: options.port,
    hostname: options.hostname,
    serverOptions: { maxHeaderSize: MAX_HEADER_BYTES },
  }) as Server;
  server.on('clientError', answerClientError);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', () => resolve());
    server.once('error', reject);
  });
  return { server, port: (server.address() as AddressInfo).port };
}
