/**
 * One tenant at 1,000 logins a second: the month partitions a login writes to (the message log, gsi2, at
 * create; the accepted-challenge audit entries, gsi3, at accept) are spread over shards so that none takes more
 * than DynamoDB's 1,000 write units a second; and a login writes nothing to the audit partition, its challenge
 * item standing for its `challenge.created` entry. Readers merge the shards, page by page, in order. On dynalite.
 */
import { QueryCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoAuditLog } from '../../functions/adapters/dynamo/audit-store.ts';
import { DynamoChallengeStore } from '../../functions/adapters/dynamo/challenge-store.ts';
import { auditPartition, LOG_SHARDS } from '../../functions/adapters/dynamo/keys.ts';
import { DynamoMessageLogStore } from '../../functions/adapters/dynamo/message-log-store.ts';
import { newId } from '../../functions/core/ids.ts';
import type { Challenge } from '../../functions/core/model.ts';
import { type CloudFixture, jsonRequest, startCloud, TABLE } from '../support/cloud.ts';
import { indexShapes, itemSize } from '../support/dynamo-meter.ts';

let cloud: CloudFixture;
beforeAll(async () => {
  cloud = await startCloud();
});
afterAll(async () => cloud?.close());

const LOGINS_PER_SECOND = 1000;
const PARTITION_WCU_PER_SECOND = 1000;

function challenge(tenantId: string, createdAt: string, i: number): Challenge {
  return {
    tenantId,
    id: newId(),
    username: `user${i}`,
    userKnown: true,
    codeHash: 'h'.repeat(43),
    status: 'pending',
    createdAt,
    expiresAt: new Date(Date.parse(createdAt) + 300_000).toISOString(),
    attempts: 0,
    maxAttempts: 3,
    destination: '+45 •• •• •• 56',
    client: { ip: '203.0.113.7', name: 'vpn-gw-1' },
    deliveries: [],
  };
}

async function scanTenant(tenantId: string) {
  const items: Array<Record<string, unknown>> = [];
  const raw: Array<Parameters<typeof itemSize>[0]> = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await cloud.dynamo.send(
      new ScanCommand({ TableName: TABLE, ...(start && { ExclusiveStartKey: marshall(start) }) }),
    );
    for (const item of out.Items ?? []) {
      const plain = unmarshall(item);
      if (plain.tenantId !== tenantId) continue;
      items.push(plain);
      raw.push(item);
    }
    start = out.LastEvaluatedKey ? unmarshall(out.LastEvaluatedKey) : undefined;
  } while (start);
  return { items, raw };
}

