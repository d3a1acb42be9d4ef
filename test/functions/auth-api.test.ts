import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DispatchMessage } from '../../functions/contracts/queue.ts';
import { openDispatchPayload } from '../../functions/core/dispatch.ts';
import { type CloudFixture, jsonRequest, startCloud, TABLE } from '../support/cloud.ts';

let cloud: CloudFixture;
beforeAll(async () => {
  cloud = await startCloud();
});
afterAll(async () => cloud?.close());

async function countChallenges() {
  const out = await cloud.dynamo.send(
    new ScanCommand({
      TableName: TABLE,
      FilterExpression: 'begins_with(pk, :p)',
      ExpressionAttributeValues: { ':p': { S: 'CH#' } },
    }),
  );
  return out.Count ?? 0;
}

async function create(username = 'alice', key = cloud.seed.keys.auth) {
  const res = await cloud.app.request(
    '/v1/challenges',
    jsonRequest({ username, client: { ip: '203.0.113.7', name: 'vpn-gw-1' } }, key),
  );
  return { res, body: (await res.json()) as Record<string, unknown> };
}

/** Reads the code the way an SMS would carry it: from the sealed dispatch message. */
async function codeFromQueue(): Promise<string> {
  const [body] = await cloud.drainQueue();
  const message = DispatchMessage.parse(JSON.parse(body!));
  const { text } = openDispatchPayload(cloud.keys, message);
  return /code is (\d+)/.exec(text)![1]!;
}

describe('POST /v1/challenges', () => {
  it('creates a challenge, stores only a hash of the code, and queues one sealed dispatch job', async () => {
    await cloud.drainQueue();
    const { res, body } = await create();
    expect(res.status).toBe(201);
    expect(body).toEqual({
      challengeId: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/),
      expiresAt: expect.any(String),
      channel: 'sms',
      destination: '+45 •• •• •• 56',
    });
    const stored = await cloud.stores.challenges.get('acme', String(body.challengeId), true);
    expect(stored?.status).toBe('pending');
    expect(stored?.codeHash).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const code = await codeFromQueue().catch(() => '');
    expect(code).toMatch(/^\d{6}$/);
    expect(JSON.stringify(stored)).not.toContain(code);
  });

  it('answers an unknown user with the same shape and queues nothing', async () => {
    await cloud.drainQueue();
    const { res, body } = await create('mallory');
    expect(res.status).toBe(201);
    expect(Object.keys(body).sort()).toEqual(['challengeId', 'channel', 'destination', 'expiresAt']);
    expect(String(body.destination)).toMatch(/^\+45 •• •• •• \d\d$/);
    const again = await create('mallory');
    expect(again.body.destination).toBe(body.destination);
    // The drain does not delete, so an earlier test's message may come round again: only ours must be absent.
    const queued = (await cloud.drainQueue()).map((m) => JSON.parse(m).challengeId);
    expect(queued).not.toContain(body.challengeId);
    expect(queued).not.toContain(again.body.challengeId);
  });

  const bad: Array<[string, RequestInit, number, string]> = [
    ['malformed JSON', jsonRequest('{"username":'), 400, 'invalid_request'],
    ['a wrong type', jsonRequest({ username: 42 }), 400, 'invalid_request'],
    ['an unknown field', jsonRequest({ username: 'alice', admin: true }), 400, 'invalid_request'],
    ['a username with control characters', jsonRequest({ username: 'al\u0000ice' }), 400, 'invalid_request'],
    ['a 10,000-character username', jsonRequest({ username: 'a'.repeat(10_000) }), 400, 'invalid_request'],
    [
      'a bad client ip',
      jsonRequest({ username: 'alice', client: { ip: 'not-an-ip' } }),
      400,
      'invalid_request',
    ],
    [
      'an oversized body',
      jsonRequest({ username: 'alice', pad: 'x'.repeat(100_000) }),
      413,
      'payload_too_large',
    ],
    [
      'a non-JSON content type',
      { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'alice' },
      400,
      'invalid_request',
    ],
  ];
  for (const [what, init, status, code] of bad) {
    it(`refuses ${what} with ${status} ${code} and stores nothing`, async () => {
      const before = await countChallenges();
      const headers = {
        ...(init.headers as Record<string, string>),
        authorization: `Bearer ${cloud.seed.keys.auth}`,
      };
      const res = await cloud.app.request('/v1/challenges', { ...init, headers });
      expect(res.status).toBe(status);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe(code);
      expect(body.error.message.length).toBeGreaterThan(5);
      expect(await countChallenges()).toBe(before);
    });
  }

  const badKeys: Array<[string, Record<string, string>]> = [
    ['no key', {}],
    ['a malformed key', { authorization: 'Bearer nope' }],
    ['a wrong secret', { authorization: `Bearer ${'sp.auth.acme.'}${'A'.repeat(32)}` }],
    ['a basic auth header', { authorization: 'Basic YWxpY2U6c2VjcmV0' }],
  ];
  for (const [what, headers] of badKeys) {
    it(`refuses ${what} with 401 and stores nothing`, async () => {
      const before = await countChallenges();
      const res = await cloud.app.request(
        '/v1/challenges',
        jsonRequest({ username: 'alice' }, undefined, { headers }),
      );
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
      expect(await countChallenges()).toBe(before);
    });
  }

  it('refuses keys of another kind: sync, admin and operator keys cannot create challenges', async () => {
    for (const key of [cloud.seed.keys.sync, cloud.seed.keys.admin, cloud.seed.keys.operator]) {
      const { res } = await create('alice', key);
      expect(res.status).toBe(401);
    }
  });

  it('answers unknown routes with the JSON error shape', async () => {
    const res = await cloud.app.request('/v1/nothing');
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { code: 'not_found', message: expect.any(String) } });
  });
});

