/**
 * Who exists must not show, however the auth API is asked: a name nobody has, a known user whose number is
 * refused and a known user with no route all answer like a real login, and their status moves like a real
 * one. The tenant admin still reads the real reason in the message log.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAdminApp, buildAuthApp } from '../../functions/deps.ts';
import { localSqs } from '../../functions/local/aws-local.ts';
import type { DemoSeed } from '../../functions/local/seed.ts';
import { jsonRequest, TABLE } from '../support/cloud.ts';
import { type SecurityFixture, startSecurityFixture } from '../support/security.ts';

let fx: SecurityFixture;
beforeAll(async () => {
  fx = await startSecurityFixture();
});
afterAll(async () => fx?.close());

const status = async (t: DemoSeed, id: string) => {
  const res = await fx.cloud.app.request(`/v1/challenges/${id}`, {
    headers: { authorization: `Bearer ${t.keys.auth}` },
  });
  expect(res.status).toBe(200);
  return (await res.json()) as { status: string; deliveries: Array<Record<string, unknown>> };
};

/** A status with the times left out: what may differ between two logins made at different moments. */
const shape = (view: { status: string; deliveries: Array<Record<string, unknown>> }) => ({
  status: view.status,
  deliveries: view.deliveries.map(({ at, ...rest }) => ({ ...rest, at: typeof at })),
});

/** What dispatch and the agent's `job.sent` do to a real challenge's step 0. */
async function deliver(t: DemoSeed, id: string, status: 'sent' | 'delivered', afterMs: number) {
  const { challenges } = fx.cloud.stores;
  const challenge = await challenges.get(t.tenantId, id, true);
  const at = new Date(Date.parse(challenge!.createdAt) + afterMs).toISOString();
  const step0 = challenge!.deliveries[0]!;
  await challenges.claimStep(
    t.tenantId,
    id,
    { ...step0, status: 'dispatched', agentId: 'edge-1' },
    new Date(fx.clock.now()).toISOString(),
  );
  if (status === 'delivered')
    await challenges.updateStep(t.tenantId, id, 0, 'edge-1', { status: 'sent', at });
  await challenges.updateStep(t.tenantId, id, 0, 'edge-1', { status, at });
}

