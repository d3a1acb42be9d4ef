/**
 * The HTTP boundary under an attacker: bodies far past their limit sent without a Content-Length, with and
 * without a genuine key, and the keys of a suspended tenant on every API. Bodies stream in through
 * app.request(), counting what the app pulls, so "stopped reading" is measured, not assumed.
 */
import type { Context } from 'aws-lambda';
import { handle } from 'hono/aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYNC_BATCH_MAX_BYTES } from '../../functions/contracts/sync.ts';
import { mintKey } from '../../functions/core/api-keys.ts';
import { MAX_BODY_BYTES } from '../../functions/http/json-body.ts';
import { type DirectoryFixture, startDirectory } from '../support/directory.ts';
import { httpApiEvent } from '../support/lambda-event.ts';

let t: DirectoryFixture;
beforeAll(async () => {
  t = await startDirectory();
});
afterAll(async () => t?.close());

const MiB = 1024 * 1024;
const OFFERED = 50 * MiB;
const CHUNK = 64 * 1024;

/** A body of `total` bytes (JSON whitespace) that is only produced as it is pulled. */
function streamedBody(total: number) {
  const piece = new Uint8Array(CHUNK).fill(0x20);
  let pulled = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (pulled >= total) return controller.close();
      pulled += CHUNK;
      controller.enqueue(piece.slice());
    },
  });
  return { stream, pulled: () => pulled };
}

interface Sent {
  status: number;
  body: { error?: { code: string; message: string } };
  pulled: number;
}

type App = { request(path: string, init: RequestInit): Response | Promise<Response> };

/** Sends `total` bytes without a Content-Length; reports how many the app pulled and the RSS it cost. */
async function sendStreamed(app: App, method: string, path: string, key: string, total = OFFERED) {
  const body = streamedBody(total);
  const rss = process.memoryUsage().rss;
  const res = await app.request(path, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: body.stream,
    duplex: 'half',
  } as RequestInit);
  const sent: Sent = { status: res.status, body: (await res.json()) as Sent['body'], pulled: body.pulled() };
  console.log(
    `${method} ${path.replace(/\/runs\/[^/]+/, '/runs/{runId}')}: offered ${total / MiB} MiB, pulled ` +
      `${(sent.pulled / 1024).toFixed(0)} KiB, RSS ${((process.memoryUsage().rss - rss) / MiB).toFixed(1)} MiB more`,
  );
  return sent;
}

const unknownKey = (kind: 'auth' | 'sync' | 'admin') => mintKey(kind, 'acme').key;

