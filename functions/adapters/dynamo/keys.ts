/** Item keys of the single table. Every tenant-owned item's key starts with its tenant id. */
export const keyItem = (hash: string) => ({ pk: `KEY#${hash}`, sk: 'KEY' });
export const tenantItem = (tenantId: string) => ({ pk: `TENANT#${tenantId}`, sk: 'TENANT' });
export const userItem = (tenantId: string, username: string) => ({
  pk: `TENANT#${tenantId}`,
  sk: `USER#${username.toLowerCase()}`,
});
export const agentItem = (tenantId: string, agentId: string) => ({
  pk: `TENANT#${tenantId}`,
  sk: `AGENT#${agentId}`,
});
export const AGENT_PREFIX = 'AGENT#';
/** A modem's recent `modem.status` reports, kept a day (TTL) under the tenant, newest last. */
export const modemReportPrefix = (agentId: string, modem: string) => `MODEMREPORT#${agentId}#${modem}#`;
export const modemReportItem = (tenantId: string, agentId: string, modem: string, at: string) => ({
  pk: `TENANT#${tenantId}`,
  sk: `${modemReportPrefix(agentId, modem)}${at}`,
});
/** Challenges get a partition each, so one busy tenant never makes a hot partition. */
export const challengeItem = (tenantId: string, challengeId: string) => ({
  pk: `CH#${tenantId}#${challengeId}`,
  sk: 'CH',
});

/** Tenants are listed for the operator through gsi1 under one key (hundreds of tenants, not millions). */
export const TENANT_LIST = { gsi1pk: 'TENANTS' } as const;
export const USER_PREFIX = 'USER#';
/** The per-tenant count of stored users that the sync reserves against before creating any. */
export const userCounterItem = (tenantId: string) => ({ pk: `TENANT#${tenantId}`, sk: 'COUNTER#users' });
export const syncRunItem = (tenantId: string, runId: string) => ({
  pk: `TENANT#${tenantId}`,
  sk: `SYNCRUN#${runId}`,
});
/** One item per distinct batch of a run (keyed by a digest of its ids), so a repeated batch overwrites itself. */
export const syncBatchItem = (tenantId: string, runId: string, digest: string) => ({
  pk: `TENANT#${tenantId}`,
  sk: `SYNCRUN#${runId}#B#${digest}`,
});
export const syncBatchPrefix = (runId: string) => `SYNCRUN#${runId}#B#`;
/** Held while a sync batch checks which users exist and creates the missing ones. */
export const createLockItem = (tenantId: string) => ({ pk: `TENANT#${tenantId}`, sk: 'LOCK#user-create' });
/** Policies, modem groups and providers: `<kind>#<id>` under the tenant. */
export const configItem = (tenantId: string, kind: string, id: string) => ({
  pk: `TENANT#${tenantId}`,
  sk: `${kind}#${id}`,
});
export const usageItem = (tenantId: string, month: string) => ({
  pk: `TENANT#${tenantId}`,
  sk: `USAGE#${month}`,
});
/**
 * An accepted challenge is its own `challenge.accepted` audit entry: the accept write puts it in gsi3 under
 * this partition (tenant and month), sorted by `<acceptedAt>#<challengeId>`, so a login costs no audit write.
 * gsi3 projects only the fields that entry shows (ACCEPTED_AUDIT_FIELDS), not a second copy of the challenge
 * kept as long as the audit log.
 */
export const ACCEPTED_AUDIT_FIELDS = [
  'tenantId',
  'id',
  'username',
  'acceptedAt',
  'acceptedBy',
  'acceptMethod',
  'attempts',
] as const;
/**
 * Each login writes one entry to a month partition of gsi2 (create) and of gsi3 (accept). DynamoDB takes at
 * most 1,000 write units a second per partition, and does not split a partition whose writes go to ever-later
 * sort keys, so each month is spread over `LOG_SHARDS` partitions by the challenge id: 1,000 logins a second
 * put 500 writes a second on each. Readers query every shard and merge by sort key. Shard 0 has no suffix, so
 * the entries written before the shards existed are shard 0's.
 */
export const LOG_SHARDS = 2;
/** The shard of a challenge's entries, from a hash of its id (a base64url id's last character is not random). */
export function logShard(challengeId: string): number {
  let h = 0;
  for (let i = 0; i < challengeId.length; i++) h = (Math.imul(h, 31) + challengeId.charCodeAt(i)) >>> 0;
  return h % LOG_SHARDS;
}
const sharded = (base: string, shard: number) => (shard === 0 ? base : `${base}#${shard}`);
const everyShard = <T>(of: (shard: number) => T): T[] => Array.from({ length: LOG_SHARDS }, (_, s) => of(s));

export const challengeAuditPartition = (tenantId: string, month: string, shard = 0) =>
  sharded(`AUDITCH#${tenantId}#${month}`, shard);
export const challengeAuditPartitions = (tenantId: string, month: string) =>
  everyShard((s) => challengeAuditPartition(tenantId, month, s));
/**
 * The message log: every challenge of a known user is listed through gsi2 under its tenant and month, newest
 * first by `<createdAt>#<challengeId>`; its deliveries are the log's rows. No write of its own per message.
 * The same entry is the challenge's `challenge.created` audit entry.
 */
export const messageLogPartition = (tenantId: string, month: string, shard = 0) =>
  sharded(`MSGLOG#${tenantId}#${month}`, shard);
export const messageLogPartitions = (tenantId: string, month: string) =>
  everyShard((s) => messageLogPartition(tenantId, month, s));
/** Audit entries: one partition per tenant and month, newest first by time-ordered sort keys. */
export const auditPartition = (tenantId: string, month: string) => ({ pk: `AUDIT#${tenantId}#${month}` });
/** Per-user lockout state, read in the same batch as the user. Exists for unknown usernames too. */
export const guardItem = (tenantId: string, username: string) => ({
  pk: `TENANT#${tenantId}`,
  sk: `GUARD#${username.toLowerCase()}`,
});
/**
 * One small fixed-window counter per tenant, window and counter (`u…`, `d…`, `i…` digests, `n#<shard>` for the
 * tenant's): each its own partition, so neither size nor write rate grows with a tenant's traffic on one item.
 */
export const limitItem = (tenantId: string, window: number, counter: string) => ({
  pk: `RL#${tenantId}#${window}#${counter}`,
  sk: 'RL',
});
/** The secondary-index partition that lists a tenant's API keys by prefix. */
export const keyListPartition = (tenantId: string) => `KEYS#${tenantId || '-'}`;
/** The service-status log: a partition per tenant, newest first by `<at>#…`; gsi1 lists one agent's. */
export const serviceEventPartition = (tenantId: string) => `SVCEV#${tenantId}`;
export const serviceEventAgentPartition = (tenantId: string, agentId: string) =>
  `SVCEV#${tenantId}#${agentId}`;
/** A browser session under its tenant (the operator's under `OPERATOR`), keyed by the hash of its id. */
export const webSessionItem = (kind: string, tenantId: string, idHash: string) => ({
  pk: tenantId === '-' ? 'OPERATOR' : `TENANT#${tenantId}`,
  sk: `WEBSESSION#${kind}#${idHash}`,
});
/** An admin account, found by its sign-in address at sign-in; gsi1 lists a tenant's (`-`: operators). */
export const adminAccountItem = (email: string) => ({ pk: `ADMIN#${email}`, sk: 'ADMIN' });
export const adminAccountListPartition = (tenantId: string) => `ADMINS#${tenantId}`;
