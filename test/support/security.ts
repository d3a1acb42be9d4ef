/**
 * Helpers for the challenge security suites: a cloud fixture with a settable clock, the admin security routes on
 * the same table, tenants configured per test, users put straight into the table, and the code read back from
 * the sealed dispatch message the way the SMS would carry it. Every code and key seen is remembered, so a
 * suite can assert none of them ever reached a log line.
 */

import { PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { expect } from 'vitest';
import { tenantItem, userItem } from '../../functions/adapters/dynamo/keys.ts';
import { DispatchMessage } from '../../functions/contracts/queue.ts';
import { openDispatchPayload } from '../../functions/core/dispatch.ts';
import type { User } from '../../functions/core/model.ts';
import { buildAdminSecurityRoutes } from '../../functions/deps.ts';
import { type DemoSeed, seedTenant } from '../../functions/local/seed.ts';
import { type CloudFixture, jsonRequest, startCloud, TABLE } from './cloud.ts';

export interface SecurityFixture {
  cloud: CloudFixture;
  clock: { now(): number; advance(ms: number): void };
  admin: { fetch(path: string, init?: RequestInit): Promise<Response> };
  /** Every passcode and key the suite has handled, for the log assertion. */
  secrets: Set<string>;
  tenant(
    id: string,
    fields?: Record<string, unknown>,
    users?: Array<Partial<User> & { username: string }>,
  ): Promise<DemoSeed>;
  create(
    seed: DemoSeed,
    username: string,
    client?: { ip?: string; name?: string },
  ): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }>;
  verify(
    seed: DemoSeed,
    id: string,
    passcode: string,
    client?: { ip?: string },
  ): Promise<{ status: number; body: Record<string, unknown> }>;
  /** The texts of the SMS queued since the last call, by challenge id. */
  sent(): Promise<Map<string, { to: string; text: string }>>;
  codeOf(text: string): string;
  /** Every log line of the suite: the fixture's logger, and anything else written to stdout or stderr. */
  allLogs(): string;
  assertNoSecretsLogged(): void;
  close(): Promise<void>;
}

export async function startSecurityFixture(): Promise<SecurityFixture> {
  let offset = 0;
  const clock = {
    now: () => Date.now() + offset,
    advance: (ms: number) => {
      offset += ms;
    },
  };
  const cloud = await startCloud({ clock });
  const stray: string[] = [];
  const original = {
    out: process.stdout.write.bind(process.stdout),
    err: process.stderr.write.bind(process.stderr),
  };
  const capture =
    (write: typeof process.stdout.write) =>
    (chunk: unknown, ...rest: unknown[]): boolean => {
      stray.push(String(chunk));
      return (write as (c: unknown, ...r: unknown[]) => boolean)(chunk, ...rest);
    };
  process.stdout.write = capture(original.out) as typeof process.stdout.write;
  process.stderr.write = capture(original.err) as typeof process.stderr.write;

  const routes = buildAdminSecurityRoutes({
    dynamo: cloud.dynamo,
    table: TABLE,
    log: cloud.log,
    clock,
  });
  const admin = {
    fetch: async (path: string, init?: RequestInit) => {
      const url = `http://local${path}`;
      if (path.startsWith('/v1/keys')) return routes.keys.request(path.slice('/v1/keys'.length) || '/', init);
      return routes.lockouts.request(url.slice('http://local/v1'.length), init);
    },
  };
  const secrets = new Set<string>();
  const drained = new Set<string>();
  const remember = (seed: DemoSeed) => {
    for (const key of Object.values(seed.keys)) secrets.add(key);
  };
  remember(cloud.seed);
  remember(cloud.other);

  const fixture: SecurityFixture = {
    cloud,
    clock,
    admin,
    secrets,
    async tenant(id, fields = {}, users = []) {
      const seed = await seedTenant(cloud.dynamo, TABLE, { tenantId: id, users: [] });
      remember(seed);
      const names = Object.keys(fields);
      if (names.length > 0)
        await cloud.dynamo.send(
          new UpdateItemCommand({
            TableName: TABLE,
            Key: marshall(tenantItem(id)),
            UpdateExpression: `SET ${names.map((_, i) => `#f${i} = :v${i}`).join(', ')}`,
            ExpressionAttributeNames: Object.fromEntries(names.map((n, i) => [`#f${i}`, n])),
            ExpressionAttributeValues: marshall(
              Object.fromEntries(names.map((n, i) => [`:v${i}`, fields[n]])),
            ),
          }),
        );
      for (const user of users)
        await cloud.dynamo.send(
          new PutItemCommand({
            TableName: TABLE,
            Item: marshall(
              {
                ...userItem(id, user.username),
                tenantId: id,
                mobile: '+4520123456',
                secondaryMobile: null,
                email: null,
                ...user,
              },
              { removeUndefinedValues: true },
            ),
          }),
        );
      return seed;
    },
    async create(seed, username, client = { ip: '203.0.113.7', name: 'vpn-gw-1' }) {
      const res = await cloud.app.request(
        '/v1/challenges',
        jsonRequest({ username, client }, seed.keys.auth),
      );
      return {
        status: res.status,
        body: (await res.json()) as Record<string, unknown>,
        headers: res.headers,
      };
    },
    async verify(seed, id, passcode, client) {
      secrets.add(passcode);
      const res = await cloud.app.request(
        `/v1/challenges/${id}/verify`,
        jsonRequest({ passcode, ...(client && { client }) }, seed.keys.auth),
      );
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    },
    async sent() {
      const out = new Map<string, { to: string; text: string }>();
      for (const body of await cloud.drainQueue()) {
        const message = DispatchMessage.parse(JSON.parse(body));
        // The drain does not delete, so a message may come round again after its visibility timeout.
        if (drained.has(message.challengeId)) continue;
        drained.add(message.challengeId);
        const opened = openDispatchPayload(cloud.keys, message);
        const payload = { to: opened.targets.primary ?? '', text: opened.text };
        out.set(message.challengeId, payload);
        secrets.add(fixture.codeOf(payload.text));
      }
      return out;
    },
    codeOf(text) {
      const m = /code is ([A-Za-z0-9]+)/.exec(text);
      if (!m) throw new Error('no code in the message');
      return m[1]!;
    },
    allLogs: () => [...cloud.logLines, ...stray].join('\n'),
    assertNoSecretsLogged() {
      const logs = fixture.allLogs();
      expect(cloud.logLines.length).toBeGreaterThan(0);
      for (const secret of secrets) {
        // A key's secret part alone is what must never leak; its listing prefix may be shown.
        const needle = secret.startsWith('sp.') ? secret.slice(secret.lastIndexOf('.') + 1) : secret;
        if (needle.length >= 6)
          expect(logs.includes(needle), 'a passcode or key reached a log line').toBe(false);
      }
      expect(logs).not.toMatch(/\+45\d{8}/);
    },
    async close() {
      process.stdout.write = original.out;
      process.stderr.write = original.err;
      await cloud.close();
    },
  };
  return fixture;
}
