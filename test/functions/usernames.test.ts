/**
 * Domain-qualified usernames through the real sync, admin and auth apps on dynalite: two `dave`s of two AD
 * domains coexist and each gets his own SMS, every accepted typed form reaches the same user, refused forms
 * answer as unknown names do, the limits and the lockout key on the canonical name, and a format change renames
 * users on the next sync run.
 */
import { PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyItem, tenantItem } from '../../functions/adapters/dynamo/keys.ts';
import { DispatchMessage } from '../../functions/contracts/queue.ts';
import { mintKey } from '../../functions/core/api-keys.ts';
import { openDispatchPayload } from '../../functions/core/dispatch.ts';
import { jsonRequest, TABLE } from '../support/cloud.ts';
import { type DirectoryFixture, startDirectory } from '../support/directory.ts';

let t: DirectoryFixture;
beforeAll(async () => {
  t = await startDirectory();
});
afterAll(async () => t?.close());

interface Tenant {
  id: string;
  syncKey: string;
  adminKey: string;
  authKey: string;
}

async function tenant(id: string, limit = 100, security?: unknown): Promise<Tenant> {
  const { syncKey, adminKey } = await t.newTenant(id, limit);
  const auth = mintKey('auth', id);
  await t.dynamo.send(
    new PutItemCommand({
      TableName: TABLE,
      Item: marshall({
        ...keyItem(auth.hash),
        kind: 'auth',
        tenantId: id,
        prefix: auth.prefix,
        createdAt: '',
      }),
    }),
  );
  if (security)
    await t.dynamo.send(
      new UpdateItemCommand({
        TableName: TABLE,
        Key: marshall(tenantItem(id)),
        UpdateExpression: 'SET #s = :s',
        ExpressionAttributeNames: { '#s': 'security' },
        ExpressionAttributeValues: marshall({ ':s': security }),
      }),
    );
  return { id, syncKey, adminKey, authKey: auth.key };
}

const setFormat = (x: Tenant, policy: unknown) =>
  t.call(t.admin, 'PUT', '/v1/settings/usernames', x.adminKey, policy);

async function syncRun(x: Tenant, users: unknown[], complete = true) {
  const runId = (await t.call(t.sync, 'POST', '/v1/sync/runs', x.syncKey)).body.runId as string;
  const batch = await t.call(t.sync, 'PUT', `/v1/sync/runs/${runId}/users`, x.syncKey, { users });
  expect(batch.status).toBe(200);
  const done = complete
    ? await t.call(t.sync, 'POST', `/v1/sync/runs/${runId}/complete`, x.syncKey)
    : undefined;
  return { batch: batch.body, complete: done?.body };
}

const adUser = (id: string, username: string, domain: string, mobile: string, extra: object = {}) => ({
  id,
  username,
  domain,
  displayName: username,
  mobile,
  secondaryMobile: null,
  email: null,
  groups: [],
  ...extra,
});

async function login(x: Tenant, username: string, ip = '203.0.113.7') {
  const res = await t.app.request('/v1/challenges', jsonRequest({ username, client: { ip } }, x.authKey));
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** The numbers the SMS queued since the last call went to, by challenge id. */
const drained = new Set<string>();
async function sent(): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const body of await t.drainQueue()) {
    const message = DispatchMessage.parse(JSON.parse(body));
    if (drained.has(message.challengeId)) continue;
    drained.add(message.challengeId);
    out.set(message.challengeId, openDispatchPayload(t.keys, message).targets.primary ?? '');
  }
  return out;
}

const users = (x: Tenant) =>
  t
    .call(t.admin, 'GET', '/v1/users?limit=200', x.adminKey)
    .then((r) => (r.body.users as Array<{ username: string }>).map((u) => u.username).sort());

