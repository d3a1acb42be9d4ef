/**
 * The local stack's HTTP server under an attacker: headers past Node's limit, and chunked bodies far past the
 * API's limit, sent over a real socket. Counts what the client managed to hand the server before the reply
 * and the closed connection stopped it.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../functions/adapters/log.ts';
import { SYNC_BATCH_MAX_BYTES } from '../../functions/contracts/sync.ts';
import { mintKey } from '../../functions/core/api-keys.ts';
import { type LocalStack, startLocalStack } from '../../functions/local/stack.ts';

let stack: LocalStack;
beforeAll(async () => {
  stack = await startLocalStack({ edge: false, log: createLogger({}, { level: 'warn', write: () => {} }) });
});
afterAll(async () => stack?.stop());

const MiB = 1024 * 1024;
const OFFERED = 50 * MiB;
/** Loopback socket buffers on both ends hold a few MiB the server never asked for; far below what is offered. */
const SOCKET_SLACK = 16 * MiB;

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One raw request; `headers` may be as large as the test likes. */
function rawRequest(
  path: string,
  headers: Record<string, string>,
  method = 'GET',
  body?: string,
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(`${stack.json.apiUrl}${path}`, { method, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Streams up to `total` bytes with Transfer-Encoding: chunked, as fast as the server takes them. */
function pushChunked(method: string, path: string, key: string, total = OFFERED) {
  return new Promise<Reply & { written: number }>((resolve, reject) => {
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    let written = 0;
    let answered = false;
    const rss = process.memoryUsage().rss;
    const req = request(`${stack.json.apiUrl}${path}`, {
      method,
      agent: false,
      headers: {
        authorization: `Bearer ${key}`,
        'content-type': 'application/json',
        'transfer-encoding': 'chunked',
      },
    });
    const pump = () => {
      while (!answered && written < total) {
        written += chunk.length;
        if (!req.write(chunk)) {
          req.once('drain', pump);
          return;
        }
      }
      if (!answered) req.end();
    };
    req.on('response', (res) => {
      answered = true;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () => {
        console.log(
          `${method} ${path.replace(/\/runs\/[^/]+/, '/runs/{runId}')} over HTTP: offered ${total / MiB} MiB, ` +
            `written ${(written / MiB).toFixed(1)} MiB, RSS ${((process.memoryUsage().rss - rss) / MiB).toFixed(1)} MiB more`,
        );
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, written });
      });
    });
    // Writing into a connection the server has closed fails; the reply is what counts.
    req.on('error', (error) => {
      if (!answered) reject(error);
    });
    pump();
  });
}

describe('requests Node refuses before any app sees them', () => {
  it('answers headers over 16 KiB with 431 and the JSON error shape', async () => {
    const res = await rawRequest('/v1/challenges', { 'x-padding': 'a'.repeat(20 * 1024) });
    expect(res.status).toBe(431);
    expect(res.headers['content-type']).toBe('application/json');
    expect(JSON.parse(res.body)).toEqual({
      error: { code: 'header_too_large', message: expect.stringContaining('16384') },
    });
  });

  it('answers a URL over 16 KiB the same way', async () => {
    const res = await rawRequest(`/v1/challenges/${'a'.repeat(20 * 1024)}`, {});
    expect(res.status).toBe(431);
    expect(JSON.parse(res.body).error.code).toBe('header_too_large');
  });

  it('answers a request that is not HTTP with 400 invalid_request in the same shape', async () => {
    const res = await rawRequest('/v1/challenges', { 'content-length': 'twelve' }, 'POST');
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body).error.code).toBe('invalid_request');
  });

  it('keeps serving after all of that', async () => {
    const res = await rawRequest('/v1/openapi.json', {});
    expect(res.status).toBe(200);
  });
});

describe('chunked bodies far past the limit, over a real socket', () => {
  it('answers an unknown auth key with 401 and closes instead of reading on', async () => {
    const res = await pushChunked('POST', '/v1/challenges', mintKey('auth', stack.json.tenantId).key);
    expect(res.status).toBe(401);
    expect(JSON.parse(res.body).error.code).toBe('unauthorized');
    expect(res.headers.connection).toBe('close');
    expect(res.written).toBeLessThan(SOCKET_SLACK);
  });

  it('answers a valid auth key with 413 and closes instead of reading on', async () => {
    const res = await pushChunked('POST', '/v1/challenges', stack.json.authKey);
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body).error.code).toBe('payload_too_large');
    expect(res.written).toBeLessThan(SOCKET_SLACK);
  });

  it('answers an unknown sync key with 401 without reading the batch', async () => {
    const res = await pushChunked(
      'PUT',
      '/v1/sync/runs/AAAAAAAAAAAAAAAAAAAAAA/users',
      mintKey('sync', 'x').key,
    );
    expect(res.status).toBe(401);
    expect(res.written).toBeLessThan(SOCKET_SLACK);
  });

  it('answers a valid sync key with 413 soon after the 5 MiB batch limit', async () => {
    const start = await fetch(`${stack.json.apiUrl}/v1/sync/runs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.json.syncKey}` },
    });
    const { runId } = (await start.json()) as { runId: string };
    const res = await pushChunked('PUT', `/v1/sync/runs/${runId}/users`, stack.json.syncKey);
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body).error.code).toBe('payload_too_large');
    expect(res.written).toBeLessThan(SYNC_BATCH_MAX_BYTES + SOCKET_SLACK);
  });

  it('keeps the connection open after a reply to a body it read in full', async () => {
    const body = JSON.stringify({ username: 'alice', client: { ip: '203.0.113.40' } });
    const headers = { authorization: `Bearer ${stack.json.authKey}`, 'content-type': 'application/json' };
    const res = await rawRequest('/v1/challenges', { ...headers, connection: 'keep-alive' }, 'POST', body);
    expect(res.status).toBe(201);
    expect(res.headers.connection).toBe('keep-alive');
  });
});
