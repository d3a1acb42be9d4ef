/**
 * A user group policy assigned by the tenant admin, without AD: it wins over the AD mapping, the auth path sends
 * by it, later sync runs keep it, and it keeps a synced user whom no mapped AD group would; deleting the policy
 * is refused while a user is assigned to it. Through the real sync, admin and auth apps on dynalite.
 */
import { PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyItem, userItem } from '../../functions/adapters/dynamo/keys.ts';
import { DispatchMessage } from '../../functions/contracts/queue.ts';
import { mintKey } from '../../functions/core/api-keys.ts';
import { openDispatchPayload } from '../../functions/core/dispatch.ts';
import { jsonRequest, TABLE } from '../support/cloud.ts';
import { type DirectoryFixture, startDirectory } from '../support/directory.ts';

const VPN = 'CN=VPN Users,OU=Groups,DC=corp,DC=example,DC=test';
let t: DirectoryFixture;
let syncKey: string;
let adminKey: string;
let authKey: string;
let mapped: string;
let assigned: string;

beforeAll(async () => {
  t = await startDirectory();
  ({ syncKey, adminKey } = await t.newTenant('assign', 100));
  const auth = mintKey('auth', 'assign');
  await t.dynamo.send(
    new PutItemCommand({
      TableName: TABLE,
      Item: marshall({
        ...keyItem(auth.hash),
        kind: 'auth',
        tenantId: 'assign',
        prefix: auth.prefix,
        createdAt: '',
      }),
    }),
  );
  authKey = auth.key;
  // Each policy sends through its own modem group, which the queued message names.
  const group = async (name: string, length: number) => {
    expect((await admin('POST', '/v1/modem-groups', { name: `via-${name}` })).status).toBe(201);
    const chain = await admin('POST', '/v1/load-balancing-policies', {
      name,
      rules: [{ channel: 'sms_modem', target: 'primary', route: `via-${name}`, timeoutSeconds: 30 }],
    });
    return admin('POST', '/v1/group-policies', {
      name,
      loadBalancingPolicyId: chain.body.id,
      channels: ['sms_modem'],
      passcode: { length },
      selfService: { enabled: false, fields: [] },
      secondaryPhone: false,
    }).then((r) => r.body.id as string);
  };
  mapped = await group('Mapped', 7);
  assigned = await group('Assigned', 9);
  const mapping = await admin('POST', '/v1/integration-policies', {
    domain: 'corp.example.test',
    groupDn: VPN,
    groupPolicyId: mapped,
    priority: 1,
  });
  expect(mapping.status).toBe(201);
});
afterAll(async () => t?.close());

function admin(method: string, path: string, body?: unknown) {
  return t.call(t.admin, method, path, adminKey, body);
}

const person = (n: number, groups: string[], mobile = `+452012350${n}`) => ({
  id: `guid-${n}`,
  username: `p${n}`,
  domain: 'corp.example.test',
  displayName: `Person ${n}`,
  mobile,
  secondaryMobile: null,
  email: null,
  groups,
});

async function syncRun(users: unknown[]) {
  const runId = (await t.call(t.sync, 'POST', '/v1/sync/runs', syncKey)).body.runId as string;
  const batch = await t.call(t.sync, 'PUT', `/v1/sync/runs/${runId}/users`, syncKey, { users });
  const complete = await t.call(t.sync, 'POST', `/v1/sync/runs/${runId}/complete`, syncKey);
  return { batch: batch.body, complete: complete.body };
}

/** The modem group the SMS of a new challenge for the user goes out by: its group policy's chain says. */
const drained = new Set<string>();
async function routeFor(username: string): Promise<string> {
  const res = await t.app.request('/v1/challenges', jsonRequest({ username }, authKey));
  expect(res.status).toBe(201);
  const { challengeId } = (await res.json()) as { challengeId: string };
  for (const body of await t.drainQueue()) {
    const message = DispatchMessage.parse(JSON.parse(body));
    if (drained.has(message.challengeId)) continue;
    drained.add(message.challengeId);
    if (message.challengeId === challengeId) {
      expect(openDispatchPayload(t.keys, message).username).toBe(username);
      return message.modemGroup;
    }
  }
  throw new Error('no SMS for the challenge');
}

