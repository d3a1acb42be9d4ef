/** Request schemas of the tenant admin and operator APIs. Unknown fields are refused everywhere. */
import { isSupportedCountry } from 'libphonenumber-js/mobile';
import * as z from 'zod';
import { CHANNEL_KINDS, PROVIDER_KIND_NAMES } from './channels.ts';
import { ID_PATTERN } from './topics.ts';

const printable = /^[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}]+$/u;
const text = (max: number) =>
  z.string().min(1).max(max).regex(printable, 'must not contain control characters');
/** Names that travel in MQTT topics and job messages (modem groups) or URLs (providers, tenants). */
export const Slug = z.string().regex(ID_PATTERN, 'must be 1–64 letters, digits, "_" or "-"');
/** The countries that have phone numbers: the only ones a destination can be in. */
const Country = z
  .string()
  .regex(/^[A-Za-z]{2}$/, 'must be an ISO 3166 alpha-2 country code such as "DK"')
  .refine((c) => isSupportedCountry(c.toUpperCase()), {
    error: (issue) =>
      `"${String(issue.input)}" is not an ISO 3166 alpha-2 country code that has phone numbers`,
  })
  .transform((c) => c.toUpperCase());

/**
 * The host of a tenant's login page, for the origin-bound one-time code line (`@login.example.com #123456`) that
 * browsers read from an SMS and offer only on that host. A host name, without scheme, port or path.
 */