describe('no user enumeration', () => {
  it('answers a refused number, a user with no route and an unknown name like a real login', async () => {
    const t = await fx.tenant('en-refused', { allowedCountries: ['DK'] }, [
      { username: 'alice' },
      { username: 'sven', mobile: '+46701234567' },
      // A Danish premium-rate number.
      { username: 'pia', mobile: '+4590123456' },
      { username: 'noah', mobile: null },
    ]);
    await fx.sent();
    const replies = new Map<string, Awaited<ReturnType<SecurityFixture['create']>>>();
    for (const name of ['alice', 'sven', 'pia', 'noah', 'nobody'])
      replies.set(name, await fx.create(t, name));
    for (const [name, reply] of replies) {
      expect(reply.status, name).toBe(201);
      expect(Object.keys(reply.body).sort(), name).toEqual([
        'challengeId',
        'channel',
        'destination',
        'expiresAt',
      ]);
      expect(reply.body.channel, name).toBe('sms');
      expect(String(reply.body.destination), name).toMatch(/^\+45 •• •• •• \d\d$/);
    }
    // Only the real one sends anything.
    expect([...(await fx.sent()).keys()]).toEqual([replies.get('alice')!.body.challengeId]);

    const realShape = shape(await status(t, String(replies.get('alice')!.body.challengeId)));
    for (const name of ['sven', 'pia', 'noah', 'nobody'])
      expect(shape(await status(t, String(replies.get(name)!.body.challengeId))), name).toEqual(realShape);

    // The tenant admin sees why nothing went out, with the number masked.
    const admin = buildAdminApp({
      dynamo: fx.cloud.dynamo,
      table: TABLE,
      log: fx.cloud.log,
      clock: fx.clock,
    });
    const log = await admin.request('/v1/message-log?limit=50', {
      headers: { authorization: `Bearer ${t.keys.admin}` },
    });
    expect(log.status).toBe(200);
    const rows = ((await log.json()) as { messages: Array<Record<string, unknown>> }).messages;
    const rowOf = (name: string) => rows.find((r) => r.username === name);
    expect(rowOf('sven')).toMatchObject({
      status: 'failed',
      reason: 'destination_refused:country_not_allowed',
    });
    expect(String(rowOf('sven')!.destination)).toMatch(/^\+46 /);
    expect(rowOf('pia')).toMatchObject({ status: 'failed', reason: 'destination_refused:not_mobile' });
    expect(rowOf('noah')).toMatchObject({ status: 'failed', reason: 'no_route' });
    expect(rowOf('nobody')).toBeUndefined();
    expect(JSON.stringify(rows)).not.toMatch(/\+46701234567|\+4590123456/);
  });

  it("moves a decoy's status along the timeline real deliveries of the tenant took", async () => {
    const t = await fx.tenant('en-timeline', {}, [{ username: 'alice' }, { username: 'bob' }]);
    // Real logins: sent after 1.2 s, a delivery report after 4 s, as the clients polling them saw.
    for (const name of ['alice', 'bob']) {
      const created = await fx.create(t, name);
      const id = String(created.body.challengeId);
      await deliver(t, id, 'sent', 1200);
      await status(t, id);
      await deliver(t, id, 'delivered', 4000);
      await status(t, id);
    }
    await fx.sent();

    const real = String((await fx.create(t, 'alice')).body.challengeId);
    const decoy = String((await fx.create(t, 'nobody')).body.challengeId);
    const seen: Array<{ at: number; real: unknown; decoy: unknown }> = [];
    for (const at of [0, 1300, 4100]) {
      if (at === 1300) await deliver(t, real, 'sent', 1200);
      if (at === 4100) await deliver(t, real, 'delivered', 4000);
      fx.clock.advance(at - (seen.at(-1)?.at ?? 0));
      seen.push({ at, real: shape(await status(t, real)), decoy: shape(await status(t, decoy)) });
    }
    for (const { at, real: r, decoy: d } of seen) expect(d, `at +${at} ms`).toEqual(r);
    expect(seen.map((s) => (s.decoy as { status: string }).status)).toEqual(['pending', 'sent', 'delivered']);
  });

  it('keeps an unknown name waiting as long as a real create takes, so timing tells nothing', async () => {
    const t = await fx.tenant('en-timing', { security: { limits: { perUser: 100 } } }, [
      { username: 'alice' },
    ]);
    // A queue that takes 60 ms to accept a message: the real path's slowest step, which a decoy does not have.
    const endpoint = await fx.cloud.sqs.config.endpoint!();
    const sqs = localSqs(`${endpoint.protocol}//${endpoint.hostname}:${endpoint.port}`);
    sqs.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'SendMessageCommand') await new Promise((r) => setTimeout(r, 60));
        return next(args);
      },
      { step: 'initialize', name: 'slowQueue' },
    );
    const app = buildAuthApp({
      dynamo: fx.cloud.dynamo,
      table: TABLE,
      keys: fx.cloud.keys,
      log: fx.cloud.log,
      sqs,
      dispatchQueueUrl: fx.cloud.queueUrl,
      clock: fx.clock,
    });
    const create = async (username: string) => {
      const started = performance.now();
      const res = await app.request('/v1/challenges', jsonRequest({ username }, t.keys.auth));
      expect(res.status).toBe(201);
      return performance.now() - started;
    };
    for (let i = 0; i < 10; i++) await create('alice');
    // Lower bounds only: a decoy may never answer sooner than the fastest real create could have.
    for (let i = 0; i < 10; i++) expect(await create(`nobody-${i}`)).toBeGreaterThanOrEqual(55);
    sqs.destroy();
  });
});
