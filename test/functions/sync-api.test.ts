import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYNC_BATCH_MAX_USERS } from '../../functions/contracts/sync.ts';
import type { SyncStore } from '../../functions/core/ports/sync.ts';
import { SyncService } from '../../functions/core/sync.ts';
import { type AdUser, adUsers, type DirectoryFixture, startDirectory } from '../support/directory.ts';

let t: DirectoryFixture;
let operatorKey: string;
beforeAll(async () => {
  t = await startDirectory();
  operatorKey = t.seed.keys.operator;
});
afterAll(async () => t?.close());

async function run(key: string) {
  const res = await t.call(t.sync, 'POST', '/v1/sync/runs', key);
  expect(res.status).toBe(201);
  return res.body.runId as string;
}
const push = (key: string, runId: string, users: unknown[]) =>
  t.call(t.sync, 'PUT', `/v1/sync/runs/${runId}/users`, key, { users });
const complete = (key: string, runId: string) =>
  t.call(t.sync, 'POST', `/v1/sync/runs/${runId}/complete`, key);
const stored = (tenantId: string) => t.dir.counter.countStored(tenantId);

describe('the user limit', () => {
  it('holds under four parallel runs of 100 users into a limit of 150, every time', async () => {
    for (let round = 0; round < 5; round++) {
      const tenantId = `race${round}`;
      const { syncKey } = await t.newTenant(tenantId, 150);
      const runs = await Promise.all([0, 1, 2, 3].map(() => run(syncKey)));
      const replies = await Promise.all(runs.map((runId, r) => push(syncKey, runId, adUsers(`r${r}u`, 100))));
      for (const reply of replies) expect(reply.status).toBe(200);
      const accepted = replies.reduce((n, r) => n + r.body.accepted, 0);
      const rejected = replies.flatMap((r) => r.body.rejected);
      expect(accepted).toBe(150);
      expect(rejected).toHaveLength(250);
      expect(rejected.every((r: { reason: string }) => r.reason === 'user_limit_reached')).toBe(true);
      // Every user is either stored or reported, never both, never neither.
      const reportedIds = new Set(rejected.map((r: { id: string }) => r.id));
      expect(reportedIds.size).toBe(250);
      expect(await stored(tenantId)).toBe(150);
      expect((await t.dir.counter.read(tenantId))?.activeUsers).toBe(150);
    }
  });

  it('lets the next run take the users over the limit once the operator raises it', async () => {
    const { syncKey } = await t.newTenant('raise', 10);
    const users = adUsers('raise', 15);
    const first = await push(syncKey, await run(syncKey), users);
    expect(first.body.accepted).toBe(10);
    expect(first.body.rejected.map((r: { id: string }) => r.id)).toEqual(users.slice(10).map((u) => u.id));

    const patched = await t.call(t.operator, 'PATCH', '/v1/operator/tenants/raise', operatorKey, {
      userLimit: 20,
    });
    expect(patched.status).toBe(200);
    const second = await push(syncKey, await run(syncKey), users);
    expect(second.body).toEqual({ accepted: 15, rejected: [] });
    expect(await stored('raise')).toBe(15);
  });

  it('corrects a counter that drifted, by a recount that agrees with the users stored', async () => {
    const { syncKey } = await t.newTenant('drift', 5);
    await push(syncKey, await run(syncKey), adUsers('drift', 3));
    // A run that died between reserving and writing leaves the counter too high (and its lease to expire).
    const state = (await t.dir.counter.read('drift'))!;
    expect(await t.dir.counter.reset('drift', state.version, 5, new Date(0).toISOString())).toBe(true);
    const reply = await push(syncKey, await run(syncKey), adUsers('drift', 5));
    expect(reply.body).toEqual({ accepted: 5, rejected: [] });
    expect(await stored('drift')).toBe(5);
    expect((await t.dir.counter.read('drift'))?.activeUsers).toBe(5);
  });
});

