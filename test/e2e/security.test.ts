/** Keys, lockouts and the API document over HTTP on the local stack, routed as API Gateway routes them. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../functions/adapters/log.ts';
import { type LocalStack, startLocalStack } from '../../functions/local/stack.ts';

let stack: LocalStack;
beforeAll(async () => {
  stack = await startLocalStack({ edge: false, log: createLogger({}, { level: 'warn', write: () => {} }) });
});
afterAll(async () => stack?.stop());

const call = (path: string, key: string | undefined, init: RequestInit = {}) =>
  fetch(`${stack.json.apiUrl}${path}`, {
    ...init,
    headers: {
      ...(key && { authorization: `Bearer ${key}` }),
      'content-type': 'application/json',
      ...(init.headers as object),
    },
  });

describe('admin security routes on the local stack', () => {
  it('mints an auth key that works at once and stops working the moment it is revoked', async () => {
    const minted = await call('/v1/keys', stack.json.adminKey, { method: 'POST', body: '{"kind":"auth"}' });
    expect(minted.status).toBe(201);
    expect(minted.headers.get('cache-control')).toBe('no-store');
    const { key, prefix } = (await minted.json()) as { key: string; prefix: string };
    const body = JSON.stringify({ username: 'alice', client: { ip: '203.0.113.7' } });
    expect((await call('/v1/challenges', key, { method: 'POST', body })).status).toBe(201);
    expect((await call(`/v1/keys/${prefix}`, stack.json.adminKey, { method: 'DELETE' })).status).toBe(200);
    expect((await call('/v1/challenges', key, { method: 'POST', body })).status).toBe(401);
  });

  it('refuses an auth key on the admin routes', async () => {
    for (const path of ['/v1/keys', '/v1/lockouts/alice']) {
      const res = await call(path, stack.json.authKey);
      expect([401, 403]).toContain(res.status);
    }
  });

  it('serves the OpenAPI document without a key', async () => {
    const res = await call('/v1/openapi.json', undefined);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/v1/challenges',
        '/v1/sync/runs/{runId}/users',
        '/v1/keys',
        '/v1/group-policies',
      ]),
    );
  });

  it("lifts a failure lock with the user admin's unlock, not only with the lockout route", async () => {
    const body = JSON.stringify({ username: 'bob', client: { ip: '203.0.113.9' } });
    let locked: Response | undefined;
    for (let round = 0; round < 20 && !locked; round++) {
      const created = await call('/v1/challenges', stack.json.authKey, { method: 'POST', body });
      if (created.status === 423) {
        locked = created;
        break;
      }
      const { challengeId } = (await created.json()) as { challengeId: string };
      for (let i = 0; i < 3; i++) {
        await call(`/v1/challenges/${challengeId}/verify`, stack.json.authKey, {
          method: 'POST',
          body: JSON.stringify({ passcode: 'wrong-code' }),
        });
      }
    }
    expect(locked?.status).toBe(423);
    const unlocked = await call('/v1/users/bob/unlock', stack.json.adminKey, { method: 'POST' });
    expect(unlocked.status).toBe(200);
    expect((await call('/v1/challenges', stack.json.authKey, { method: 'POST', body })).status).toBe(201);
  });
});
