/**
 * The operator, admin and sync apps over the test cloud (dynalite with the seeded tenants `acme` and `globex`),
 * built by the same code the Lambda entries use, plus small helpers to call them.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { IoTClient } from '@aws-sdk/client-iot';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { Hono } from 'hono';
import { KeyFileCredentialCipher } from '../../functions/adapters/credentials/key-file-cipher.ts';
import { keyItem } from '../../functions/adapters/dynamo/keys.ts';
import { IotAgentIdentities } from '../../functions/adapters/iot/iot-identities.ts';
import { mintKey } from '../../functions/core/api-keys.ts';
import type { Clock } from '../../functions/core/clock.ts';
import { buildAdminApp, buildOperatorApp, buildSyncApp } from '../../functions/deps.ts';
import { directoryStores } from '../../functions/directory-deps.ts';
import { type CloudFixture, startCloud, TABLE } from './cloud.ts';

export interface DirectoryFixture extends CloudFixture {
  sync: Hono;
  admin: Hono;
  operator: Hono;
  dir: ReturnType<typeof directoryStores>;
  /** What the admin app seals provider secrets with. */
  cipher: KeyFileCredentialCipher;
  call(
    app: Hono,
    method: string,
    path: string,
    key: string | undefined,
    body?: unknown,
    // biome-ignore lint/suspicious/noExplicitAny: replies are asserted field by field in the tests
  ): Promise<{ status: number; body: any }>;
  /** A fresh tenant made through the operator API, with a sync key of its own (minted as the admin key is). */
  newTenant(id: string, userLimit: number): Promise<{ syncKey: string; adminKey: string }>;
}

export async function startDirectory(options: { clock?: Clock } = {}): Promise<DirectoryFixture> {
  const cloud = await startCloud(options);
  // Provider secrets are sealed with a key file, as on the local stack.
  const cipher = KeyFileCredentialCipher.fromDirectory(mkdtempSync(join(tmpdir(), 'smspass-keys-')));
  const ctx = {
    dynamo: cloud.dynamo,
    table: TABLE,
    log: cloud.log,
    cipher,
    ...(options.clock && { clock: options.clock }),
  };
  const fixture: DirectoryFixture = {
    ...cloud,
    sync: buildSyncApp(ctx) as unknown as Hono,
    // As the Lambda entry builds it; these tests never enrol an agent, so IoT Core is never called.
    admin: buildAdminApp({
      ...ctx,
      identities: new IotAgentIdentities(new IoTClient({ region: 'eu-west-1' }), {
        policyName: 'test-edge-agent',
        dataEndpoint: 'iot.invalid',
      }),
    }) as unknown as Hono,
    operator: buildOperatorApp(ctx) as unknown as Hono,
    dir: directoryStores(ctx),
    cipher,
    async call(app, method, path, key, body) {
      const res = await app.request(path, {
        method,
        headers: {
          ...(key && { authorization: `Bearer ${key}` }),
          ...(body !== undefined && { 'content-type': 'application/json' }),
        },
        ...(body !== undefined && { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined };
    },
    async newTenant(id, userLimit) {
      const created = await fixture.call(
        fixture.operator,
        'POST',
        '/v1/operator/tenants',
        cloud.seed.keys.operator,
        {
          id,
          name: `Tenant ${id}`,
          defaultCountry: 'DK',
          userLimit,
        },
      );
      if (created.status !== 201) throw new Error(`tenant ${id} was not created: ${created.status}`);
      const sync = mintKey('sync', id);
      await cloud.dynamo.send(
        new PutItemCommand({
          TableName: TABLE,
          Item: marshall({
            ...keyItem(sync.hash),
            kind: 'sync',
            tenantId: id,
            prefix: sync.prefix,
            createdAt: '',
          }),
        }),
      );
      return { syncKey: sync.key, adminKey: created.body.adminKey as string };
    },
  };
  return fixture;
}

export interface AdUser {
  id: string;
  username: string;
  domain: string;
  displayName: string | null;
  mobile: string | null;
  secondaryMobile: string | null;
  email: string | null;
  groups: string[];
}

export function adUsers(prefix: string, n: number, start = 0): AdUser[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `${prefix}-guid-${start + i}`,
    username: `${prefix}${start + i}`,
    domain: 'corp.example.test',
    displayName: `${prefix} user ${start + i}`,
    mobile: `+4520${String(100000 + start + i).slice(-6)}`,
    secondaryMobile: null,
    email: `${prefix}${start + i}@corp.example.test`,
    groups: ['CN=VPN Users,OU=Groups,DC=corp,DC=example,DC=test'],
  }));
}
