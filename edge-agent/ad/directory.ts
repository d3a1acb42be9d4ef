/**
 * Reads the users of a domain's configured groups, nested membership included, a page at a time, and maps each
 * entry to the sync API's user shape.
 *
 * Filters are built as ldapts filter objects, never as strings: a group DN with commas, parentheses or
 * non-ASCII letters goes to the server as the bytes it is, with nothing to escape.
 */
import {
  AndFilter,
  type Client,
  type Entry,
  EqualityFilter,
  ExtensibleFilter,
  type Filter,
  GreaterThanEqualsFilter,
  NotFilter,
  OrFilter,
} from 'ldapts';
import { type SyncUser, SyncUser as SyncUserSchema } from '../../functions/contracts/sync.ts';
import type { AdDomainConfig } from './config.ts';

/** LDAP_MATCHING_RULE_IN_CHAIN: membership through any depth of nested groups. */
const IN_CHAIN = '1.2.840.113556.1.4.1941';
/** LDAP_MATCHING_RULE_BIT_AND */
const BIT_AND = '1.2.840.113556.1.4.803';
const ACCOUNTDISABLE = '2';

export interface ReadStats {
  /** Pages the server was asked for (each carries the paged-results control). */
  pages: number;
  entries: number;
  /** Entries left out: no usable id or username, or in no group any more by the time they were read. */
  skipped: Array<{ dn: string; why: string }>;
}

export const newReadStats = (): ReadStats => ({ pages: 0, entries: 0, skipped: [] });

/** objectGUID bytes as AD writes the GUID: the first three fields little-endian. */
export function guidToString(bytes: Buffer): string {
  if (bytes.length !== 16) throw new Error('objectGUID must be 16 bytes');
  const h = (from: number, to: number, reverse: boolean) => {
    const part = [...bytes.subarray(from, to)];
    return Buffer.from(reverse ? part.reverse() : part).toString('hex');
  };
  return `${h(0, 4, true)}-${h(4, 6, true)}-${h(6, 8, true)}-${h(8, 10, false)}-${h(10, 16, false)}`;
}

/** `(&(objectCategory=person)(objectClass=user)(!(userAccountControl:…:=2))…)`: enabled people, no computers or contacts. */
function enabledPeople(extra: Filter[]): Filter {
  return new AndFilter({
    filters: [
      new EqualityFilter({ attribute: 'objectCategory', value: 'person' }),
      new EqualityFilter({ attribute: 'objectClass', value: 'user' }),
      new NotFilter({
        filter: new ExtensibleFilter({
          matchType: 'userAccountControl',
          rule: BIT_AND,
          value: ACCOUNTDISABLE,
        }),
      }),
      ...extra,
    ],
  });
}

const memberOf = (groupDn: string) =>
  new ExtensibleFilter({ matchType: 'memberOf', rule: IN_CHAIN, value: groupDn });
const changedSince = (usn: number | undefined) =>
  usn === undefined ? [] : [new GreaterThanEqualsFilter({ attribute: 'uSNChanged', value: String(usn + 1) })];

function first(value: Entry[string] | undefined): string | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined) return undefined;
  const s = Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
  const trimmed = s.trim();
  return trimmed === '' ? undefined : trimmed;
}

function guidOf(entry: Entry): string | undefined {
  const v = entry.objectGUID;
  const b = Array.isArray(v) ? v[0] : v;
  return Buffer.isBuffer(b) && b.length === 16 ? guidToString(b) : undefined;
}

/**
 * Maps one entry; a field the sync API would refuse (a control character in a display name, an address too
 * long) is left out rather than failing the user's whole batch. Undefined when the user cannot be synced at all.
 */
export function toSyncUser(
  domain: AdDomainConfig,
  entry: Entry,
  groups: string[],
): { user: SyncUser } | { why: string } {
  const id = guidOf(entry);
  if (!id) return { why: 'no objectGUID' };
  const a = domain.attributes;
  const user: SyncUser = {
    id,
    username: first(entry.sAMAccountName) ?? '',
    domain: domain.name.toLowerCase(),
    upn: first(entry.userPrincipalName) ?? null,
    ...(domain.netbios && { netbiosDomain: domain.netbios }),
    displayName: first(entry[a.displayName]) ?? null,
    mobile: first(entry[a.mobile]) ?? null,
    secondaryMobile: a.secondaryMobile ? (first(entry[a.secondaryMobile]) ?? null) : null,
    email: first(entry[a.email]) ?? null,
    groups,
  };
  let checked = SyncUserSchema.safeParse(user);
  for (let i = 0; !checked.success && i < 8; i++) {
    const field = checked.error.issues[0]?.path[0];
    if (
      field === 'id' ||
      field === 'username' ||
      field === 'domain' ||
      field === 'groups' ||
      field === undefined
    )
      return { why: `unusable ${String(field ?? 'entry')}` };
    (user as Record<string, unknown>)[field as string] = null;
    checked = SyncUserSchema.safeParse(user);
  }
  return checked.success ? { user: checked.data } : { why: 'unusable attributes' };
}

