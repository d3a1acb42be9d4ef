/**
 * The audit log in the single table. Entries of one tenant and month share a partition and sort by time, so a
 * page is one Query read backwards; listing walks back month by month up to the retention.
 */

import { type DynamoDBClient, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { type Clock, systemClock } from '../../core/clock.ts';
import { InvalidRequestError } from '../../core/errors.ts';
import { newId } from '../../core/ids.ts';
import { maskPhonesIn } from '../../core/phone.ts';
import type { AuditEntry, AuditLog } from '../../core/ports/audit.ts';
import { auditPartition, challengeAuditPartition, challengeItem } from './keys.ts';

/** How far back a listing reaches, and how long DynamoDB TTL keeps entries. */
export const AUDIT_RETENTION_MONTHS = 13;
export const AUDIT_RETENTION_SECONDS = 400 * 24 * 3600;
const RETENTION_SECONDS = AUDIT_RETENTION_SECONDS;
const MAX_PAGE = 200;

interface Cursor {
  /** The month partition to continue in. */
  m: string;
  /** The sort key to continue after; absent to start that month from its newest entry. */
  s?: string;
  /** Likewise in the month's accepted challenges (gsi1). */
  g?: string;
}

const monthOf = (iso: string) => iso.slice(0, 7);

function previousMonth(month: string): string {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return m === 1 ? `${y - 1}-12` : `${y}-${String(m - 1).padStart(2, '0')}`;
}

function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

function decodeCursor(raw: string | undefined): Cursor | undefined {
  if (!raw) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as Cursor;
    // A real month only: '0000-00' would make previousMonth() stand still and the listing never end.
    if (typeof parsed.m !== 'string' || !/^\d{4}-(0[1-9]|1[0-2])$/.test(parsed.m)) return undefined;
    if (parsed.s !== undefined && (typeof parsed.s !== 'string' || parsed.s.length > 100)) return undefined;
    if (
      parsed.g !== undefined &&
      (typeof parsed.g !== 'string' || !/^[^#]{1,40}#[A-Za-z0-9_-]{16,64}$/.test(parsed.g))
    )
      return undefined;
    return parsed;
  } catch {
    return undefined;
  }
}

/** Defence in depth: whatever a writer forgot to mask, no full phone number reaches the table. */
const masked = (value: unknown) => maskPhonesIn(JSON.stringify(value));

/** The item one audit entry is stored as; other stores may write it in the same batch as their own items. */
export function auditRecordItem(entry: AuditEntry) {
  return {
    ...auditPartition(entry.tenantId, monthOf(entry.at)),
    // A random tail keeps two entries of the same millisecond apart.
    sk: `${entry.at}#${newId(6)}`,
    tenantId: entry.tenantId,
    at: entry.at,
    actor: entry.actor,
    action: entry.action,
    target: maskPhonesIn(entry.target),
    ...(entry.before !== undefined && { before: masked(entry.before) }),
    ...(entry.after !== undefined && { after: masked(entry.after) }),
    ...(entry.details && { details: masked(entry.details) }),
    ttl: Math.ceil(Date.parse(entry.at) / 1000) + RETENTION_SECONDS,
  };
}

export class InvalidAuditCursorError extends InvalidRequestError {
  constructor() {
    super('The audit cursor is not one this log handed out.');
  }
}

export class DynamoAuditLog implements AuditLog {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
    private readonly clock: Clock = systemClock,
  ) {}

  async record(entry: AuditEntry): Promise<void> {
    await this.client.send(
      new PutItemCommand({ TableName: this.table, Item: marshall(auditRecordItem(entry)) }),
    );
  }

  async list(
    tenantId: string,
    options: { limit?: number; cursor?: string } = {},
  ): Promise<{ entries: AuditEntry[]; cursor?: string }> {
    const limit = Math.min(Math.max(1, options.limit ?? 50), MAX_PAGE);
    const newest = monthOf(new Date(this.clock.now()).toISOString());
    let oldest = newest;
    for (let i = 1; i < AUDIT_RETENTION_MONTHS; i++) oldest = previousMonth(oldest);
    const start = options.cursor === undefined ? { m: newest } : decodeCursor(options.cursor);
    // A cursor outside the retained months was not handed out by this log.
    if (!start || start.m > newest || start.m < oldest) throw new InvalidAuditCursorError();

    // Two newest-first streams per month, merged by time: the audit entries, and the accepted challenges
    // (each accept write makes its challenge the `challenge.accepted` entry, listed through gsi1).
    const entries: AuditEntry[] = [];
    let month = start.m;
    let after = start.s;
    let acceptedAfter = start.g;
    while (month >= oldest && entries.length < limit) {
      const need = limit - entries.length;
      const [audit, accepted] = await Promise.all([
        this.auditPage(tenantId, month, after, need),
        this.acceptedPage(tenantId, month, acceptedAfter, need),
      ]);
      const merged = [
        ...audit.rows.map((r) => ({ ...r, fromAudit: true })),
        ...accepted.rows.map((r) => ({ ...r, fromAudit: false })),
      ].sort((a, b) => (a.key < b.key ? 1 : a.key > b.key ? -1 : 0));
      const taken = merged.slice(0, need);
      for (const row of taken) {
        entries.push(row.entry);
        if (row.fromAudit) after = row.key;
        else acceptedAfter = row.key;
      }
      const takenAudit = taken.filter((r) => r.fromAudit).length;
      const auditLeft = audit.more || audit.rows.length > takenAudit;
      const acceptedLeft = accepted.more || accepted.rows.length > taken.length - takenAudit;
      if (auditLeft || acceptedLeft) {
        if (entries.length >= limit)
          return {
            entries,
            cursor: encodeCursor({
              m: month,
              ...(after && { s: after }),
              ...(acceptedAfter && { g: acceptedAfter }),
            }),
          };
        continue;
      }
      month = previousMonth(month);
      after = undefined;
      acceptedAfter = undefined;
    }
    return month >= oldest ? { entries, cursor: encodeCursor({ m: month }) } : { entries };
  }

  private async auditPage(tenantId: string, month: string, after: string | undefined, limit: number) {
    const { pk } = auditPartition(tenantId, month);
    const out = await this.client.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: marshall({ ':pk': pk }),
        ScanIndexForward: false,
        Limit: limit,
        ...(after && { ExclusiveStartKey: marshall({ pk, sk: after }) }),
      }),
    );
    return {
      rows: (out.Items ?? []).map((raw) => {
        const item = unmarshall(raw);
        return { key: String(item.sk), entry: toEntry(item) };
      }),
      more: out.LastEvaluatedKey !== undefined,
    };
  }

  private async acceptedPage(tenantId: string, month: string, after: string | undefined, limit: number) {
    const gsi3pk = challengeAuditPartition(tenantId, month);
    const afterId = after?.slice(after.lastIndexOf('#') + 1);
    const out = await this.client.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: 'gsi3',
        KeyConditionExpression: 'gsi3pk = :pk',
        ExpressionAttributeValues: marshall({ ':pk': gsi3pk }),
        ScanIndexForward: false,
        Limit: limit,
        ...(after &&
          afterId && {
            ExclusiveStartKey: marshall({ gsi3pk, gsi3sk: after, ...challengeItem(tenantId, afterId) }),
          }),
      }),
    );
    return {
      rows: (out.Items ?? []).map((raw) => {
        const item = unmarshall(raw);
        return { key: String(item.gsi3sk), entry: acceptedEntry(item) };
      }),
      more: out.LastEvaluatedKey !== undefined,
    };
  }
}

/** The `challenge.accepted` entry an accepted challenge item stands for. */
function acceptedEntry(item: Record<string, unknown>): AuditEntry {
  return {
    tenantId: String(item.tenantId ?? ''),
    at: String(item.acceptedAt),
    actor: String(item.acceptedBy ?? 'system'),
    action: 'challenge.accepted',
    target: `challenge:${String(item.id)}`,
    details: {
      username: String(item.username),
      passcode: String(item.acceptMethod ?? 'sent'),
      attempts: typeof item.attempts === 'number' ? item.attempts : 0,
    },
  };
}

function parseStored(value: unknown): unknown {
  if (typeof value !== 'string') return undefined;
  try {
    return JSON.parse(value);
  } catch {
    return undefined;
  }
}

function toEntry(item: Record<string, unknown>): AuditEntry {
  const before = parseStored(item.before);
  const after = parseStored(item.after);
  const details = parseStored(item.details) as AuditEntry['details'];
  return {
    tenantId: String(item.tenantId ?? ''),
    at: String(item.at),
    actor: String(item.actor),
    action: String(item.action),
    target: String(item.target),
    ...(before !== undefined && { before }),
    ...(after !== undefined && { after }),
    ...(details !== undefined && { details }),
  };
}