describe('bodies past their limit, streamed without a Content-Length', () => {
  it('answers an unknown auth key with 401 after reading no more than the 16 KiB limit', async () => {
    const sent = await sendStreamed(t.app, 'POST', '/v1/challenges', unknownKey('auth'));
    expect(sent.status).toBe(401);
    expect(sent.body.error?.code).toBe('unauthorized');
    expect(sent.pulled).toBeLessThanOrEqual(MAX_BODY_BYTES + 2 * CHUNK);
  });

  it('answers an unknown auth key on verify with 401, reading no more than the limit', async () => {
    const sent = await sendStreamed(
      t.app,
      'POST',
      '/v1/challenges/AAAAAAAAAAAAAAAAAAAAAA/verify',
      unknownKey('auth'),
    );
    expect(sent.status).toBe(401);
    expect(sent.pulled).toBeLessThanOrEqual(MAX_BODY_BYTES + 2 * CHUNK);
  });

  it('answers a valid auth key with 413 payload_too_large, reading no more than the limit', async () => {
    const sent = await sendStreamed(t.app, 'POST', '/v1/challenges', t.seed.keys.auth);
    expect(sent.status).toBe(413);
    expect(sent.body).toEqual({
      error: { code: 'payload_too_large', message: expect.stringContaining(String(MAX_BODY_BYTES)) },
    });
    expect(sent.pulled).toBeLessThanOrEqual(MAX_BODY_BYTES + 2 * CHUNK);
  });

  it('refuses an unknown sync key before reading the batch at all', async () => {
    const runId = (await t.call(t.sync, 'POST', '/v1/sync/runs', t.seed.keys.sync)).body.runId as string;
    const sent = await sendStreamed(t.sync, 'PUT', `/v1/sync/runs/${runId}/users`, unknownKey('sync'));
    expect(sent.status).toBe(401);
    expect(sent.body.error?.code).toBe('unauthorized');
    expect(sent.pulled).toBeLessThanOrEqual(2 * CHUNK);
  });

  it('answers a valid sync key with 413 once the batch passes 5 MiB, not after the whole body', async () => {
    const runId = (await t.call(t.sync, 'POST', '/v1/sync/runs', t.seed.keys.sync)).body.runId as string;
    const sent = await sendStreamed(t.sync, 'PUT', `/v1/sync/runs/${runId}/users`, t.seed.keys.sync);
    expect(sent.status).toBe(413);
    expect(sent.body.error?.code).toBe('payload_too_large');
    expect(sent.pulled).toBeLessThanOrEqual(SYNC_BATCH_MAX_BYTES + 2 * CHUNK);
  });

  it('refuses unknown admin and operator keys before reading the body', async () => {
    for (const [app, path] of [
      [t.admin, '/v1/keys'],
      [t.admin, '/v1/modem-groups'],
      [t.operator, '/v1/operator/tenants'],
    ] as const) {
      const key = app === t.operator ? mintKey('operator', '').key : unknownKey('admin');
      const sent = await sendStreamed(app, 'POST', path, key);
      expect(sent.status, path).toBe(401);
      expect(sent.pulled, path).toBeLessThanOrEqual(2 * CHUNK);
    }
  });

  it('caps a body whose Content-Length understates it', async () => {
    const body = streamedBody(OFFERED);
    const res = await t.app.request('/v1/challenges', {
      method: 'POST',
      headers: {
        authorization: `Bearer ${t.seed.keys.auth}`,
        'content-type': 'application/json',
        'content-length': '20',
      },
      body: body.stream,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(body.pulled()).toBeLessThanOrEqual(MAX_BODY_BYTES + 2 * CHUNK);
  });

  it('still answers an unknown key with 401 when its small body is not JSON', async () => {
    const res = await t.app.request('/v1/challenges', {
      method: 'POST',
      headers: { authorization: `Bearer ${unknownKey('auth')}`, 'content-type': 'application/json' },
      body: '{"username":',
    });
    expect(res.status).toBe(401);
    const genuine = await t.app.request('/v1/challenges', {
      method: 'POST',
      headers: { authorization: `Bearer ${t.seed.keys.auth}`, 'content-type': 'application/json' },
      body: '{"username":',
    });
    expect(genuine.status).toBe(400);
  });
});

describe('the limit behind API Gateway, where the body arrives as one string', () => {
  const event = (body: string, headers: Record<string, string>) =>
    httpApiEvent('POST', '/v1/challenges', body, headers);

  it('answers 413 to a body past the limit with no Content-Length, and to one that understates it', async () => {
    const big = JSON.stringify({ username: 'alice', pad: 'x'.repeat(MAX_BODY_BYTES) });
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${t.seed.keys.auth}` };
    for (const extra of [{}, { 'content-length': '20' }] as Array<Record<string, string>>) {
      const res = await handle(t.app)(event(big, { ...headers, ...extra }), {} as Context);
      expect(res.statusCode).toBe(413);
      expect(JSON.parse(res.body).error.code).toBe('payload_too_large');
    }
    const small = JSON.stringify({ username: 'alice' });
    const ok = await handle(t.app)(event(small, headers), {} as Context);
    expect(ok.statusCode).toBe(201);
  });
});

describe("a suspended tenant's keys", () => {
  it('get the same 401 unauthorized from every API, whatever kind of key meets whatever API', async () => {
    const operator = t.seed.keys.operator;
    const created = await t.call(t.operator, 'POST', '/v1/operator/tenants', operator, {
      id: 'dormant',
      name: 'Dormant',
      defaultCountry: 'DK',
      userLimit: 10,
    });
    expect(created.status).toBe(201);
    const admin = created.body.adminKey as string;
    const mint = async (kind: 'auth' | 'sync') => {
      const res = await t.call(t.admin, 'POST', '/v1/keys', admin, { kind });
      expect(res.status).toBe(201);
      return res.body.key as string;
    };
    const keys = { admin, auth: await mint('auth'), sync: await mint('sync') };
    const auth = (method: string, path: string, body?: unknown) =>
      t.app.request(path, {
        method,
        headers: { authorization: `Bearer ${keys.auth}`, 'content-type': 'application/json' },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
    const opened = await auth('POST', '/v1/challenges', { username: 'nobody' });
    expect(opened.status).toBe(201);
    const { challengeId } = (await opened.json()) as { challengeId: string };
    const runId = (await t.call(t.sync, 'POST', '/v1/sync/runs', keys.sync)).body.runId as string;
    expect(runId).toBeTruthy();

    expect((await t.call(t.operator, 'POST', '/v1/operator/tenants/dormant/suspend', operator)).status).toBe(
      200,
    );

    const replies: Array<[string, number, unknown]> = [];
    const record = async (label: string, res: Response | Promise<Response>) => {
      const r = await res;
      replies.push([label, r.status, await r.json()]);
    };
    const call = (app: App, method: string, path: string, key: string, body?: unknown) =>
      app.request(path, {
        method,
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
    await record('auth create', auth('POST', '/v1/challenges', { username: 'nobody' }));
    await record('auth verify', auth('POST', `/v1/challenges/${challengeId}/verify`, { passcode: '123456' }));
    await record('auth status', auth('GET', `/v1/challenges/${challengeId}`));
    await record('auth resend', auth('POST', `/v1/challenges/${challengeId}/resend`));
    await record('sync run', call(t.sync, 'POST', '/v1/sync/runs', keys.sync));
    await record('sync batch', call(t.sync, 'PUT', `/v1/sync/runs/${runId}/users`, keys.sync, { users: [] }));
    await record('sync complete', call(t.sync, 'POST', `/v1/sync/runs/${runId}/complete`, keys.sync));
    await record('admin users', call(t.admin, 'GET', '/v1/users', keys.admin));
    await record('admin keys', call(t.admin, 'GET', '/v1/keys', keys.admin));
    await record('admin lockouts', call(t.admin, 'GET', '/v1/lockouts/nobody', keys.admin));
    await record('admin audit', call(t.admin, 'GET', '/v1/audit', keys.admin));
    // A key on an API of another kind: for an active tenant that is 403, which would vouch for the key here.
    for (const [kind, key] of Object.entries(keys)) {
      if (kind !== 'admin') await record(`${kind} key on admin`, call(t.admin, 'GET', '/v1/users', key));
      if (kind !== 'sync') await record(`${kind} key on sync`, call(t.sync, 'POST', '/v1/sync/runs', key));
      if (kind !== 'auth')
        await record(
          `${kind} key on auth`,
          call(t.app, 'POST', '/v1/challenges', key, { username: 'nobody' }),
        );
      await record(`${kind} key on operator`, call(t.operator, 'GET', '/v1/operator/tenants', key));
    }

    const expected = {
      error: {
        code: 'unauthorized',
        message: 'A valid API key is required: send it as "Authorization: Bearer <key>".',
      },
    };
    for (const [label, status, body] of replies) {
      expect(status, label).toBe(401);
      expect(body, label).toEqual(expected);
    }
    expect(replies.length).toBe(20);

    // The same keys of an active tenant, on an API of another kind, still get the 403 that names the mistake.
    expect((await t.call(t.operator, 'POST', '/v1/operator/tenants/dormant/resume', operator)).status).toBe(
      200,
    );
    expect((await call(t.admin, 'GET', '/v1/users', keys.sync)).status).toBe(403);
    expect((await call(t.admin, 'GET', '/v1/users', keys.admin)).status).toBe(200);
  });
});
