/**
 * An attacker who fires hundreds of guesses at once must get no more verdicts than the budget: `maxAttempts`
 * per challenge, and the lockout threshold per user across all of the user's challenges. The right code is
 * hidden among the guesses at a random place, as it would be in a real attack.
 */

import { randomInt } from 'node:crypto';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { challengeItem } from '../../functions/adapters/dynamo/keys.ts';
import { buildAdminApp } from '../../functions/deps.ts';
import type { DemoSeed } from '../../functions/local/seed.ts';
import { TABLE } from '../support/cloud.ts';
import { type SecurityFixture, startSecurityFixture } from '../support/security.ts';

let fx: SecurityFixture;
beforeAll(async () => {
  fx = await startSecurityFixture();
});
afterAll(async () => fx?.close());

async function open(t: DemoSeed, username: string): Promise<{ id: string; code: string }> {
  const created = await fx.create(t, username, { ip: '203.0.113.7' });
  expect(created.status).toBe(201);
  const id = String(created.body.challengeId);
  const sent = (await fx.sent()).get(id);
  return { id, code: fx.codeOf(sent!.text) };
}

/** `n` distinct wrong six-digit guesses with the right code at a random place among them. */
function guessesHiding(code: string, n: number): string[] {
  const wrong = new Set<string>();
  while (wrong.size < n - 1) {
    const guess = String(randomInt(0, 1_000_000)).padStart(6, '0');
    if (guess !== code) wrong.add(guess);
  }
  const all = [...wrong];
  all.splice(randomInt(0, n), 0, code);
  return all;
}

async function storedAttempts(tenantId: string, id: string): Promise<number> {
  const out = await fx.cloud.dynamo.send(
    new GetItemCommand({ TableName: TABLE, Key: marshallKey(tenantId, id), ConsistentRead: true }),
  );
  return Number(unmarshall(out.Item!).attempts);
}

const marshallKey = (tenantId: string, id: string) => {
  const { pk, sk } = challengeItem(tenantId, id);
  return { pk: { S: pk }, sk: { S: sk } };
};

