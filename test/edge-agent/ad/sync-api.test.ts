/**
 * The connector's sync API client against a small HTTP server playing a cloud with run modes and an
 * asynchronous `complete` (202 and a status URL), and one that fails now and then.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SyncApi, SyncApiError } from '../../../edge-agent/ad/sync-api.ts';

const KEY = 'sp.sync.acme.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
let server: http.Server | undefined;
afterEach(() => {
  server?.close();
  server = undefined;
});

async function serve(handler: (req: http.IncomingMessage, body: string) => [number, unknown]) {
  const seen: Array<{ method: string; url: string; body: string; auth: string | undefined }> = [];
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, body, auth: req.headers.authorization });
      const [status, reply] = handler(req, body);
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(reply));
    });
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  const api = new SyncApi({
    apiUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    key: KEY,
    retryDelayMs: 1,
  });
  return { api, seen };
}

describe('the sync API client', () => {
  it('sends the mode, the key, and follows a 202 complete to its result', async () => {
    let polls = 0;
    const result = { created: 1, updated: 2, removed: 3, rejected: 0 };
    const { api, seen } = await serve((req) => {
      if (req.url === '/v1/sync/runs') return [201, { runId: 'run-0000000000000001' }];
      if (req.url?.endsWith('/complete'))
        return [
          202,
          {
            runId: 'run-0000000000000001',
            status: 'completing',
            statusUrl: '/v1/sync/runs/run-0000000000000001',
          },
        ];
      polls++;
      return [200, polls < 3 ? { status: 'completing' } : { status: 'completed', result }];
    });
    expect(await api.startRun('delta')).toEqual({ runId: 'run-0000000000000001' });
    expect(JSON.parse(seen[0]!.body)).toEqual({ mode: 'delta' });
    expect(seen[0]!.auth).toBe(`Bearer ${KEY}`);
    expect(await api.complete('run-0000000000000001', { pollMs: 1 })).toEqual(result);
    expect(polls).toBe(3);
    expect(seen.at(-1)).toMatchObject({ method: 'GET', url: '/v1/sync/runs/run-0000000000000001' });
  });

  it('retries a batch the cloud could not take (5xx), not one it refused (4xx), and never shows the key', async () => {
    let calls = 0;
    const { api } = await serve(() => {
      calls++;
      return calls < 3
        ? [503, { error: { code: 'unavailable', message: 'try again' } }]
        : [200, { accepted: 1, rejected: [] }];
    });
    expect(await api.pushUsers('run-0000000000000001', [])).toEqual({ accepted: 1, rejected: [] });
    expect(calls).toBe(3);

    server?.close();
    calls = 0;
    const refused = await serve(() => {
      calls++;
      return [400, { error: { code: 'invalid_request', message: 'users[0].id: bad' } }];
    });
    const err = await refused.api.pushUsers('run-0000000000000001', []).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SyncApiError);
    expect((err as Error).message).toContain('400 invalid_request');
    expect((err as Error).message).not.toContain(KEY);
    expect(calls).toBe(1);
  });
});
