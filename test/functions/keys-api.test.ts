/** Tenant keys through the admin API: minted once, listed by prefix, revoked at once, never across tenants. */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { HTTP_ROUTES } from '../../cdk/functions.ts';
import { DynamoAuditLog } from '../../functions/adapters/dynamo/audit-store.ts';
import { GroupPolicyInput } from '../../functions/contracts/admin.ts';
import { ChallengeRequest, VerifyRequest } from '../../functions/contracts/api.ts';
import { KeyCreateRequest } from '../../functions/contracts/keys.ts';
import { SyncBatch } from '../../functions/contracts/sync.ts';
import { buildAdminApp } from '../../functions/deps.ts';
import { jsonRequest, TABLE } from '../support/cloud.ts';
import { type SecurityFixture, startSecurityFixture } from '../support/security.ts';

let fx: SecurityFixture;
beforeAll(async () => {
  fx = await startSecurityFixture();
});
afterAll(async () => fx?.close());

const bearer = (key: string) => ({ headers: { authorization: `Bearer ${key}` } });

async function mint(adminKey: string, kind: string) {
  const res = await fx.admin.fetch('/v1/keys', jsonRequest({ kind }, adminKey));
  const body = (await res.json()) as { key: string; prefix: string; kind: string; createdAt: string };
  if (res.status === 201) fx.secrets.add(body.key);
  return { status: res.status, body, headers: res.headers };
}

describe('tenant keys', () => {
  it('mints a key of each tenant kind, shown once, that works for its kind only', async () => {
    const t = await fx.tenant('keys-mint', {}, [{ username: 'alice' }]);
    const auth = await mint(t.keys.admin, 'auth');
    expect(auth.status).toBe(201);
    expect(auth.headers.get('cache-control')).toBe('no-store');
    expect(auth.body.key).toMatch(/^sp\.auth\.keys-mint\.[A-Za-z0-9_-]{32}$/);
    expect(auth.body.key.startsWith(auth.body.prefix)).toBe(true);
    const created = await fx.cloud.app.request(
      '/v1/challenges',
      jsonRequest({ username: 'alice' }, auth.body.key),
    );
    expect(created.status).toBe(201);

    const sync = await mint(t.keys.admin, 'sync');
    expect(sync.body.key).toMatch(/^sp\.sync\.keys-mint\./);
    expect(
      (await fx.cloud.app.request('/v1/challenges', jsonRequest({ username: 'alice' }, sync.body.key)))
        .status,
    ).toBe(401);

    const admin = await mint(t.keys.admin, 'admin');
    expect((await fx.admin.fetch('/v1/keys', bearer(admin.body.key))).status).toBe(200);

    expect((await mint(t.keys.admin, 'operator')).status).toBe(400);
    expect((await mint(t.keys.admin, 'root')).status).toBe(400);
  });

  it('lists keys by prefix with neither the key nor its hash', async () => {
    const t = await fx.tenant('keys-list');
    const minted = await mint(t.keys.admin, 'auth');
    const res = await fx.admin.fetch('/v1/keys?prefix=sp.auth.', bearer(t.keys.admin));
    const body = (await res.json()) as { keys: Array<Record<string, string>> };
    expect(res.status).toBe(200);
    expect(body.keys.map((k) => k.prefix)).toContain(minted.body.prefix);
    expect(body.keys.every((k) => k.kind === 'auth')).toBe(true);
    const text = JSON.stringify(body);
    expect(text).not.toContain(minted.body.key.split('.')[3]);
    expect(text).not.toMatch(/[0-9a-f]{64}/);
    const all = (await (await fx.admin.fetch('/v1/keys', bearer(t.keys.admin))).json()) as {
      keys: unknown[];
    };
    expect(all.keys.length).toBeGreaterThanOrEqual(4);
    expect((await fx.admin.fetch('/v1/keys?kind=root', bearer(t.keys.admin))).status).toBe(400);
  });

  it('revokes at once: the very next request with the key is refused', async () => {
    const t = await fx.tenant('keys-revoke', {}, [{ username: 'alice' }]);
    const { body } = await mint(t.keys.admin, 'auth');
    expect(
      (await fx.cloud.app.request('/v1/challenges', jsonRequest({ username: 'alice' }, body.key))).status,
    ).toBe(201);
    const revoked = await fx.admin.fetch(`/v1/keys/${body.prefix}`, {
      method: 'DELETE',
      ...bearer(t.keys.admin),
    });
    expect(revoked.status).toBe(200);
    expect(await revoked.json()).toEqual({ prefix: body.prefix, revokedAt: expect.any(String) });
    const after = await fx.cloud.app.request('/v1/challenges', jsonRequest({ username: 'alice' }, body.key));
    expect(after.status).toBe(401);
    expect(
      (await fx.admin.fetch(`/v1/keys/${body.prefix}`, { method: 'DELETE', ...bearer(t.keys.admin) })).status,
    ).toBe(404);
    const listed = (await (
      await fx.admin.fetch('/v1/keys?includeRevoked=true', bearer(t.keys.admin))
    ).json()) as {
      keys: Array<{ prefix: string; revokedAt?: string }>;
    };
    expect(listed.keys.find((k) => k.prefix === body.prefix)?.revokedAt).toBeDefined();
  });

  it("never lets one tenant's admin key see or revoke another tenant's keys", async () => {
    const a = await fx.tenant('keys-a');
    const b = await fx.tenant('keys-b');
    const victim = await mint(b.keys.admin, 'auth');
    const listed = (await (await fx.admin.fetch('/v1/keys', bearer(a.keys.admin))).json()) as {
      keys: Array<{ prefix: string }>;
    };
    expect(listed.keys.every((k) => k.prefix.includes('.keys-a.'))).toBe(true);
    const res = await fx.admin.fetch(`/v1/keys/${victim.body.prefix}`, {
      method: 'DELETE',
      ...bearer(a.keys.admin),
    });
    expect(res.status).toBe(404);
    const stillWorks = await fx.admin.fetch('/v1/keys', bearer(b.keys.admin));
    expect(stillWorks.status).toBe(200);
    // A minted key names its own tenant: A cannot mint a key for B.
    const own = await mint(a.keys.admin, 'auth');
    expect(own.body.key).toMatch(/^sp\.auth\.keys-a\./);
  });

  it('audits every key minted and revoked, never with the key', async () => {
    const t = await fx.tenant('keys-audit');
    const { body } = await mint(t.keys.admin, 'sync');
    await fx.admin.fetch(`/v1/keys/${body.prefix}`, { method: 'DELETE', ...bearer(t.keys.admin) });
    const { entries } = await new DynamoAuditLog(fx.cloud.dynamo, TABLE, fx.clock).list('keys-audit');
    expect(entries.map((e) => e.action)).toEqual(['key.revoked', 'key.created']);
    expect(entries[0]?.actor).toMatch(/^key:sp\.admin\.keys-audit\./);
    expect(JSON.stringify(entries)).not.toContain(body.key.split('.')[3]);
  });
});