export interface ReadOptions {
  /** Only entries changed after this uSN (a delta read). */
  sinceUsn?: number;
  stats: ReadStats;
}

async function* pages(
  client: Client,
  domain: AdDomainConfig,
  filter: Filter,
  attributes: string[],
  stats: ReadStats,
): AsyncGenerator<Entry[]> {
  const search = client.searchPaginated(domain.baseDn, {
    scope: 'sub',
    filter,
    attributes,
    explicitBufferAttributes: ['objectGUID'],
    paged: { pageSize: domain.pageSize },
    // ldapts asks the server for 10 s unless told; Samba computes a paged nested-group search whole at its first
    // page, which takes longer than that for 10,000 users, and then fails it as an "Operations error"
    timeLimit: domain.timeoutSeconds,
  });
  for await (const page of search) {
    stats.pages++;
    yield page.searchEntries;
  }
}

/**
 * The domain's users, one page of mapped users at a time. With several groups, a first pass reads only the
 * objectGUIDs of each group's members (the memory this takes is a few bytes per user), so that the second pass
 * can stream full entries and still give each user every mapped group it is in.
 */
export async function* readUsers(
  client: Client,
  domain: AdDomainConfig,
  options: ReadOptions,
): AsyncGenerator<SyncUser[]> {
  const { stats } = options;
  const since = changedSince(options.sinceUsn);
  const groups = domain.groups;
  let membership: Map<string, number[]> | undefined;
  if (groups.length > 1) {
    membership = new Map();
    for (let g = 0; g < groups.length; g++) {
      for await (const entries of pages(
        client,
        domain,
        enabledPeople([memberOf(groups[g]!), ...since]),
        ['objectGUID'],
        stats,
      )) {
        for (const entry of entries) {
          const id = guidOf(entry);
          if (!id) continue;
          const list = membership.get(id);
          if (list) list.push(g);
          else membership.set(id, [g]);
        }
      }
    }
  }
  const a = domain.attributes;
  const attributes = [
    'objectGUID',
    'sAMAccountName',
    'userPrincipalName',
    a.mobile,
    a.email,
    a.displayName,
    ...(a.secondaryMobile ? [a.secondaryMobile] : []),
  ];
  const inAny = groups.length === 1 ? memberOf(groups[0]!) : new OrFilter({ filters: groups.map(memberOf) });
  for await (const entries of pages(client, domain, enabledPeople([inAny, ...since]), attributes, stats)) {
    const users: SyncUser[] = [];
    for (const entry of entries) {
      stats.entries++;
      const id = guidOf(entry);
      const indexes = membership ? (id ? membership.get(id) : undefined) : [0];
      if (!indexes) {
        // joined a group between the two passes: the next run has it
        stats.skipped.push({ dn: entry.dn, why: 'group membership changed during the read' });
        continue;
      }
      const mapped = toSyncUser(
        domain,
        entry,
        indexes.map((i) => groups[i]!),
      );
      if ('user' in mapped) users.push(mapped.user);
      else stats.skipped.push({ dn: entry.dn, why: mapped.why });
    }
    yield users;
  }
}

/** The DC's highest committed uSN and its identity, read before a run so that changes made during it are read again. */
export async function readUsnMark(client: Client): Promise<{ usn: number; service: string }> {
  const { searchEntries } = await client.search('', {
    scope: 'base',
    filter: '(objectClass=*)',
    attributes: ['highestCommittedUSN', 'dsServiceName'],
  });
  const root = searchEntries[0];
  const usn = Number(first(root?.highestCommittedUSN));
  if (!root || !Number.isSafeInteger(usn)) throw new Error('the DC did not give its highestCommittedUSN');
  return { usn, service: first(root.dsServiceName) ?? '' };
}

/** Counts the enabled users of one group (nested membership included), for `edge-agent ad-test`. */
export async function countGroup(client: Client, domain: AdDomainConfig, groupDn: string): Promise<number> {
  const stats = newReadStats();
  let n = 0;
  for await (const entries of pages(client, domain, enabledPeople([memberOf(groupDn)]), ['1.1'], stats))
    n += entries.length;
  return n;
}

/** The DN of a user of the domain by sAMAccountName or userPrincipalName, or undefined. */
export async function findUserDn(
  client: Client,
  domain: AdDomainConfig,
  username: string,
): Promise<string | undefined> {
  const { searchEntries } = await client.search(domain.baseDn, {
    scope: 'sub',
    filter: new AndFilter({
      filters: [
        new EqualityFilter({ attribute: 'objectCategory', value: 'person' }),
        new EqualityFilter({ attribute: 'objectClass', value: 'user' }),
        new OrFilter({
          filters: [
            new EqualityFilter({ attribute: 'sAMAccountName', value: username }),
            new EqualityFilter({ attribute: 'userPrincipalName', value: username }),
          ],
        }),
      ],
    }),
    attributes: ['1.1'],
    sizeLimit: 2,
  });
  return searchEntries.length === 1 ? searchEntries[0]!.dn : undefined;
}