describe('runs and batches', () => {
  it('stores a batch once: sending it again changes nothing', async () => {
    const { syncKey, adminKey } = await t.newTenant('idem', 100);
    const runId = await run(syncKey);
    const users = adUsers('idem', 20);
    const first = await push(syncKey, runId, users);
    expect(first.body).toEqual({ accepted: 20, rejected: [] });
    const before = await t.call(t.admin, 'GET', '/v1/users?limit=200', adminKey);
    const again = await push(syncKey, runId, users);
    expect(again.body).toEqual({ accepted: 20, rejected: [] });
    const after = await t.call(t.admin, 'GET', '/v1/users?limit=200', adminKey);
    expect(after.body).toEqual(before.body);
    expect(await complete(syncKey, runId)).toEqual({
      status: 200,
      body: { created: 20, updated: 0, removed: 0, rejected: 0 },
    });
  });

  it('removes nobody for a run that is never completed, and only unseen users on completion', async () => {
    const { syncKey } = await t.newTenant('partial', 100);
    const everyone = adUsers('p', 30);
    const full = await run(syncKey);
    await push(syncKey, full, everyone);
    expect((await complete(syncKey, full)).body).toEqual({
      created: 30,
      updated: 0,
      removed: 0,
      rejected: 0,
    });

    // The connector dies halfway through the next run: nobody goes.
    const dying = await run(syncKey);
    await push(syncKey, dying, everyone.slice(0, 10));
    expect(await stored('partial')).toBe(30);

    // A full run without the last ten removes exactly them, and a second complete changes nothing.
    const next = await run(syncKey);
    const changed = everyone.slice(0, 20).map((u, i) => (i === 0 ? { ...u, displayName: 'Renamed' } : u));
    await push(syncKey, next, changed);
    const done = await complete(syncKey, next);
    expect(done.body).toEqual({ created: 0, updated: 1, removed: 10, rejected: 0 });
    expect(await complete(syncKey, next)).toEqual(done);
    expect(await stored('partial')).toBe(20);
    expect((await t.dir.counter.read('partial'))?.activeUsers).toBe(20);
    const late = await push(syncKey, next, everyone);
    expect(late.status).toBe(409);
    expect(late.body.error.code).toBe('run_completed');
  });

  it('answers unknown runs with 404 and keeps runs of one tenant away from another', async () => {
    const a = await t.newTenant('runs-a', 10);
    const b = await t.newTenant('runs-b', 10);
    const runId = await run(a.syncKey);
    expect((await push(b.syncKey, runId, adUsers('x', 1))).status).toBe(404);
    expect((await complete(b.syncKey, runId)).status).toBe(404);
    expect((await push(a.syncKey, 'A'.repeat(22), adUsers('x', 1))).status).toBe(404);
  });
});

describe('a batch that fails half-way', () => {
  it('blocks removal until it is sent again and stored whole', async () => {
    const { syncKey } = await t.newTenant('flaky', 100);
    const everyone = adUsers('f', 10);
    const first = await run(syncKey);
    await push(syncKey, first, everyone);
    await complete(syncKey, first);

    // The store fails every other create of this batch, as a throttled or failing table would.
    let calls = 0;
    const flaky: SyncStore = Object.create(t.dir.sync);
    flaky.createUsers = async (users) => {
      const outcomes = await t.dir.sync.createUsers(users.filter((_, i) => i % 2 === 0));
      return users.map((_, i) => (i % 2 === 0 ? outcomes[i / 2]! : 'failed'));
    };
    flaky.updateUsers = async (users) => {
      calls++;
      return users.map(() => 'failed' as const);
    };
    const service = new SyncService({ ...t.dir, store: flaky, users: t.dir.users, config: t.dir.config });
    const tenant = (await t.dir.directory.getTenant('flaky'))!;
    const { runId } = await service.startRun('flaky');
    const changed = everyone.slice(0, 5).map((u) => ({ ...u, displayName: 'Changed' }));
    const fresh = adUsers('new', 4);
    const reply = await service.pushBatch(tenant, runId, [...changed, ...fresh]);
    expect(calls).toBe(1);
    expect(reply.accepted).toBe(2);
    expect(reply.rejected.map((r) => r.reason)).toEqual(Array(7).fill('temporarily_unavailable'));
    // Nothing is counted that was not stored.
    expect((await t.dir.counter.read('flaky'))?.activeUsers).toBe(await stored('flaky'));

    // Completing now would remove the users this batch should have kept: refused, nobody removed.
    const refused = await complete(syncKey, runId);
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('run_has_errors');
    expect(await stored('flaky')).toBe(12);

    // The same batch again, through the real store: stored whole, and the run completes.
    const again = await push(syncKey, runId, [...changed, ...fresh]);
    expect(again.body).toEqual({ accepted: 9, rejected: [] });
    expect((await complete(syncKey, runId)).body).toEqual({
      created: 4,
      updated: 5,
      removed: 5,
      rejected: 0,
    });
    expect(await stored('flaky')).toBe(9);
  });
});