describe('GET /v1/openapi.json', () => {
  it('describes the challenge, sync and admin APIs with the very schemas that validate them', async () => {
    const adminApp = buildAdminApp({
      dynamo: fx.cloud.dynamo,
      table: TABLE,
      log: fx.cloud.log,
      clock: fx.clock,
    });
    const res = await adminApp.request('/v1/openapi.json');
    expect(res.status).toBe(200);
    const doc = (await res.json()) as {
      openapi: string;
      paths: Record<
        string,
        Record<string, { requestBody?: { content: Record<string, { schema: unknown }> } }>
      >;
      components: { schemas: Record<string, unknown> };
    };
    expect(doc.openapi).toBe('3.1.0');
    for (const path of [
      '/v1/challenges',
      '/v1/challenges/{id}/verify',
      '/v1/challenges/{id}',
      '/v1/keys',
      '/v1/keys/{prefix}',
    ])
      expect(Object.keys(doc.paths)).toContain(path);
    const strip = (s: object) => {
      const { $schema: _, ...rest } = s as Record<string, unknown>;
      return rest;
    };
    const body = (path: string, method: string) =>
      doc.paths[path]?.[method]?.requestBody?.content['application/json']?.schema;
    expect(body('/v1/challenges', 'post')).toEqual(strip(z.toJSONSchema(ChallengeRequest, { io: 'input' })));
    expect(body('/v1/challenges/{id}/verify', 'post')).toEqual(
      strip(z.toJSONSchema(VerifyRequest, { io: 'input' })),
    );
    expect(body('/v1/keys', 'post')).toEqual(strip(z.toJSONSchema(KeyCreateRequest, { io: 'input' })));
    expect(doc.components.schemas.ErrorReply).toBeDefined();
    // Every route the deployment serves is in it, the sync and admin APIs included.
    for (const route of HTTP_ROUTES)
      expect(doc.paths[route.path]?.[route.method.toLowerCase()]).toBeDefined();
    expect(body('/v1/sync/runs/{runId}/users', 'put')).toEqual(
      strip(z.toJSONSchema(SyncBatch, { io: 'input' })),
    );
    expect(body('/v1/group-policies', 'post')).toEqual(
      strip(z.toJSONSchema(GroupPolicyInput, { io: 'input', unrepresentable: 'any' })),
    );
  });
});

describe('logs', () => {
  it('never held a passcode or key in any log line during this suite', () => {
    fx.assertNoSecretsLogged();
  });
});
