/** A real HTTP server on 127.0.0.1 that stands in for a tenant's SMS or voice provider. */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export type Responder = (req: SeenRequest, res: ServerResponse) => unknown;

export interface HttpPeer {
  url: string;
  seen: SeenRequest[];
  /** Sets how the next requests are answered, by path. */
  on(path: string, responder: Responder): void;
  close(): Promise<void>;
}

export async function startHttpPeer(): Promise<HttpPeer> {
  const seen: SeenRequest[] = [];
  const routes = new Map<string, Responder>();
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const request = {
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      body: Buffer.concat(chunks).toString('utf8'),
    };
    seen.push(request);
    const path = new URL(request.url, 'http://x').pathname;
    const responder = routes.get(path);
    if (!responder) {
      res.writeHead(404).end();
      return;
    }
    await responder(request, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    on: (path, responder) => routes.set(path, responder),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export const json = (status: number, body: unknown) => (_req: SeenRequest, res: ServerResponse) => {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
};
