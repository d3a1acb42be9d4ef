/** The `radius` section of the agent's configuration file; every bad entry is refused with its field named. */
import { isIP } from 'node:net';
import * as z from 'zod';
import { parseAddressRange } from './clients.ts';

const port = z.int('must be a whole number').min(0).max(65535, 'must be a port, 0 to 65535');

export const RadiusClientEntry = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1 to 64 letters, digits, ".", "_" or "-"'),
    address: z
      .string()
      .refine(
        (a) => parseAddressRange(a) !== undefined,
        'must be an IP address or a CIDR range such as 192.0.2.0/24',
      ),
    // BlastRADIUS made a weak secret worse; RFC 6614's advice is 16 or more, old gateways cap around 48-128
    secret: z.string().min(8, 'must be at least 8 characters').max(128, 'must be at most 128 characters'),
    /** Off only for gateways too old to send it (CVE-2024-3596 makes them forgeable). */
    requireMessageAuthenticator: z.boolean().default(true),
    /** password+passcode in one field, with a passcode sent in advance, for gateways without challenges. */
    singleStep: z.boolean().default(false),
    /** Single-step: how many trailing characters of the field are the passcode. */
    passcodeLength: z.int().min(4).max(16).default(6),
  })
  .strict();

export const RadiusConfig = z
  .object({
    /** The address to listen on; the gateways must reach it. */
    host: z.string().refine((h) => isIP(h) !== 0, 'must be an IP address such as 0.0.0.0 or 192.0.2.5'),
    port: port.default(1812),
    /** A separate accounting port (1813); without it, accounting is taken on `port`. */
    accountingPort: port.optional(),
    /** `cloud`: the password check API; `ldap`: a bind from this box; `off`: the gateway checked it. */
    firstFactor: z.enum(['cloud', 'ldap', 'off'], { error: 'must be cloud, ldap or off' }).default('cloud'),
    api: z
      .object({
        url: z.string().regex(/^https?:\/\/[^\s/]+(\/[^\s]*)?$/, 'must be an http:// or https:// URL'),
        authKey: z.string().min(1).max(512).optional(),
        authKeyFile: z.string().min(1).optional(),
        timeoutSeconds: z.number().min(1).max(60).default(10),
      })
      .strict()
      .superRefine((api, ctx) => {
        if ((api.authKey === undefined) === (api.authKeyFile === undefined))
          ctx.addIssue({ code: 'custom', path: ['authKey'], message: 'give either authKey or authKeyFile' });
      }),
    clients: z.array(RadiusClientEntry).min(1, 'must list at least one client').max(1024),
  })
  .strict()
  .superRefine((radius, ctx) => {
    const names = new Set<string>();
    const addresses = new Set<string>();
    radius.clients.forEach((client, i) => {
      if (names.has(client.name))
        ctx.addIssue({
          code: 'custom',
          path: ['clients', i, 'name'],
          message: `duplicate client "${client.name}"`,
        });
      names.add(client.name);
      const range = parseAddressRange(client.address);
      const canonical = range && `${range.address.toLowerCase()}/${range.prefix}`;
      if (canonical && addresses.has(canonical))
        ctx.addIssue({
          code: 'custom',
          path: ['clients', i, 'address'],
          message: `duplicate address "${client.address}"`,
        });
      if (canonical) addresses.add(canonical);
    });
    if (
      radius.accountingPort !== undefined &&
      radius.accountingPort !== 0 &&
      radius.accountingPort === radius.port
    )
      ctx.addIssue({ code: 'custom', path: ['accountingPort'], message: 'must differ from port' });
  });
export type RadiusConfig = z.output<typeof RadiusConfig>;
