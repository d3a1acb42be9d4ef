/**
 * Deleting a tenant answers at once (202 and a status to poll) and purges its personal data in the background:
 * users, keys, challenges and the message log, audit entries, wherever in the table they live. A scan of the
 * whole table afterwards finds nothing of the tenant but what the README says is kept.
 */
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { monthsSince } from '../../functions/adapters/dynamo/tenant-store.ts';
import { jsonRequest, TABLE } from '../support/cloud.ts';
import { type DirectoryFixture, startDirectory } from '../support/directory.ts';

let t: DirectoryFixture;
beforeAll(async () => {
  t = await startDirectory();
});
afterAll(async () => t?.close());

const ID = 'purgeme';
const op = (method: string, path: string) => t.call(t.operator, method, path, t.seed.keys.operator);

async function scanAll(): Promise<Array<Record<string, unknown>>> {
  const items: Array<Record<string, unknown>> = [];
  let start: Record<string, never> | undefined;
  do {
    const out = await t.dynamo.send(new ScanCommand({ TableName: TABLE, ExclusiveStartKey: start }));
    items.push(...(out.Items ?? []).map((i) => unmarshall(i)));
    start = out.LastEvaluatedKey as typeof start;
  } while (start);
  return items;
}

const mentions = (item: Record<string, unknown>) => JSON.stringify(item).includes(ID);

