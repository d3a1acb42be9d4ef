/**
 * The audit log in the single table. Entries of one tenant and month share a partition and sort by time, so a
 * page is one Query read backwards; listing walks back month by month up to the retention. A login writes no
 * entry here: its challenge item stands for its `challenge.created` and `challenge.accepted` entries.
 */

import {
  BatchGetItemCommand,
  type DynamoDBClient,
  PutItemCommand,
  QueryCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { type Clock, systemClock } from '../../core/clock.ts';
import { InvalidRequestError } from '../../core/errors.ts';
import { newId } from '../../core/ids.ts';
import { maskPhonesIn } from '../../core/phone.ts';
import type { AuditEntry, AuditLog } from '../../core/ports/audit.ts';
import {
  auditPartition,
  challengeAuditPartitions,
  challengeItem,
  LOG_SHARDS,
  messageLogPartitions,
} from './keys.ts';
import { mergePage, type Stream, validPositions } from './merged-pages.ts';

/** How far back a listing reaches, and how long DynamoDB TTL keeps entries. */
export const AUDIT_RETENTION_MONTHS = 13;
export const AUDIT_RETENTION_SECONDS = 400 * 24 * 3600;
const RETENTION_SECONDS = AUDIT_RETENTION_SECONDS;
const MAX_PAGE = 200;

/** Sort keys: `<ISO time>#<tail>` (audit entries, a random tail; challenges, their id). */
const POSITION = /^[^#]{1,40}#[A-Za-z0-9_-]{6,64}$/;
/** The streams of a month: the audit entries, then each shard of accepted and of created challenges. */
const STREAMS = 1 + 2 * LOG_SHARDS;

interface Cursor {
  /** The month to continue in. */
  m: string;
  /** Where each of the month's streams stands (null: from its newest). */
  p?: Array<string | null>;
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
    if (parsed.p !== undefined && !validPositions(parsed.p, STREAMS, POSITION)) return undefined;
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

    // Per month, newest first and merged by time: the audit entries; the accepted challenges (each accept
    // write makes its challenge the `challenge.accepted` entry, listed through gsi3); and the challenges of
    // known users, each its own `challenge.created` entry (listed through gsi2, the message log's index).
    const entries: AuditEntry[] = [];
    let month = start.m;
    let positions: Array<string | undefined> = (start.p ?? []).map((p) => p ?? undefined);
    while (month >= oldest && entries.length < limit) {
      const streams: Stream<AuditEntry>[] = [
        { fetch: (after, n) => this.auditPage(tenantId, month, after, n) },
        ...challengeAuditPartitions(tenantId, month).map((pk) => ({
          fetch: (after: string | undefined, n: number) => this.acceptedPage(tenantId, pk, after, n),
        })),
        ...messageLogPartitions(tenantId, month).map((pk) => ({
          fetch: (after: string | undefined, n: number) => this.createdPage(tenantId, pk, after, n),
        })),
      ];
      const page = await mergePage(streams, positions, limit - entries.length);
      entries.push(...page.rows);
      positions = page.positions;
      if (page.left) {
        if (entries.length >= limit)
          return { entries, cursor: encodeCursor({ m: month, p: positions.map((p) => p ?? null) }) };
        continue;
      }
      month = previousMonth(month);
      positions = [];
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
        return { key: String(item.sk), value: toEntry(item) };
      }),
      more: out.LastEvaluatedKey !== undefined,
    };
  }

  private async acceptedPage(tenantId: string, gsi3pk: string, after: string | undefined, limit: number) {
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
        return { key: String(item.gsi3sk), value: acceptedEntry(item) };
      }),
      more: out.LastEvaluatedKey !== undefined,
    };
  }

  /** Known users' challenges as `challenge.created` entries: keys from gsi2, then the items in one batch. */
  private async createdPage(tenantId: string, gsi2pk: string, after: string | undefined, limit: number) {
    const afterId = after?.slice(after.lastIndexOf('#') + 1);
    const out = await this.client.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: 'gsi2',
        KeyConditionExpression: 'gsi2pk = :pk',
        ExpressionAttributeValues: marshall({ ':pk': gsi2pk }),
        ScanIndexForward: false,
        Limit: limit,
        ...(after &&
          afterId && {
            ExclusiveStartKey: marshall({ gsi2pk, gsi2sk: after, ...challengeItem(tenantId, afterId) }),
          }),
      }),
    );
    const keys = (out.Items ?? []).map((raw) => unmarshall(raw));
    const items = await this.readItems(keys.map((k) => ({ pk: String(k.pk), sk: String(k.sk) })));
    return {
      rows: keys.map((k) => {
        const item = items.get(`${k.pk}\u0000${k.sk}`);
        // Gone (TTL) between the two reads, or not this tenant's: no entry. A challenge made before challenges
        // stood for their own entry (no `createdBy`) has its entry in the audit partition.
        const stands = item && item.tenantId === tenantId && typeof item.createdBy === 'string';
        return { key: String(k.gsi2sk), value: stands ? createdEntry(item) : undefined };
      }),
      more: out.LastEvaluatedKey !== undefined,
    };
  }

  private async readItems(keys: Array<{ pk: string; sk: string }>) {
    const got = new Map<string, Record<string, unknown>>();
    let pending = keys.map((k) => marshall(k));
    for (let round = 0; pending.length > 0; round++) {
      if (round === 8) throw new Error('DynamoDB left audit reads unprocessed after retries');
      if (round > 0) await new Promise((r) => setTimeout(r, 20 * 2 ** round));
      const out = await this.client.send(
        new BatchGetItemCommand({ RequestItems: { [this.table]: { Keys: pending } } }),
      );
      for (const raw of out.Responses?.[this.table] ?? []) {
        const item = unmarshall(raw);
        got.set(`${item.pk}\u0000${item.sk}`, item);
      }
      pending = out.UnprocessedKeys?.[this.table]?.Keys ?? [];
    }
    return got;
  }
}

/** The `challenge.created` entry a known user's challenge item stands for. */
function createdEntry(item: Record<string, unknown>): AuditEntry {
  const client = (item.client ?? {}) as { ip?: unknown; name?: unknown };
  return {
    tenantId: String(item.tenantId ?? ''),
    at: String(item.createdAt),
    actor: String(item.createdBy ?? 'system'),
    action: 'challenge.created',
    target: `challenge:${String(item.id)}`,
    details: {
      username: String(item.username),
      destination: String(item.destination ?? ''),
      clientIp: typeof client.ip === 'string' ? client.ip : null,
      clientName: typeof client.name === 'string' ? client.name : null,
      knownUser: item.userKnown === true,
    },
  };
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
