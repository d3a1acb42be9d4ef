/**
 * The `ad` section of the agent's configuration: the domains the connector reads, how it reaches the sync API,
 * and when it syncs. Validated with the rest of the file, so a bad entry is named by its path, e.g.
 * `ad.domains[0].dcs[1]: must be ldaps://host[:port] or ldap://host[:port]`.
 */
import * as z from 'zod';
import { SYNC_BATCH_MAX_USERS } from '../../functions/contracts/sync.ts';

const LDAP_URL = /^ldaps?:\/\/(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?\/?$/;
/** An RFC 4514 DN: at least one `attr=value` pair; a value may hold escaped commas (`\,`). */
const DN = /^[A-Za-z][A-Za-z0-9-]*=(?:[^,\\]|\\.)+(?:,\s*[A-Za-z][A-Za-z0-9-]*=(?:[^,\\]|\\.)+)*$/u;
const ATTRIBUTE = /^[A-Za-z][A-Za-z0-9-]{0,62}$/;

const dn = z
  .string()
  .max(1024, 'must be at most 1024 characters')
  .regex(DN, 'must be a DN such as DC=corp,DC=example,DC=test');
const attribute = z.string().regex(ATTRIBUTE, 'must be an LDAP attribute name such as mobile');

export const AdDomainConfig = z
  .object({
    /** The DNS name of the domain, as the cloud knows it (the users' `domain`). */
    name: z
      .string()
      .regex(
        /^(?=.{1,253}$)([A-Za-z0-9-]{1,63}\.)*[A-Za-z0-9-]{1,63}$/,
        'must be a DNS name such as corp.example.test',
      ),
    /** The NetBIOS name (CORP); without it the cloud takes the first DNS label. */
    netbios: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_!#$%&'()^{}~-]{0,14}$/, 'must be a NetBIOS domain name such as CORP')
      .optional(),
    /** Domain controllers, tried in order; the next one takes over when one does not answer. */
    dcs: z
      .array(z.string().regex(LDAP_URL, 'must be ldaps://host[:port] or ldap://host[:port]'))
      .min(1, 'must list at least one domain controller')
      .max(16),
    /** ldap:// URLs upgrade with StartTLS unless plain LDAP is allowed (and even then when `startTls` is true). */
    startTls: z.boolean().default(true),
    /** Plain, unencrypted LDAP: only for a lab. Binds then send the service account's password in clear. */
    allowPlainLdap: z.boolean().default(false),
    /** PEM file of the CA that signed the DCs' certificates; without it the system's CAs. */
    caFile: z.string().min(1).optional(),
    baseDn: dn,
    bindDn: z.string().min(1).max(1024),
    bindPassword: z.string().min(1).max(1024).optional(),
    bindPasswordFile: z.string().min(1).optional(),
    /** The groups whose members (nested membership included) are synced, by DN. */
    groups: z.array(dn).min(1, 'must list at least one group DN').max(64),
    attributes: z
      .object({
        mobile: attribute.default('mobile'),
        /** e.g. otherMobile or homePhone; none by default. */
        secondaryMobile: attribute.optional(),
        email: attribute.default('mail'),
        displayName: attribute.default('displayName'),
      })
      .strict()
      .default({ mobile: 'mobile', email: 'mail', displayName: 'displayName' }),
    pageSize: z.number().int().min(1).max(5000).default(500),
    timeoutSeconds: z.number().int().min(1).max(300).default(30),
  })
  .strict()
  .superRefine((d, ctx) => {
    if ((d.bindPassword === undefined) === (d.bindPasswordFile === undefined))
      ctx.addIssue({
        code: 'custom',
        path: ['bindPassword'],
        message: 'give either bindPassword or bindPasswordFile',
      });
    d.dcs.forEach((url, i) => {
      if (url.startsWith('ldap://') && !d.startTls && !d.allowPlainLdap)
        ctx.addIssue({
          code: 'custom',
          path: ['dcs', i],
          message:
            'plain LDAP sends passwords in clear: use ldaps://, keep startTls, or set allowPlainLdap: true',
        });
    });
  });
export type AdDomainConfig = z.output<typeof AdDomainConfig>;

export const AdConfig = z
  .object({
    domains: z.array(AdDomainConfig).min(1, 'must list at least one domain').max(16),
    sync: z
      .object({
        /** The cloud's API base URL, e.g. https://api.example.com */
        apiUrl: z.string().regex(/^https?:\/\/[^\s/]+(\/[^\s]*)?$/, 'must be an http(s):// URL'),
        /** The tenant's sync key (sp.sync.…). */
        key: z.string().min(1).max(256).optional(),
        keyFile: z.string().min(1).optional(),
        /** Minutes between scheduled syncs; 0 syncs only on demand. */
        intervalMinutes: z.number().int().min(0).max(10_080).default(15),
        /** A full sync (which also removes the users gone from AD) at least this often; the others are deltas. */
        fullEveryHours: z.number().int().min(1).max(720).default(24),
        batchSize: z.number().int().min(1).max(SYNC_BATCH_MAX_USERS).default(SYNC_BATCH_MAX_USERS),
      })
      .strict()
      .superRefine((s, ctx) => {
        if ((s.key === undefined) === (s.keyFile === undefined))
          ctx.addIssue({ code: 'custom', path: ['key'], message: 'give either key or keyFile' });
      })
      .optional(),
    /**
     * The P-256 private key that opens passwords sealed for this agent; default the enrolled key (`mqtt.key`).
     * An agent that logs in with a password needs it for ad.checkPassword and ad.setPassword.
     */
    rpcKeyFile: z.string().min(1).optional(),
  })
  .strict()
  .superRefine((ad, ctx) => {
    const seen = new Set<string>();
    ad.domains.forEach((d, i) => {
      const name = d.name.toLowerCase();
      if (seen.has(name))
        ctx.addIssue({
          code: 'custom',
          path: ['domains', i, 'name'],
          message: `duplicate domain "${d.name}"`,
        });
      seen.add(name);
    });
  });
export type AdConfig = z.output<typeof AdConfig>;
