/** How a tenant's usernames are formed and typed: `GET`/`PUT /v1/settings/usernames` (admin key). */
import * as z from 'zod';
import type { RouteDoc } from './openapi.ts';

/** `sAMAccountName`: `dave`; `upn`: `dave@corp.example.test`; `netbios`: `CORP\dave`. */
export const USERNAME_FORMS = ['sAMAccountName', 'upn', 'netbios'] as const;
export type UsernameForm = (typeof USERNAME_FORMS)[number];

/** Learned NetBIOS names kept on the tenant item, which every login reads: a forest has a handful of domains. */
export const MAX_KNOWN_DOMAINS = 50;

export const DnsDomain = z
  .string()
  .min(1)
  .max(255)
  .regex(
    /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$/,
    'must be a DNS domain such as corp.example.test',
  )
  .transform((d) => d.toLowerCase());

/** A NetBIOS domain name as Windows allows it (15 characters, no dots), compared upper-cased. */
export const NetbiosName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_!#$%&'()^{}~-]{0,14}$/, 'must be a NetBIOS domain name such as CORP')
  .transform((n) => n.toUpperCase());

export const UsernamePolicy = z
  .object({
    /** The form usernames are stored in, and shown in the admin API, message log and audit. */
    format: z.enum(USERNAME_FORMS),
    /** The forms a login may type; each is mapped to the stored form. Default: the format alone. */
    accept: z.array(z.enum(USERNAME_FORMS)).min(1).max(3).optional(),
    /** The domain a bare `dave` belongs to when the format is `upn` or `netbios` and `accept` has bare names. */
    defaultDomain: DnsDomain.optional(),
    /** NetBIOS names the sync cannot tell (the connector does not send them): `{"CORP":"corp.example.test"}`. */
    netbiosDomains: z
      .record(NetbiosName, DnsDomain)
      .refine((m) => Object.keys(m).length <= MAX_KNOWN_DOMAINS, `at most ${MAX_KNOWN_DOMAINS} domains`)
      .optional(),
  })
  .strict()
  .superRefine((p, ctx) => {
    const accept = p.accept ?? [p.format];
    if (!accept.includes(p.format))
      ctx.addIssue({ code: 'custom', path: ['accept'], message: `must include the format "${p.format}"` });
    if (new Set(accept).size !== accept.length)
      ctx.addIssue({ code: 'custom', path: ['accept'], message: 'must not repeat a form' });
    if (p.format !== 'sAMAccountName' && accept.includes('sAMAccountName') && !p.defaultDomain)
      ctx.addIssue({
        code: 'custom',
        path: ['defaultDomain'],
        message: 'bare names (accept "sAMAccountName") with this format need a defaultDomain',
      });
    const dns = Object.values(p.netbiosDomains ?? {});
    if (new Set(dns).size !== dns.length)
      ctx.addIssue({
        code: 'custom',
        path: ['netbiosDomains'],
        message: 'each DNS domain may have one NetBIOS name',
      });
  });
export type UsernamePolicy = z.infer<typeof UsernamePolicy>;

export const UsernameSettings = z.object({
  format: z.enum(USERNAME_FORMS),
  accept: z.array(z.enum(USERNAME_FORMS)),
  defaultDomain: z.string().nullable(),
  netbiosDomains: z.record(z.string(), z.string()),
  /** DNS domain → NetBIOS name, as the sync learned them (read only). */
  knownDomains: z.record(z.string(), z.string()),
  /** Formats users may still be stored in until the next complete sync run renames them. */
  formerFormats: z.array(z.enum(USERNAME_FORMS)),
});

export const ROUTES: RouteDoc[] = [
  {
    method: 'get',
    path: '/v1/settings/usernames',
    summary: 'How usernames are formed (sAMAccountName, upn, netbios) and which typed forms a login accepts',
    tag: 'settings',
    auth: 'admin',
    replies: { 200: { description: 'The setting', schema: UsernameSettings } },
    errors: [401],
  },
  {
    method: 'put',
    path: '/v1/settings/usernames',
    summary: 'Set the username format; the next complete sync run renames existing users',
    tag: 'settings',
    auth: 'admin',
    body: UsernamePolicy,
    replies: { 200: { description: 'The setting', schema: UsernameSettings } },
    errors: [400, 401],
  },
];