describe('a group policy assigned by the admin', () => {
  it('wins over the AD mapping, for the admin view, the effective settings and the SMS', async () => {
    const first = await syncRun([person(0, [VPN]), person(1, [VPN])]);
    expect(first.batch).toEqual({ accepted: 2, rejected: [] });
    expect(await routeFor('p0')).toBe('via-Mapped');

    const patched = await admin('PATCH', '/v1/users/p0', { groupPolicyId: assigned });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({
      groupPolicyId: assigned,
      assignedGroupPolicyId: assigned,
      mappedGroupPolicyId: mapped,
      groupDn: VPN,
    });
    const eff = await admin('GET', '/v1/users/p0/effective-settings');
    expect(eff.body.groupPolicy).toEqual({ id: assigned, name: 'Assigned' });
    expect(eff.body.groupPolicyFrom).toBe('assigned');
    expect(eff.body.settings['passcode.length']).toEqual({ value: 9, from: 'group' });
    expect(await routeFor('p0')).toBe('via-Assigned');

    const audit = await admin('GET', '/v1/audit');
    const entry = audit.body.entries.find(
      (e: { action: string; target: string }) => e.action === 'user.updated' && e.target === 'user:p0',
    );
    expect(entry.before.groupPolicyId).toBe(mapped);
    expect(entry.after.assignedGroupPolicyId).toBe(assigned);
  });

  it('survives sync runs that change the user, and keeps a user no mapped group holds', async () => {
    const changed = await syncRun([person(0, [VPN], '+4520123599'), person(1, [VPN])]);
    expect(changed.complete).toMatchObject({ updated: 1, removed: 0 });
    const view = await admin('GET', '/v1/users/p0');
    expect(view.body).toMatchObject({ groupPolicyId: assigned, mappedGroupPolicyId: mapped });
    expect(await routeFor('p0')).toBe('via-Assigned');

    // Both leave the mapped AD group: the assigned user stays, the other is refused and removed.
    const left = await syncRun([person(0, []), person(1, [])]);
    expect(left.batch).toEqual({ accepted: 1, rejected: [{ id: 'guid-1', reason: 'no_matching_group' }] });
    expect(left.complete).toMatchObject({ removed: 1 });
    expect((await admin('GET', '/v1/users/p1')).status).toBe(404);
    const kept = await admin('GET', '/v1/users/p0');
    expect(kept.body).toMatchObject({ groupPolicyId: assigned, mappedGroupPolicyId: null, groupDn: null });
    expect(await routeFor('p0')).toBe('via-Assigned');
  });

  it('keeps the policy from deletion while a user is assigned to it, and lets go once unassigned', async () => {
    const refused = await admin('DELETE', `/v1/group-policies/${assigned}`);
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('in_use');
    const unassigned = await admin('PATCH', '/v1/users/p0', { groupPolicyId: null });
    expect(unassigned.body).toMatchObject({ groupPolicyId: null, assignedGroupPolicyId: null });
    expect((await admin('DELETE', `/v1/group-policies/${assigned}`)).status).toBe(204);
  });

  it('gives the mapping back on unassigning a user the sync stored before it kept the mapping apart', async () => {
    await syncRun([person(2, [VPN]), person(0, [])]);
    // An item as the sync wrote it before: the mapping only in the effective field.
    await t.dynamo.send(
      new UpdateItemCommand({
        TableName: TABLE,
        Key: marshall(userItem('assign', 'p2')),
        UpdateExpression: 'REMOVE mappedGroupPolicyId',
      }),
    );
    const other = (
      await admin('POST', '/v1/group-policies', {
        name: 'Other',
        loadBalancingPolicyId: null,
        channels: ['sms_modem'],
        selfService: { enabled: false, fields: [] },
        secondaryPhone: false,
      })
    ).body.id as string;
    expect((await admin('PATCH', '/v1/users/p2', { groupPolicyId: other })).body.groupPolicyId).toBe(other);
    const back = await admin('PATCH', '/v1/users/p2', { groupPolicyId: null });
    expect(back.body).toMatchObject({ groupPolicyId: mapped, mappedGroupPolicyId: mapped });
  });

  it('refuses a policy that does not exist (422) and a malformed id or field (400), changing nothing', async () => {
    const missing = await admin('PATCH', '/v1/users/p2', { groupPolicyId: 'no-such-policy' });
    expect(missing.status).toBe(422);
    expect(missing.body.error.code).toBe('missing_reference');
    for (const body of [{ groupPolicyId: 5 }, { groupPolicyId: 'not an id!' }, { group: mapped }]) {
      const res = await admin('PATCH', '/v1/users/p2', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe('invalid_request');
    }
    expect((await admin('PATCH', '/v1/users/nobody', { groupPolicyId: mapped })).status).toBe(404);
    expect((await admin('GET', '/v1/users/p2')).body.groupPolicyId).toBe(mapped);
  });
});
