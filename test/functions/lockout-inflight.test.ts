/** A lock stops the challenges opened before it too, not only new ones. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DispatchMessage } from '../../functions/contracts/queue.ts';
import { openDispatchPayload } from '../../functions/core/dispatch.ts';
import { type CloudFixture, jsonRequest, startCloud } from '../support/cloud.ts';

let cloud: CloudFixture;
beforeAll(async () => {
  cloud = await startCloud();
});
afterAll(async () => cloud?.close());

async function open(username: string): Promise<{ id: string; code: string }> {
  await cloud.drainQueue();
  const res = await cloud.app.request('/v1/challenges', jsonRequest({ username }, cloud.seed.keys.auth));
  expect(res.status).toBe(201);
  const { challengeId } = (await res.json()) as { challengeId: string };
  const [body] = await cloud.drainQueue();
  const { text } = openDispatchPayload(cloud.keys, DispatchMessage.parse(JSON.parse(body!)));
  return { id: challengeId, code: /code is (\d+)/.exec(text)![1]! };
}

const verify = (id: string, passcode: string) =>
  Promise.resolve(
    cloud.app.request(`/v1/challenges/${id}/verify`, jsonRequest({ passcode }, cloud.seed.keys.auth)),
  );

describe('a lock and the challenges opened before it', () => {
  it('ends a pre-opened challenge at the first wrong guess after the lock, so even its right code is refused', async () => {
    // An attacker opens several challenges first…
    const opened = [];
    for (let i = 0; i < 5; i++) opened.push(await open('bob'));
    const spare = opened.pop()!;
    const wrongFor = (code: string) => (code === '000000' ? '111111' : '000000');

    // …and guesses on them until the user is locked (10 consecutive failures by default).
    let lockedAt = -1;
    for (let n = 0; n < 12 && lockedAt < 0; n++) {
      const target = opened[Math.floor(n / 3)]!;
      const res = await verify(target.id, wrongFor(target.code));
      if (res.status === 423) lockedAt = n;
    }
    expect(lockedAt).toBeGreaterThanOrEqual(0);

    // A guess on the challenge opened before the lock meets the lock and ends that challenge.
    expect((await verify(spare.id, wrongFor(spare.code))).status).toBe(423);
    expect(await (await verify(spare.id, spare.code)).json()).toEqual({
      result: 'reject',
      reason: 'locked',
      attemptsLeft: 0,
    });
  });
});