describe('verify and status', () => {
  it('accepts the right code once, and never again', async () => {
    await cloud.drainQueue();
    const { body } = await create();
    const code = await codeFromQueue();
    const id = String(body.challengeId);
    const first = await cloud.app.request(
      `/v1/challenges/${id}/verify`,
      jsonRequest({ passcode: code }, cloud.seed.keys.auth),
    );
    expect(await first.json()).toEqual({ result: 'accept' });
    const again = await cloud.app.request(
      `/v1/challenges/${id}/verify`,
      jsonRequest({ passcode: code }, cloud.seed.keys.auth),
    );
    expect(await again.json()).toEqual({ result: 'reject', reason: 'used', attemptsLeft: 0 });
    const status = await cloud.app.request(`/v1/challenges/${id}`, {
      headers: { authorization: `Bearer ${cloud.seed.keys.auth}` },
    });
    expect(await status.json()).toEqual({ status: 'accepted', deliveries: [] });
  });

  it('counts wrong codes down to a dead challenge that then refuses even the right code', async () => {
    await cloud.drainQueue();
    const { body } = await create();
    const code = await codeFromQueue();
    const id = String(body.challengeId);
    const wrong = code === '000000' ? '111111' : '000000';
    const replies = [];
    for (let i = 0; i < 3; i++) {
      const res = await cloud.app.request(
        `/v1/challenges/${id}/verify`,
        jsonRequest({ passcode: wrong }, cloud.seed.keys.auth),
      );
      replies.push(await res.json());
    }
    expect(replies).toEqual([
      { result: 'reject', reason: 'wrong', attemptsLeft: 2 },
      { result: 'reject', reason: 'wrong', attemptsLeft: 1 },
      { result: 'reject', reason: 'wrong', attemptsLeft: 0 },
    ]);
    const right = await cloud.app.request(
      `/v1/challenges/${id}/verify`,
      jsonRequest({ passcode: code }, cloud.seed.keys.auth),
    );
    expect(await right.json()).toEqual({ result: 'reject', reason: 'locked', attemptsLeft: 0 });
  });

  it('gives exactly one accept to twenty simultaneous verifies with the right code', async () => {
    await cloud.drainQueue();
    const { body } = await create();
    const code = await codeFromQueue();
    const id = String(body.challengeId);
    const replies = await Promise.all(
      Array.from({ length: 20 }, () =>
        Promise.resolve(
          cloud.app.request(
            `/v1/challenges/${id}/verify`,
            jsonRequest({ passcode: code }, cloud.seed.keys.auth),
          ),
        ).then((r) => r.json()),
      ),
    );
    expect(replies.filter((r) => (r as { result: string }).result === 'accept')).toHaveLength(1);
  });

  it("keeps tenants apart: another tenant's key sees neither the challenge nor can verify it", async () => {
    await cloud.drainQueue();
    const { body } = await create();
    const code = await codeFromQueue();
    const id = String(body.challengeId);
    const foreign = cloud.other.keys.auth;
    const view = await cloud.app.request(`/v1/challenges/${id}`, {
      headers: { authorization: `Bearer ${foreign}` },
    });
    expect(view.status).toBe(404);
    const verify = await cloud.app.request(
      `/v1/challenges/${id}/verify`,
      jsonRequest({ passcode: code }, foreign),
    );
    expect(verify.status).toBe(404);
    const own = await cloud.app.request(
      `/v1/challenges/${id}/verify`,
      jsonRequest({ passcode: code }, cloud.seed.keys.auth),
    );
    expect(await own.json()).toEqual({ result: 'accept' });
  });

  it('never accepts a decoy challenge of an unknown user', async () => {
    const { body } = await create('nobody');
    const res = await cloud.app.request(
      `/v1/challenges/${body.challengeId}/verify`,
      jsonRequest({ passcode: '123456' }, cloud.seed.keys.auth),
    );
    expect(((await res.json()) as { result: string }).result).toBe('reject');
  });

  it('answers 404 for a challenge id that does not exist or cannot be one', async () => {
    for (const id of ['A'.repeat(22), '..%2F..', 'x']) {
      const res = await cloud.app.request(`/v1/challenges/${id}`, {
        headers: { authorization: `Bearer ${cloud.seed.keys.auth}` },
      });
      expect(res.status).toBe(404);
    }
  });

  it('never writes a passcode or a key into a log line', async () => {
    await cloud.drainQueue();
    const { body } = await create();
    const code = await codeFromQueue();
    await cloud.app.request(
      `/v1/challenges/${body.challengeId}/verify`,
      jsonRequest({ passcode: code }, cloud.seed.keys.auth),
    );
    const all = cloud.logLines.join('\n');
    expect(cloud.logLines.length).toBeGreaterThan(0);
    expect(all).not.toContain(code);
    for (const key of Object.values(cloud.seed.keys)) expect(all).not.toContain(key.split('.')[3]);
    expect(all).not.toMatch(/\+45\d{8}/);
  });
});