describe('what the sync stores', () => {
  it('normalises numbers to E.164 with the tenant country, keeps their type, and rejects bad ones', async () => {
    const { syncKey, adminKey } = await t.newTenant('phones', 100);
    const base = adUsers('ph', 6);
    const users: AdUser[] = [
      { ...base[0]!, mobile: '20 12 34 56' },
      { ...base[1]!, mobile: '0045 20123457', secondaryMobile: '+45 90 12 34 56' },
      { ...base[2]!, mobile: '+999123456789' },
      { ...base[3]!, mobile: '0' },
      { ...base[4]!, secondaryMobile: 'call me' },
      { ...base[5]!, mobile: null },
    ];
    const reply = await push(syncKey, await run(syncKey), users);
    expect(reply.body).toEqual({
      accepted: 3,
      rejected: [
        { id: base[2]!.id, reason: 'invalid_phone' },
        { id: base[3]!.id, reason: 'invalid_phone' },
        { id: base[4]!.id, reason: 'invalid_phone' },
      ],
    });
    const first = await t.dir.users.get('phones', 'ph0');
    expect(first).toMatchObject({ mobile: '+4520123456', mobileType: 'fixed_line_or_mobile' });
    const second = await t.dir.users.get('phones', 'ph1');
    expect(second).toMatchObject({
      mobile: '+4520123457',
      secondaryMobile: '+4590123456',
      secondaryMobileType: 'premium_rate',
    });
    expect((await t.dir.users.get('phones', 'ph5'))?.mobile).toBeNull();
    // The admin API shows numbers masked.
    const view = await t.call(t.admin, 'GET', '/v1/users/ph0', adminKey);
    expect(view.body.mobile).toBe('+45 •• •• •• 56');
  });

  it('resolves AD groups to the highest-priority user group policy', async () => {
    const { syncKey, adminKey } = await t.newTenant('groups', 100);
    const group = (name: string) =>
      t.call(t.admin, 'POST', '/v1/group-policies', adminKey, {
        name,
        loadBalancingPolicyId: null,
        channels: ['sms_modem'],
        selfService: { enabled: false, fields: [] },
        secondaryPhone: false,
      });
    const staff = (await group('Staff')).body.id;
    const admins = (await group('Admins')).body.id;
    const map = (groupDn: string, groupPolicyId: string, priority: number) =>
      t.call(t.admin, 'POST', '/v1/integration-policies', adminKey, {
        domain: 'corp.example.test',
        groupDn,
        groupPolicyId,
        priority,
      });
    expect((await map('CN=Staff,DC=corp', staff, 10)).status).toBe(201);
    expect((await map('CN=Admins,DC=corp', admins, 50)).status).toBe(201);
    const [u0, u1, u2] = adUsers('g', 3);
    const reply = await push(syncKey, await run(syncKey), [
      { ...u0!, groups: ['cn=staff,dc=corp'] },
      { ...u1!, groups: ['CN=Staff,DC=corp', 'CN=Admins,DC=corp'] },
      { ...u2!, groups: ['CN=Other,DC=corp'] },
    ]);
    expect(reply.body).toEqual({ accepted: 2, rejected: [{ id: u2!.id, reason: 'no_matching_group' }] });
    expect((await t.dir.users.get('groups', 'g0'))?.groupPolicyId).toBe(staff);
    expect((await t.dir.users.get('groups', 'g1'))?.groupPolicyId).toBe(admins);
  });

  it('refuses a username that belongs to another AD object, and duplicates within a batch', async () => {
    const { syncKey } = await t.newTenant('dupes', 100);
    const [u0, u1] = adUsers('d', 2);
    const runId = await run(syncKey);
    await push(syncKey, runId, [u0]);
    const reply = await push(syncKey, runId, [{ ...u1!, username: u0!.username.toUpperCase() }, u1]);
    expect(reply.body.rejected).toEqual([
      { id: u1!.id, reason: 'duplicate_in_batch' },
      { id: u1!.id, reason: 'username_conflict' },
    ]);
  });
});

describe('bad input', () => {
  const cases: Array<[string, unknown, number]> = [
    ['an unknown field', { users: [{ ...adUsers('b', 1)[0], admin: true }] }, 400],
    ['an unknown top-level field', { users: [], extra: 1 }, 400],
    ['a wrong type', { users: [{ ...adUsers('b', 1)[0], groups: 'CN=x' }] }, 400],
    ['users that is not a list', { users: {} }, 400],
    [
      `${SYNC_BATCH_MAX_USERS * 5} users in one batch`,
      { users: adUsers('big', SYNC_BATCH_MAX_USERS * 5) },
      400,
    ],
  ];
  it.each(cases)('refuses %s as a whole, storing nothing', async (_name, body, status) => {
    const key = t.seed.keys.sync;
    const runId = await run(key);
    const before = await stored(t.seed.tenantId);
    const res = await t.call(t.sync, 'PUT', `/v1/sync/runs/${runId}/users`, key, body);
    expect(res.status).toBe(status);
    expect(res.body.error.code).toBe('invalid_request');
    expect(await stored(t.seed.tenantId)).toBe(before);
  });

  it('refuses a 10 MB batch with 413', async () => {
    const key = t.seed.keys.sync;
    const runId = await run(key);
    const res = await t.call(t.sync, 'PUT', `/v1/sync/runs/${runId}/users`, key, {
      users: [{ ...adUsers('huge', 1)[0], displayName: 'x'.repeat(10 * 1024 * 1024) }],
    });
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('payload_too_large');
  });

  it('takes the documented maximum of users in one batch', async () => {
    const { syncKey } = await t.newTenant('maxbatch', SYNC_BATCH_MAX_USERS);
    const reply = await push(syncKey, await run(syncKey), adUsers('m', SYNC_BATCH_MAX_USERS));
    expect(reply.body).toEqual({ accepted: SYNC_BATCH_MAX_USERS, rejected: [] });
  });

  it('answers keys of other kinds with 403 and no key with 401', async () => {
    expect((await t.call(t.sync, 'POST', '/v1/sync/runs', t.seed.keys.admin)).status).toBe(403);
    expect((await t.call(t.sync, 'POST', '/v1/sync/runs', t.seed.keys.auth)).status).toBe(403);
    expect((await t.call(t.sync, 'POST', '/v1/sync/runs', undefined)).status).toBe(401);
  });
});