describe('the guess budget under parallel verifies', () => {
  it('gives each challenge at most maxAttempts verdicts, however many guesses arrive at once', {
    timeout: 180_000,
  }, async () => {
    const t = await fx.tenant(
      'gb-challenge',
      {
        // A lockout far above the challenges' own budget, so that the per-challenge limit is what stops them.
        security: { lockout: { maxFailures: 100, lockSeconds: 600 } },
      },
      Array.from({ length: 10 }, (_, i) => ({ username: `user${i}` })),
    );
    const rounds = 10;
    // Fewer than the lockout threshold, so that every guess passes the user's guard and only the slots limit them.
    const perChallenge = 95;
    let found = 0;
    let verdicts = 0;
    for (let round = 0; round < rounds; round++) {
      // A user each, so that every challenge meets an untouched guard and only its own limit is at work.
      const { id, code } = await open(t, `user${round}`);
      const replies = await Promise.all(guessesHiding(code, perChallenge).map((g) => fx.verify(t, id, g)));
      const accepted = replies.filter((r) => r.body.result === 'accept').length;
      const wrong = replies.filter((r) => r.body.reason === 'wrong').length;
      // Every reply is an answer from the contract: no 5xx, whatever the race.
      for (const r of replies) expect([200, 423, 429]).toContain(r.status);
      expect(accepted + wrong).toBeLessThanOrEqual(3);
      expect(accepted + wrong).toBeGreaterThan(0);
      expect(await storedAttempts(t.tenantId, id)).toBeLessThanOrEqual(3);
      found += accepted;
      verdicts += accepted + wrong;
    }
    console.log(
      `per-challenge budget: ${rounds} challenges × ${perChallenge} parallel guesses → ${verdicts} verdicts ` +
        `(budget ${rounds * 3}), hidden code found ${found} of ${rounds} (expected ≈ ${((rounds * 3) / perChallenge).toFixed(2)})`,
    );
    // Three verdicts out of 95 find the code with p ≈ 0.03 each: four or more finds in ten is p < 0.001.
    expect(found).toBeLessThanOrEqual(3);
  });

  it("gives a user at most the lockout threshold of wrong verdicts across all the user's challenges", {
    timeout: 180_000,
  }, async () => {
    const maxFailures = 10;
    const t = await fx.tenant(
      'gb-user',
      { security: { lockout: { maxFailures, lockSeconds: 600 }, limits: { perUser: 100 } } },
      [{ username: 'bob' }],
    );
    const opened = [];
    for (let i = 0; i < 8; i++) opened.push(await open(t, 'bob'));
    const shots = opened.flatMap(({ id, code }) => guessesHiding(code, 60).map((g) => ({ id, g })));
    const replies = await Promise.all(shots.map(({ id, g }) => fx.verify(t, id, g)));
    const accepted = replies.filter((r) => r.body.result === 'accept').length;
    const wrongReplies = replies.filter((r) => r.body.reason === 'wrong').length;
    for (const r of replies) expect([200, 423, 429]).toContain(r.status);
    // Each settled verdict took a slot on its challenge: the slots add up to every guess ever acted on.
    let settled = 0;
    for (const { id } of opened) settled += await storedAttempts(t.tenantId, id);
    const wrongSettled = settled - accepted;
    console.log(
      `per-user budget: ${shots.length} parallel guesses over ${opened.length} challenges → ${wrongSettled} wrong ` +
        `verdicts (threshold ${maxFailures}), ${wrongReplies} answered "wrong", ${accepted} accepted`,
    );
    // A success starts the consecutive count again, so each accept may be followed by another threshold.
    expect(wrongSettled).toBeLessThanOrEqual(maxFailures * (accepted + 1));
    expect(accepted).toBeLessThanOrEqual(2);
    if (accepted === 0) {
      // Locked now: the right code of every challenge is refused, whatever state the storm left it in.
      for (const { id, code } of opened) {
        const after = await fx.verify(t, id, code);
        expect(after.body.result).not.toBe('accept');
        expect(after.status === 423 || after.body.reason === 'locked').toBe(true);
      }
    }
  });

  it('accepts nothing once the user is locked, not even the right code of a challenge opened before', async () => {
    const t = await fx.tenant('gb-lock', { security: { lockout: { maxFailures: 3, lockSeconds: 600 } } }, [
      { username: 'carol' },
    ]);
    const a = await open(t, 'carol');
    const b = await open(t, 'carol');
    const wrongFor = (code: string) => (code === '000000' ? '111111' : '000000');
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await fx.verify(t, a.id, wrongFor(a.code))).status);
    expect(statuses).toEqual([200, 200, 423]);
    // The first guess on the other challenge is the right one, and it still meets the lock.
    const right = await fx.verify(t, b.id, b.code);
    expect(right.status).toBe(423);
    expect(right.body).toMatchObject({ error: { code: 'user_locked' } });
    expect(await fx.verify(t, b.id, b.code)).toMatchObject({ body: { result: 'reject', reason: 'locked' } });
  });

  it("stops a challenge's right code while an admin holds the user locked, and takes it again after the unlock", async () => {
    const t = await fx.tenant('gb-admin', {}, [{ username: 'dave' }]);
    const opened = await open(t, 'dave');
    const admin = buildAdminApp({
      dynamo: fx.cloud.dynamo,
      table: TABLE,
      log: fx.cloud.log,
      clock: fx.clock,
    });
    const call = (action: string) =>
      admin.request(`/v1/users/dave/${action}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${t.keys.admin}` },
      });
    expect((await call('lock')).status).toBe(200);
    expect((await fx.verify(t, opened.id, opened.code)).status).toBe(423);
    expect((await fx.create(t, 'dave')).status).toBe(423);
    expect((await call('unlock')).status).toBe(200);
    const again = await open(t, 'dave');
    expect((await fx.verify(t, again.id, again.code)).body).toEqual({ result: 'accept' });
  });
});