describe('month partitions at 1,000 logins a second', () => {
  it('gives no message-log or accepted-audit partition more than its share of the writes', async () => {
    const tenantId = 'shard-tenant';
    const store = new DynamoChallengeStore(cloud.dynamo, TABLE);
    const logins = 400;
    const at = new Date().toISOString();
    const made = Array.from({ length: logins }, (_, i) => challenge(tenantId, at, i));
    for (let i = 0; i < made.length; i += 50)
      await Promise.all(
        made.slice(i, i + 50).map(async (c) => {
          await store.create(c, {
            audit: {
              tenantId,
              at,
              actor: 'key:test',
              action: 'challenge.created',
              target: `challenge:${c.id}`,
            },
          });
          expect(
            await store.settleAttempt(
              tenantId,
              c.id,
              0,
              { kind: 'accept', method: 'sent', codeHash: c.codeHash, actor: 'key:test' },
              { nonce: newId(8), nowIso: at },
            ),
          ).toBe(true);
        }),
      );
    const { items, raw } = await scanTenant(tenantId);
    const shapes = new Map(indexShapes().map((s) => [s.name, s]));
    for (const [index, key] of [
      ['gsi2', 'gsi2pk'],
      ['gsi3', 'gsi3pk'],
    ] as const) {
      const wcu = new Map<string, number>();
      items.forEach((item, n) => {
        const pk = item[key];
        if (typeof pk !== 'string') return;
        // each entry is written once per login (gsi2 at create, gsi3 at accept), in 1 KB units
        const units = Math.ceil((itemSize(shapes.get(index)!.projected(raw[n]!)) + 100) / 1024);
        wcu.set(pk, (wcu.get(pk) ?? 0) + units);
      });
      expect(wcu.size).toBe(LOG_SHARDS);
      for (const [pk, units] of wcu) {
        const perSecond = (units / logins) * LOGINS_PER_SECOND;
        // an even share is 1000 / LOG_SHARDS; random ids leave it within a quarter of that
        expect(perSecond, `${index} ${pk}`).toBeLessThanOrEqual((1.25 * LOGINS_PER_SECOND) / LOG_SHARDS);
        expect(perSecond, `${index} ${pk}`).toBeLessThan(PARTITION_WCU_PER_SECOND);
      }
    }
    // nothing in the month's audit partition: the challenge items stand for their created entries
    const audit = await cloud.dynamo.send(
      new QueryCommand({
        TableName: TABLE,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: marshall({ ':pk': auditPartition(tenantId, at.slice(0, 7)).pk }),
        Select: 'COUNT',
      }),
    );
    expect(audit.Count).toBe(0);
  });

  it('lists the message log and the audit log across shards newest first, each entry once, page by page', async () => {
    const tenantId = 'page-tenant';
    const store = new DynamoChallengeStore(cloud.dynamo, TABLE);
    const base = Date.now() - 60_000;
    const made: Challenge[] = [];
    for (let i = 0; i < 23; i++) {
      const c = challenge(tenantId, new Date(base + i * 1000).toISOString(), i);
      made.push(c);
      await store.create(c, {
        audit: {
          tenantId,
          at: c.createdAt,
          actor: 'key:test',
          action: 'challenge.created',
          target: `challenge:${c.id}`,
        },
      });
    }
    const newestFirst = [...made].reverse().map((c) => c.id);

    const log = new DynamoMessageLogStore(cloud.dynamo, TABLE);
    const listed: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await log.list(tenantId, {
        since: new Date(base - 86_400_000).toISOString(),
        limit: 4,
        ...(cursor && { cursor }),
      });
      listed.push(...page.challenges.map((c) => c.id));
      cursor = page.cursor;
    } while (cursor);
    expect(listed).toEqual(newestFirst);

    const audit = new DynamoAuditLog(cloud.dynamo, TABLE);
    const entries: string[] = [];
    cursor = undefined;
    do {
      const page = await audit.list(tenantId, { limit: 5, ...(cursor && { cursor }) });
      entries.push(...page.entries.map((e) => `${e.action} ${e.target}`));
      cursor = page.cursor;
    } while (cursor);
    expect(entries).toEqual(newestFirst.map((id) => `challenge.created challenge:${id}`));
  });
});

describe('challenge.created without an audit item', () => {
  it("shows a known user's login in the audit log with who made it and what it was, from the challenge item", async () => {
    const res = await cloud.app.request(
      '/v1/challenges',
      jsonRequest(
        { username: 'alice', client: { ip: '203.0.113.9', name: 'vpn-gw-2' } },
        cloud.seed.keys.auth,
      ),
    );
    expect(res.status).toBe(201);
    const { challengeId } = (await res.json()) as { challengeId: string };
    const audit = new DynamoAuditLog(cloud.dynamo, TABLE);
    const { entries } = await audit.list(cloud.seed.tenantId, { limit: 50 });
    const created = entries.filter((e) => e.target === `challenge:${challengeId}`);
    expect(created).toEqual([
      {
        tenantId: cloud.seed.tenantId,
        at: expect.any(String),
        actor: expect.stringMatching(/^key:/),
        action: 'challenge.created',
        target: `challenge:${challengeId}`,
        details: {
          username: 'alice',
          destination: '+45 •• •• •• 56',
          clientIp: '203.0.113.9',
          clientName: 'vpn-gw-2',
          knownUser: true,
        },
      },
    ]);
    const { items } = await scanTenant(cloud.seed.tenantId);
    expect(
      items.filter((i) => String(i.pk).startsWith('AUDIT#') && i.target === `challenge:${challengeId}`),
    ).toEqual([]);
  });

  it("still writes an audit item for an unknown user's (decoy) challenge, listed once", async () => {
    const res = await cloud.app.request(
      '/v1/challenges',
      jsonRequest({ username: 'nobody-here', client: { ip: '203.0.113.9' } }, cloud.seed.keys.auth),
    );
    expect(res.status).toBe(201);
    const { challengeId } = (await res.json()) as { challengeId: string };
    const { entries } = await new DynamoAuditLog(cloud.dynamo, TABLE).list(cloud.seed.tenantId, {
      limit: 50,
    });
    const created = entries.filter((e) => e.target === `challenge:${challengeId}`);
    expect(created).toHaveLength(1);
    expect(created[0]).toMatchObject({ action: 'challenge.created', details: { knownUser: false } });
  });
});