describe('two domains, one short name', () => {
  let x: Tenant;
  beforeAll(async () => {
    x = await tenant('twodomains');
    const set = await setFormat(x, {
      format: 'upn',
      accept: ['upn', 'netbios', 'sAMAccountName'],
      defaultDomain: 'corp.example.test',
    });
    expect(set.status).toBe(200);
    const { batch } = await syncRun(x, [
      adUser('guid-dave-corp', 'dave', 'corp.example.test', '+4520123401'),
      adUser('guid-dave-sub', 'dave', 'sub.corp.example.test', '+4520123402', { netbiosDomain: 'SUBCORP' }),
    ]);
    expect(batch).toEqual({ accepted: 2, rejected: [] });
  });

  it('stores both under their UPNs and learns the NetBIOS names for typed logins', async () => {
    expect(await users(x)).toEqual(['dave@corp.example.test', 'dave@sub.corp.example.test']);
    const settings = await t.call(t.admin, 'GET', '/v1/settings/usernames', x.adminKey);
    expect(settings.body).toMatchObject({
      format: 'upn',
      knownDomains: { 'corp.example.test': 'CORP', 'sub.corp.example.test': 'SUBCORP' },
    });
  });

  it('sends each dave his own SMS, whatever accepted form he types', async () => {
    await sent();
    const forms: Array<[string, string]> = [
      ['dave@corp.example.test', '+4520123401'],
      ['CORP\\dave', '+4520123401'],
      ['corp\\DAVE', '+4520123401'],
      ['Dave@CORP.example.TEST', '+4520123401'],
      ['dave', '+4520123401'],
      ['corp.example.test\\dave', '+4520123401'],
      ['SUBCORP\\dave', '+4520123402'],
      ['dave@sub.corp.example.test', '+4520123402'],
    ];
    for (const [typed, number] of forms) {
      const res = await login(x, typed);
      expect(res.status, typed).toBe(201);
      const queued = await sent();
      expect(queued.get(String(res.body.challengeId)), typed).toBe(number);
    }
  });

  it('reads the user in the one batch read of the login once the instance knows the policy', async () => {
    let batchGets = 0;
    t.dynamo.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'BatchGetItemCommand') batchGets++;
        return next(args);
      },
      { step: 'initialize', name: 'countBatchGets' },
    );
    try {
      await login(x, 'SUBCORP\\dave');
      const warm = batchGets;
      for (const typed of ['SUBCORP\\dave', 'dave@sub.corp.example.test', 'CORP\\dave', 'dave', 'NOPE\\x'])
        await login(x, typed);
      expect(batchGets - warm).toBe(5);
    } finally {
      t.dynamo.middlewareStack.remove('countBatchGets');
    }
    await sent();
  });

  it('answers refused and odd forms exactly as an unknown name: 201, a look-alike destination, nothing sent', async () => {
    const unknown = await login(x, 'nobody@corp.example.test');
    const shape = (b: Record<string, unknown>) => Object.keys(b).sort();
    for (const typed of [
      'CORP\\',
      '@x',
      'a\\b\\c',
      '\\dave',
      'dave@',
      'NOPE\\dave',
      'CORP\\dave@corp.example.test',
      `CORP\\${'d'.repeat(250)}`,
      'd'.repeat(256),
    ]) {
      const res = await login(x, typed);
      expect(res.status, typed).toBe(201);
      expect(shape(res.body), typed).toEqual(shape(unknown.body));
      expect(res.body.destination, typed).toMatch(/^\+\d+ [•\d ]+$/);
    }
    expect((await sent()).size).toBe(0);
  });
});

describe('limits and lockout key on the canonical name', () => {
  it('counts hundreds of parallel challenges in mixed forms against one per-user limit', async () => {
    const x = await tenant('raceforms', 100, {
      // An hour's window: a burst that straddled a minute boundary on a slow machine would count twice.
      limits: {
        windowSeconds: 3600,
        perUser: 10,
        perDestination: 10_000,
        perClientIp: 10_000,
        perTenant: 100_000,
      },
    });
    await setFormat(x, {
      format: 'upn',
      accept: ['upn', 'netbios', 'sAMAccountName'],
      defaultDomain: 'corp.example.test',
    });
    await syncRun(x, [adUser('guid-erin', 'erin', 'corp.example.test', '+4520123403')]);
    await sent();
    const forms = ['erin@corp.example.test', 'CORP\\erin', 'erin', 'corp\\ERIN'];
    const replies = await Promise.all(
      Array.from({ length: 300 }, (_, i) => login(x, forms[i % forms.length]!, `198.51.100.${i % 250}`)),
    );
    const created = replies.filter((r) => r.status === 201).length;
    const limited = replies.filter((r) => r.status === 429).length;
    expect(created).toBe(10);
    expect(limited).toBe(290);
    const queued = await sent();
    expect([...queued.values()]).toEqual(Array(10).fill('+4520123403'));
  });

  it('locks every form of the user after failures typed in one form', async () => {
    const x = await tenant('lockforms', 100, { lockout: { maxFailures: 3, lockSeconds: 600 } });
    await setFormat(x, { format: 'netbios', accept: ['netbios', 'upn'] });
    await syncRun(x, [adUser('guid-finn', 'finn', 'corp.example.test', '+4520123404')]);
    const first = await login(x, 'CORP\\finn');
    expect(first.status).toBe(201);
    for (let i = 0; i < 3; i++) {
      const res = await t.app.request(
        `/v1/challenges/${first.body.challengeId}/verify`,
        jsonRequest({ passcode: '000000' }, x.authKey),
      );
      expect([200, 423]).toContain(res.status);
    }
    const other = await login(x, 'finn@corp.example.test');
    expect(other.status).toBe(423);
    expect((other.body.error as { code: string }).code).toBe('user_locked');
    const lock = await t.call(t.admin, 'GET', '/v1/users/CORP%5Cfinn', x.adminKey);
    expect(lock.status).toBe(200);
  });
});