export const WebOtpHost = z
  .string()
  .max(100)
  .regex(
    /^(?=.{1,100}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/,
    'must be the host name of the login page, such as login.example.com (no scheme, port or path)',
  )
  .transform((h) => h.toLowerCase());

export const Channel = z.enum(CHANNEL_KINDS);
export type Channel = z.infer<typeof Channel>;
export const Target = z.enum(['primary', 'secondary', 'email']);
export type Target = z.infer<typeof Target>;

/** The SMS text: `{code}` (required), `{minutes}`, `{ip}` and `{client}` are filled in. */
const MessageTemplate = z.string().min(1).max(320).includes('{code}', { message: 'must contain {code}' });

export const PasscodeSettingsInput = z
  .object({
    length: z.int().min(4).max(12),
    validitySeconds: z.int().min(30).max(3600),
    maxAttempts: z.int().min(1).max(10),
    alphabet: z.enum(['numeric', 'alphanumeric', 'memo']).optional(),
  })
  .strict();

/** What a group policy or a user may override; anything absent is inherited. */
export const PasscodeOverrides = PasscodeSettingsInput.partial()
  .extend({
    flash: z.boolean().optional(),
    messageTemplate: MessageTemplate.optional(),
  })
  .strict();
export type PasscodeOverrides = z.infer<typeof PasscodeOverrides>;

/**
 * One step of a load-balancing chain. What the target and route may be depends on the channel (a modem
 * group, a provider of the channel's kind, or none); each channel's unit in the core registry says, and the
 * tenant configuration checks it.
 */
export const Rule = z
  .object({
    channel: Channel,
    target: Target,
    route: Slug.nullable(),
    timeoutSeconds: z.int().min(5).max(900),
    requireDeliveryReport: z.boolean().optional(),
  })
  .strict();
export type Rule = z.infer<typeof Rule>;

export const LoadBalancingPolicyInput = z
  .object({
    name: text(128),
    description: z.string().max(1024).optional(),
    /** Checked by the integrity rules (an empty chain is refused with its own error). */
    rules: z.array(Rule).max(16),
    /** Another policy whose chain runs when every rule of this one failed. */
    fallbackPolicyId: Slug.nullable().optional(),
  })
  .strict();
export type LoadBalancingPolicyInput = z.infer<typeof LoadBalancingPolicyInput>;

/** A RADIUS attribute's value is at most 253 octets on the wire; UTF-8 may take several per character. */
const radiusText = text(253).refine(
  (v) => new TextEncoder().encode(v).length <= 253,
  'must be at most 253 bytes in UTF-8',
);

/** What the RADIUS front sends in the Access-Accept of the group's users, for the gateway's policy. */
export const RadiusReplyAttributes = z
  .object({ class: radiusText.optional(), filterId: radiusText.optional() })
  .strict();
export type RadiusReplyAttributes = z.infer<typeof RadiusReplyAttributes>;

/**
 * What a group policy may let users change in the self-service portal. `pin` lets the user set and change the
 * PIN that `pin.required` makes them type before the passcode at login.
 */
export const SELF_SERVICE_FIELDS = [
  'smsType',
  'mobile',
  'secondaryMobile',
  'pin',
  'personalPasscode',
  'authenticator',
] as const;
export type SelfServiceField = (typeof SELF_SERVICE_FIELDS)[number];

/** How long a PIN must be: the same bounds for the operator's floor, the tenant's and a group policy's choice. */
const PinLength = z.int().min(4).max(12);

/**
 * The PIN the user types in front of the passcode at login (`PIN + passcode` in the one field, so RADIUS
 * gateways and auth clients work unchanged).
 */
export const PinSettingsInput = z.object({ required: z.boolean(), minLength: PinLength }).partial().strict();
export type PinSettingsInput = z.infer<typeof PinSettingsInput>;

export const GroupPolicyInput = z
  .object({
    name: text(128),
    description: z.string().max(1024).optional(),
    /** The dispatch type; null sends through the tenant's default modem group. */
    loadBalancingPolicyId: Slug.nullable(),
    channels: z.array(Channel).min(1).max(CHANNEL_KINDS.length),
    passcode: PasscodeOverrides.optional(),
    selfService: z
      .object({
        enabled: z.boolean(),
        fields: z.array(z.enum(SELF_SERVICE_FIELDS)).max(SELF_SERVICE_FIELDS.length),
      })
      .strict(),
    secondaryPhone: z.boolean(),
    /** The login page's host for the origin-bound code line; null turns the tenant's off for the group. */
    webOtpOrigin: WebOtpHost.nullable().optional(),
    /** Class and Filter-Id for the RADIUS front's Access-Accept; the auth API's accept reply carries them. */
    radius: RadiusReplyAttributes.optional(),
    /** Overrides the tenant's PIN setting for the group's users, within the operator's ceilings. */
    pin: PinSettingsInput.optional(),
  })
  .strict();
export type GroupPolicyInput = z.infer<typeof GroupPolicyInput>;

export const IntegrationPolicyInput = z
  .object({
    domain: z
      .string()
      .min(1)
      .max(255)
      .regex(/^[A-Za-z0-9.-]+$/, 'must be a DNS domain such as corp.example.test'),
    groupDn: text(1024).regex(/^CN=/i, 'must be a distinguished name starting with CN='),
    groupPolicyId: Slug,
    priority: z.int().min(0).max(10_000),
  })
  .strict();
export type IntegrationPolicyInput = z.infer<typeof IntegrationPolicyInput>;

export const ModemGroupInput = z
  .object({ name: Slug, description: z.string().max(1024).optional() })
  .strict();
export const ModemGroupUpdate = z.object({ description: z.string().max(1024) }).strict();

export const ProviderInput = z
  .object({
    name: Slug,
    kind: z.enum(PROVIDER_KIND_NAMES),
    description: z.string().max(1024).optional(),
    /** Provider options (URL, account, token…); the kind's secret parameters are sealed, and shown and audited masked. */
    params: z
      .record(
        z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,63}$/),
        z.union([z.string().max(2048), z.number(), z.boolean()]),
      )
      .refine((p) => Object.keys(p).length <= 32, 'at most 32 params'),
  })
  .strict();
export const ProviderUpdate = ProviderInput.omit({ name: true, kind: true }).partial().strict();