async function untilPurged(): Promise<{ state: string; purgedItems?: number }> {
  for (;;) {
    const status = await op('GET', `/v1/operator/tenants/${ID}/deletion`);
    expect(status.status).toBe(200);
    if (status.body.state === 'done') return status.body;
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('deleting a tenant', () => {
  it('answers 202 with a status to poll, then leaves only the tombstone and what is documented as kept', async () => {
    const created = await op('POST', '/v1/operator/tenants');
    expect(created.status).toBe(400);
    const made = await t.call(t.operator, 'POST', '/v1/operator/tenants', t.seed.keys.operator, {
      id: ID,
      name: 'Purge Me',
      defaultCountry: 'DK',
      userLimit: 10,
    });
    const admin = made.body.adminKey as string;
    const mint = async (kind: string) =>
      (await t.call(t.admin, 'POST', '/v1/keys', admin, { kind })).body.key as string;
    const sync = await mint('sync');
    const auth = await mint('auth');
    // A revoked key is the tenant's too.
    const revoked = await t.call(t.admin, 'POST', '/v1/keys', admin, { kind: 'auth' });
    await t.call(t.admin, 'DELETE', `/v1/keys/${revoked.body.prefix}`, admin);

    const run = (await t.call(t.sync, 'POST', '/v1/sync/runs', sync)).body.runId as string;
    const users = ['ann', 'ben'].map((username, i) => ({
      id: `00000000-0000-4000-8000-00000000000${i}`,
      username,
      domain: 'corp.purgeme.test',
      displayName: username,
      mobile: `+452012345${i}`,
      email: `${username}@purgeme.example.test`,
      groups: [],
    }));
    const put = await t.call(t.sync, 'PUT', `/v1/sync/runs/${run}/users`, sync, { users });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect((await t.call(t.sync, 'POST', `/v1/sync/runs/${run}/complete`, sync)).status).toBe(200);

    // Known users' challenges are the message log; an unknown name gets a decoy.
    for (const username of ['ann', 'ben', 'nobody'])
      expect(
        (
          await t.app.request(
            '/v1/challenges',
            jsonRequest({ username, client: { ip: '203.0.113.50' } }, auth),
          )
        ).status,
      ).toBe(201);
    await t.drainQueue();

    const before = (await scanAll()).filter(mentions);
    const partitions = new Set(before.map((i) => String(i.pk).split('#')[0]));
    // The tenant's data is spread over its partition, key items, challenge and audit partitions.
    expect([...partitions].sort()).toEqual(expect.arrayContaining(['AUDIT', 'CH', 'KEY', 'TENANT']));

    expect((await op('DELETE', `/v1/operator/tenants/${ID}`)).body.error.code).toBe('tenant_state');
    expect((await op('GET', `/v1/operator/tenants/${ID}/deletion`)).status).toBe(404);
    await op('POST', `/v1/operator/tenants/${ID}/suspend`);
    const res = await t.operator.request(`/v1/operator/tenants/${ID}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${t.seed.keys.operator}` },
    });
    expect(res.status).toBe(202);
    expect(res.headers.get('location')).toBe(`/v1/operator/tenants/${ID}/deletion`);
    expect(await res.json()).toMatchObject({
      tenantId: ID,
      state: 'purging',
      statusUrl: `/v1/operator/tenants/${ID}/deletion`,
    });
    // The tombstone is there at once: the tenant and its keys are gone before the purge ends.
    expect((await op('GET', `/v1/operator/tenants/${ID}`)).status).toBe(404);
    expect((await t.call(t.admin, 'GET', '/v1/users', admin)).status).toBe(401);

    const done = await untilPurged();
    expect(done.purgedItems).toBeGreaterThan(0);

    const now = Date.now() / 1000;
    const left = (await scanAll()).filter(mentions);
    const kept = left.map((i) => {
      const pk = String(i.pk);
      if (pk === `TENANT#${ID}` && i.sk === 'TENANT') return 'tombstone';
      // The operator's own audit log (no tenant partition): when and by whom the tenant was changed and
      // deleted, kept for the audit retention.
      if (pk.startsWith('AUDIT##') && typeof i.ttl === 'number' && i.ttl < now + 401 * 24 * 3600)
        return 'operator audit';
      // Decoy challenges (no user, listed nowhere) and rate-limit counters: gone by TTL within a day.
      if ((pk.startsWith(`CH#${ID}#`) && i.userKnown === false) || pk.startsWith(`RL#${ID}#`)) {
        expect(i.ttl as number).toBeLessThanOrEqual(now + 2 * 24 * 3600);
        return 'expiring';
      }
      return `unexpected ${pk} ${String(i.sk)}`;
    });
    expect(kept.filter((k) => k.startsWith('unexpected'))).toEqual([]);
    expect(kept.filter((k) => k === 'tombstone')).toHaveLength(1);
    // Nothing kept holds a phone number or an e-mail address of the tenant's users.
    expect(JSON.stringify(left)).not.toMatch(/2012345|purgeme\.example\.test|"ann"|"ben"/);

    const audit = await op('GET', '/v1/operator/audit?limit=200');
    expect(audit.body.entries.map((e: { action: string }) => e.action)).toEqual(
      expect.arrayContaining(['tenant.deleted', 'tenant.purged']),
    );
  });

  it('runs the purge again when the delete is sent again, and never brings the id back', async () => {
    expect((await op('DELETE', `/v1/operator/tenants/${ID}`)).status).toBe(202);
    expect((await untilPurged()).purgedItems).toBe(0);
    const again = await t.call(t.operator, 'POST', '/v1/operator/tenants', t.seed.keys.operator, {
      id: ID,
      name: 'Again',
      defaultCountry: 'DK',
      userLimit: 1,
    });
    expect(again.status).toBe(409);
  });

  it('leaves other tenants alone', async () => {
    expect((await t.call(t.admin, 'GET', '/v1/users', t.seed.keys.admin)).status).toBe(200);
    expect((await op('GET', '/v1/operator/tenants/acme')).body.status).toBe('active');
  });
});

describe('the months a purge visits', () => {
  it('runs from the month before the tenant was made to the month after now', () => {
    expect(monthsSince('2025-11-15T00:00:00.000Z', new Date('2026-02-01T00:00:00.000Z'))).toEqual([
      '2025-10',
      '2025-11',
      '2025-12',
      '2026-01',
      '2026-02',
      '2026-03',
    ]);
    expect(monthsSince(undefined, new Date('2026-02-01T00:00:00.000Z'))).toHaveLength(38);
  });
});
