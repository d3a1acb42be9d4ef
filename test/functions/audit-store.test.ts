/** The audit log port's contract, run against the DynamoDB adapter on dynalite. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoAuditLog, InvalidAuditCursorError } from '../../functions/adapters/dynamo/audit-store.ts';
import type { AuditEntry, AuditLog } from '../../functions/core/ports/audit.ts';
import { localDynamo } from '../../functions/local/aws-local.ts';
import { ensureTable, type LocalDynamo, startDynalite } from '../../functions/local/dynamo.ts';

const TABLE = 'audit-test';
let db: LocalDynamo;
let dynamo: ReturnType<typeof localDynamo>;
let now = Date.parse('2026-03-15T12:00:00.000Z');
const clock = { now: () => now };

beforeAll(async () => {
  db = await startDynalite();
  dynamo = localDynamo(db.endpoint);
  await ensureTable(dynamo, TABLE);
});
afterAll(async () => {
  dynamo?.destroy();
  await db?.close();
});

const entry = (tenantId: string, at: string, n: number): AuditEntry => ({
  tenantId,
  at,
  actor: 'key:sp.admin.acme.abcd',
  action: 'user.updated',
  target: `user:u${n}`,
  before: { mobile: '+4520123456' },
  after: { mobile: '+4520999999', n },
  details: { reason: 'sync', count: n, ok: true, none: null },
});

function auditLogContract(name: string, make: () => AuditLog) {
  describe(`AuditLog contract: ${name}`, () => {
    it('lists a tenant newest first across months, page by page, and never another tenant', async () => {
      const log = make();
      const times = [
        '2026-01-03T10:00:00.000Z',
        '2026-02-01T00:00:00.000Z',
        '2026-02-20T08:00:00.000Z',
        '2026-03-01T09:00:00.000Z',
        '2026-03-14T09:00:00.000Z',
      ];
      for (const [i, at] of times.entries()) await log.record(entry('t-list', at, i));
      await log.record(entry('t-other', '2026-03-14T10:00:00.000Z', 99));

      const seen: AuditEntry[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < 10; page++) {
        const out = await log.list('t-list', { limit: 2, ...(cursor && { cursor }) });
        expect(out.entries.length).toBeLessThanOrEqual(2);
        seen.push(...out.entries);
        cursor = out.cursor;
        if (!cursor) break;
      }
      expect(seen.map((e) => e.at)).toEqual([...times].reverse());
      expect(seen.every((e) => e.tenantId === 't-list')).toBe(true);
      expect(seen[0]).toMatchObject({ action: 'user.updated', target: 'user:u4', details: { count: 4 } });
    });

    it('never stores a full phone number, even one a writer forgot to mask', async () => {
      const log = make();
      await log.record(entry('t-mask', '2026-03-10T00:00:00.000Z', 1));
      const [stored] = (await log.list('t-mask')).entries;
      expect(JSON.stringify(stored)).not.toMatch(/\+45\d{8}/);
      expect(stored?.before).toEqual({ mobile: '+45 •• •• •• 56' });
    });

    it('refuses a cursor it did not hand out', async () => {
      await expect(make().list('t-list', { cursor: 'not-a-cursor' })).rejects.toBeInstanceOf(
        InvalidAuditCursorError,
      );
    });
  });
}

auditLogContract('DynamoDB (dynalite)', () => new DynamoAuditLog(dynamo, TABLE, clock));

it('keeps entries of the same millisecond apart', async () => {
  now = Date.parse('2026-03-15T12:00:00.000Z');
  const log = new DynamoAuditLog(dynamo, TABLE, clock);
  const at = '2026-03-15T11:00:00.000Z';
  await Promise.all([1, 2, 3].map((n) => log.record(entry('t-same', at, n))));
  expect((await log.list('t-same')).entries).toHaveLength(3);
});

describe('accepted challenges in the audit log', () => {
  it('lists each accept (made by the accept write itself) among the entries, in time order, once, across pages', async () => {
    const { DynamoChallengeStore } = await import('../../functions/adapters/dynamo/challenge-store.ts');
    const store = new DynamoChallengeStore(dynamo, TABLE);
    const log = new DynamoAuditLog(dynamo, TABLE, clock);
    const tenantId = 'acc-tenant';
    const expected: string[] = [];
    for (let i = 0; i < 3; i++) {
      const at = `2026-03-0${i + 1}T10:00:00.000Z`;
      await log.record({ ...entry(tenantId, at, i) });
      expected.push(`user.updated@${at}`);
      const id = `challenge-accepted-${i}-xxxxxxxx`;
      await store.create({
        tenantId,
        id,
        username: `u${i}`,
        userKnown: true,
        codeHash: 'h',
        status: 'pending',
        createdAt: at,
        expiresAt: '2026-04-01T00:00:00.000Z',
        attempts: 0,
        maxAttempts: 3,
        destination: '+45 •• •• •• 56',
        client: {},
        deliveries: [],
      });
      const acceptedAt = `2026-03-0${i + 1}T10:00:05.000Z`;
      const accepted = await store.settleAttempt(
        tenantId,
        id,
        0,
        { kind: 'accept', method: 'sent', codeHash: 'h', actor: 'key:sp.auth.acc.abcd' },
        { nonce: `n${i}`, nowIso: acceptedAt },
      );
      expect(accepted).toBe(true);
      expected.push(`challenge.accepted@${acceptedAt}`);
    }
    const seen: AuditEntry[] = [];
    let cursor: string | undefined;
    do {
      const page = await log.list(tenantId, { limit: 2, ...(cursor && { cursor }) });
      seen.push(...page.entries);
      cursor = page.cursor;
    } while (cursor);
    expect(seen.map((e) => `${e.action}@${e.at}`)).toEqual(expected.reverse());
    expect(seen.find((e) => e.action === 'challenge.accepted')).toMatchObject({
      actor: 'key:sp.auth.acc.abcd',
      target: 'challenge:challenge-accepted-2-xxxxxxxx',
      // The accept takes an attempt slot of its own, so a first-time right code shows one attempt.
      details: { username: 'u2', passcode: 'sent', attempts: 1 },
    });
  });
});