/** Per-user overrides. The personal passcode and its window are set at `/v1/personal-passcodes/{username}`. */
export const UserUpdate = z
  .object({
    overrides: PasscodeOverrides.nullable().optional(),
    /** A user group policy assigned by the admin: it wins over the AD mapping; null gives the mapping back. */
    groupPolicyId: Slug.nullable().optional(),
  })
  .strict();

export const TenantInput = z
  .object({
    // "-" stands for "no tenant" in operator keys (`sp.operator.-.…`), so a tenant id needs a letter or digit.
    id: Slug.regex(/[A-Za-z0-9]/, 'must contain a letter or digit'),
    name: text(256),
    defaultCountry: Country,
    allowedCountries: z.array(Country).min(1).max(250).optional(),
    userLimit: z.int().min(0).max(10_000_000),
    passcode: PasscodeSettingsInput.optional(),
    messageTemplate: MessageTemplate.optional(),
    defaultModemGroup: Slug.optional(),
  })
  .strict();
/** Lockout and rate-limit values: the same bounds for the operator's ceilings and the tenant's own choice. */
const MaxFailures = z.int().min(1).max(100);
const LockSeconds = z.int().min(1).max(86_400);
const WindowSeconds = z.int().min(1).max(3600);
const LIMIT_COUNTS = {
  perUser: z.int().min(1).max(1000),
  perDestination: z.int().min(1).max(1000),
  perClientIp: z.int().min(1).max(100_000),
  perTenant: z.int().min(1).max(1_000_000),
};

/**
 * The most lenient values the operator lets a tenant choose. Each is a bound: a tenant's own settings (and its
 * group policies' and users' overrides) beyond one are refused, and values stored before the bound was set are
 * held to it when settings resolve (shown with `from: "operator"`).
 */
export const TenantCeilings = z
  .object({
    passcode: z
      .object({
        minLength: z.int().min(4).max(12),
        maxValiditySeconds: z.int().min(30).max(3600),
        maxAttempts: z.int().min(1).max(10),
      })
      .partial()
      .strict()
      .optional(),
    lockout: z
      .object({ maxFailures: MaxFailures, minLockSeconds: LockSeconds })
      .partial()
      .strict()
      .optional(),
    limits: z
      .object({ minWindowSeconds: WindowSeconds, ...LIMIT_COUNTS })
      .partial()
      .strict()
      .optional(),
    /** Whether the tenant may accept personal passcodes at all. */
    allowPersonalPasscode: z.boolean().optional(),
    /** `required: true`: every user of the tenant must type a PIN; `minLength`: the shortest PIN allowed. */
    pin: PinSettingsInput.optional(),
  })
  .strict();
export type TenantCeilings = z.infer<typeof TenantCeilings>;

export const TenantUpdate = TenantInput.omit({ id: true })
  .partial()
  .extend({ ceilings: TenantCeilings.optional() })
  .strict();

/** The abuse defences a tenant admin chooses, within the operator's ceilings. */
export const TenantSecurityInput = z
  .object({
    allowPersonalPasscode: z.boolean(),
    bindClientIp: z.boolean(),
    lockout: z.object({ maxFailures: MaxFailures, lockSeconds: LockSeconds }).partial().strict(),
    limits: z
      .object({ windowSeconds: WindowSeconds, ...LIMIT_COUNTS })
      .partial()
      .strict(),
    /** Where passcodes may be sent: a subset of the countries the operator allows the tenant. */
    allowedCountries: z.array(Country).min(1).max(250),
    /** The PIN typed before the passcode at login; group policies may override it. */
    pin: PinSettingsInput,
  })
  .partial()
  .strict();

/** `PATCH /v1/settings`: the tenant's own defaults. Nested objects are merged with what is stored. */
export const TenantSettingsUpdate = z
  .object({
    passcode: PasscodeSettingsInput.partial().optional(),
    messageTemplate: MessageTemplate.optional(),
    webOtpOrigin: WebOtpHost.nullable().optional(),
    security: TenantSecurityInput.optional(),
  })
  .strict();
export type TenantSettingsUpdate = z.infer<typeof TenantSettingsUpdate>;
