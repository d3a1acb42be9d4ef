/**
 * Domain-qualified usernames. A tenant stores each user under one canonical name (its format: `dave`,
 * `dave@corp.example.test` or `CORP\dave`), and a login may type any form the tenant accepts; this module maps
 * a synced user to its canonical name and a typed name to the canonical one. Pure: no I/O.
 *
 * Without a policy the typed name is the stored name, as it always was.
 */
import type { UsernameForm, UsernamePolicy } from '../contracts/usernames.ts';

/** What the mapping reads from the tenant item: the admin's policy and the domains the sync learned. */
export interface UsernameContext {
  usernames?: StoredUsernamePolicy | undefined;
  /** DNS domain (lower-case) → NetBIOS name (upper-case), learned by the sync. */
  adDomains?: Record<string, string> | undefined;
}

/** The policy as the tenant item keeps it: what the admin set, and formats users were stored in before. */
export type StoredUsernamePolicy = UsernamePolicy & { formerFormats?: UsernameForm[] };

/** Longer canonical names are refused: the item key must stay well inside DynamoDB's 1,024-byte sort key. */
export const MAX_CANONICAL_LENGTH = 320;
const MAX_CANONICAL_BYTES = 1000;

/** A synced user's parts that make up its names. */
export interface NameParts {
  username: string;
  domain: string;
  upn?: string | null | undefined;
  netbiosDomain?: string | null | undefined;
}

type Typed =
  | { form: 'sAMAccountName'; name: string }
  | { form: 'upn'; name: string; suffix: string }
  | { form: 'netbios'; prefix: string; name: string };

/** `a\b` is NetBIOS, `a@b` a UPN, anything without either a bare name; more than one separator is no form. */
export function parseTyped(typed: string): Typed | undefined {
  const slash = typed.split('\\');
  const at = typed.split('@');
  if (slash.length === 1 && at.length === 1) return { form: 'sAMAccountName', name: typed };
  if (slash.length === 2 && at.length === 1 && slash[0] && slash[1])
    return { form: 'netbios', prefix: slash[0], name: slash[1] };
  if (at.length === 2 && slash.length === 1 && at[0] && at[1])
    return { form: 'upn', name: at[0], suffix: at[1].toLowerCase() };
  return undefined;
}

/** The default NetBIOS name of a DNS domain: its first label, upper-cased (what AD proposes). */
export const defaultNetbios = (dns: string) => dns.split('.')[0]!.toUpperCase();

/** The NetBIOS name of a DNS domain: the admin's mapping, else the one learned by the sync, else the default. */
export function netbiosOf(ctx: UsernameContext, dns: string): string {
  const domain = dns.toLowerCase();
  const admin = Object.entries(ctx.usernames?.netbiosDomains ?? {}).find(([, d]) => d === domain);
  return admin?.[0] ?? ctx.adDomains?.[domain] ?? defaultNetbios(domain);
}

/** Every DNS domain the tenant knows: learned by the sync, mapped by the admin, or its default domain. */
function knownDomains(ctx: UsernameContext): Set<string> {
  return new Set([
    ...Object.keys(ctx.adDomains ?? {}),
    ...Object.values(ctx.usernames?.netbiosDomains ?? {}),
    ...(ctx.usernames?.defaultDomain ? [ctx.usernames.defaultDomain] : []),
  ]);
}

/**
 * The DNS domain a typed NetBIOS prefix stands for; `undefined` when nobody knows it, or when two learned
 * domains share it (then only the admin's mapping can say which is meant). A prefix with a dot is a DNS name.
 */
export function domainOfNetbios(ctx: UsernameContext, prefix: string): string | undefined {
  if (prefix.includes('.')) {
    const dns = prefix.toLowerCase();
    return knownDomains(ctx).has(dns) ? dns : undefined;
  }
  const nb = prefix.toUpperCase();
  const admin = ctx.usernames?.netbiosDomains?.[nb];
  if (admin) return admin;
  const learned = Object.entries(ctx.adDomains ?? {}).filter(([, n]) => n === nb);
  return learned.length === 1 ? learned[0]![0] : undefined;
}

const fits = (name: string) =>
  name.length <= MAX_CANONICAL_LENGTH && Buffer.byteLength(name, 'utf8') <= MAX_CANONICAL_BYTES;

/** The canonical name of a synced user in a given format (the connector's UPN and NetBIOS name win). */
export function canonicalIn(ctx: UsernameContext, format: UsernameForm, user: NameParts): string {
  if (format === 'upn') return user.upn ?? `${user.username}@${user.domain.toLowerCase()}`;
  if (format === 'netbios')
    return `${(user.netbiosDomain ?? netbiosOf(ctx, user.domain)).toUpperCase()}\\${user.username}`;
  return user.username;
}

/**
 * The name a synced user is stored under, or `undefined` when it cannot be: too long, or a name a login could
 * not type back (a `\` or `@` inside a part), since a user nobody can log in as is a silent failure.
 */
export function canonicalUsername(ctx: UsernameContext, user: NameParts): string | undefined {
  const policy = ctx.usernames;
  if (!policy) return user.username;
  const name = canonicalIn(ctx, policy.format, user);
  if (!fits(name)) return undefined;
  const back = resolveTyped(ctx, name);
  return back.known && back.name === name ? name : undefined;
}

/** What a typed name maps to: `known: false` when it names nobody by the tenant's rules (a refused form). */
export interface Resolved {
  /** The canonical name; for a refused form, the typed text itself (it keys that name's lockout and limits). */
  name: string;
  known: boolean;
}

/**
 * Maps a typed name to the canonical one under the tenant's policy. A form the tenant does not accept, a
 * malformed one (`CORP\`, `@x`, `a\b\c`), a domain nobody knows or a name too long is refused: the caller then
 * answers as for an unknown user.
 */
export function resolveTyped(ctx: UsernameContext, typed: string): Resolved {
  const policy = ctx.usernames;
  if (!policy) return { name: typed, known: true };
  const refused = { name: typed, known: false };
  const accept = policy.accept ?? [policy.format];
  const parsed = parseTyped(typed);
  // Stored bare names may hold an `@` (AD allows it in sAMAccountName): unless a qualified form is accepted,
  // the typed text is the bare name itself.
  if (
    policy.format === 'sAMAccountName' &&
    (!parsed || parsed.form === 'sAMAccountName' || !accept.includes(parsed.form))
  )
    return { name: typed, known: true };
  if (!parsed || !accept.includes(parsed.form)) return refused;

  let name: string | undefined;
  let domain: string | undefined;
  if (parsed.form === 'sAMAccountName') {
    name = parsed.name;
    domain = policy.defaultDomain;
  } else if (parsed.form === 'netbios') {
    name = parsed.name;
    domain = domainOfNetbios(ctx, parsed.prefix);
  } else {
    name = parsed.name;
    // A UPN in the UPN format is looked up as typed: its suffix need not be an AD domain.
    if (policy.format === 'upn') return fits(typed) ? { name: typed, known: true } : refused;
    domain = knownDomains(ctx).has(parsed.suffix) ? parsed.suffix : undefined;
  }
  if (!domain) return refused;
  const canonical =
    policy.format === 'sAMAccountName'
      ? name
      : policy.format === 'upn'
        ? `${name}@${domain}`
        : `${netbiosOf(ctx, domain)}\\${name}`;
  return fits(canonical) ? { name: canonical, known: true } : refused;
}