describe('changing the format', () => {
  it('renames users on the next run, keeps what the admin set, and needs no spare user slot', async () => {
    const x = await tenant('renames', 2);
    await syncRun(x, [
      adUser('guid-gus', 'gus', 'corp.example.test', '+4520123405'),
      adUser('guid-hal', 'hal', 'corp.example.test', '+4520123406'),
    ]);
    expect(await users(x)).toEqual(['gus', 'hal']);
    const patched = await t.call(t.admin, 'PATCH', '/v1/users/gus', x.adminKey, {
      overrides: { length: 8 },
    });
    expect(patched.status).toBe(200);
    // Before the run, logins in the new form find nobody yet; the old name is no longer a form the tenant takes.
    expect((await setFormat(x, { format: 'upn' })).body.formerFormats).toEqual(['sAMAccountName']);

    const { batch, complete } = await syncRun(x, [
      adUser('guid-gus', 'gus', 'corp.example.test', '+4520123405'),
      adUser('guid-hal', 'hal', 'corp.example.test', '+4520123406'),
    ]);
    expect(batch).toEqual({ accepted: 2, rejected: [] });
    expect(complete).toMatchObject({ created: 0, updated: 2, removed: 0 });
    expect(await users(x)).toEqual(['gus@corp.example.test', 'hal@corp.example.test']);
    const gus = await t.call(t.admin, 'GET', '/v1/users/gus@corp.example.test', x.adminKey);
    expect(gus.body.overrides).toEqual({ length: 8 });
    expect(await t.dir.counter.countStored(x.id)).toBe(2);
    expect((await t.dir.counter.read(x.id))?.activeUsers).toBe(2);

    await sent();
    const res = await login(x, 'gus@corp.example.test');
    expect((await sent()).get(String(res.body.challengeId))).toBe('+4520123405');
  });

  it('removes the old names at complete when the names change within a format', async () => {
    const x = await tenant('renetbios', 10);
    await setFormat(x, { format: 'netbios' });
    const ad = [adUser('guid-ivy', 'ivy', 'corp.example.test', '+4520123407')];
    await syncRun(x, ad);
    expect(await users(x)).toEqual(['CORP\\ivy']);
    await setFormat(x, { format: 'netbios', netbiosDomains: { CORPNET: 'corp.example.test' } });
    const { complete } = await syncRun(x, ad);
    expect(complete).toMatchObject({ created: 1, removed: 1 });
    expect(await users(x)).toEqual(['CORPNET\\ivy']);
    expect(await t.dir.counter.countStored(x.id)).toBe(1);
  });

  it('refuses bad settings with 400 and a path', async () => {
    const x = await tenant('badformat');
    for (const body of [
      { format: 'email' },
      { format: 'upn', accept: ['netbios'] },
      { format: 'upn', accept: ['upn', 'sAMAccountName'] },
      { format: 'netbios', netbiosDomains: { 'NOT.OK': 'corp.example.test' } },
      { format: 'upn', extra: true },
    ]) {
      const res = await setFormat(x, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe('invalid_request');
    }
    const audit = await t.call(t.admin, 'GET', '/v1/audit', x.adminKey);
    expect(audit.body.entries.some((e: { action: string }) => e.action === 'username_policy.updated')).toBe(
      false,
    );
  });

  it('audits a change with before and after', async () => {
    const x = await tenant('auditformat');
    await setFormat(x, { format: 'upn' });
    const audit = await t.call(t.admin, 'GET', '/v1/audit', x.adminKey);
    const entry = audit.body.entries.find((e: { action: string }) => e.action === 'username_policy.updated');
    expect(entry.before.format).toBe('sAMAccountName');
    expect(entry.after.format).toBe('upn');
  });
});
