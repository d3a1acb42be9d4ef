/** The records the domain works with. Stores map them to and from their own item shapes. */

import type { PasscodeOverrides, Rule, TenantCeilings } from '../contracts/admin.ts';
import type { TenantSecurity } from './abuse-policy.ts';
import type { DeliveryChannel } from './channels/registry.ts';
import type { DecoyPlan } from './decoy-timeline.ts';
import type { PasscodeAlphabet, PasscodeSettings } from './passcode.ts';
import type { StoredUsernamePolicy } from './usernames.ts';

export type KeyKind = 'auth' | 'sync' | 'admin' | 'operator';

export interface ApiKeyRecord {
  /** The first characters of the key, shown in listings; never enough to use it. */
  prefix: string;
  kind: KeyKind;
  /** Empty for operator keys, which act on the deployment, not a tenant. */
  tenantId: string;
  createdAt: string;
  revokedAt?: string;
}

export interface Tenant {
  id: string;
  name: string;
  /** A deleted tenant stays as a tombstone so its id (and any key minted for it) can never come back. */
  status: 'active' | 'suspended' | 'deleted';
  /** ISO 3166 alpha-2 country used to read national numbers. */
  defaultCountry: string;
  /**
   * ISO 3166 alpha-2 countries the operator lets the tenant send passcodes to (SMS pumping defence); the tenant
   * admin may narrow them further (`security.allowedCountries`).
   */
  allowedCountries: string[];
  /** The most users the AD sync keeps for this tenant; the stored count never exceeds it. */
  userLimit: number;
  passcode: PasscodeSettings;
  /** `{code}`, `{minutes}`, `{ip}` and `{client}` are replaced. */
  messageTemplate: string;
  /** The modem group that carries SMS until load-balancing policies exist. */
  defaultModemGroup: string;
  /** The tenant's abuse defences; absent parts take the defaults in `core/abuse-policy.ts`. */
  security?: TenantSecurity | undefined;
  /** The most lenient settings the operator lets the tenant choose (settings.ts holds every value to them). */
  ceilings?: TenantCeilings | undefined;
  /** The login page's host: SMS then end with the origin-bound code line `@host #code`. */
  webOtpOrigin?: string | null | undefined;
  /** How many days the message log keeps each message (default 30), set by the tenant admin. */
  messageLogRetentionDays?: number | undefined;
  /** How usernames are formed and typed (`core/usernames.ts`); absent: as synced, typed as stored. */
  usernames?: StoredUsernamePolicy | undefined;
  /** DNS domain → NetBIOS name of the AD domains the sync saw, so a typed `CORP\dave` needs no other read. */
  adDomains?: Record<string, string> | undefined;
}

/** What a number is, classified once when it is stored so the auth path needs no full metadata. */
export type PhoneType =
  | 'mobile'
  | 'fixed_line_or_mobile'
  | 'fixed_line'
  | 'premium_rate'
  | 'toll_free'
  | 'shared_cost'
  | 'voip'
  | 'personal_number'
  | 'pager'
  | 'uan'
  | 'voicemail'
  | 'unknown';

export interface User {
  tenantId: string;
  username: string;
  mobile: string | null;
  secondaryMobile: string | null;
  email: string | null;
  /** Present on users stored by the sync or the admin API; absent on older items. */
  mobileType?: PhoneType;
  secondaryMobileType?: PhoneType;
  /**
   * The user's effective group policy: the one an admin assigned, else the one the AD groups resolved to; null
   * means the tenant's defaults.
   */
  groupPolicyId?: string | null;
  /** Locked by an admin: no passcode is sent until an admin unlocks. */
  locked?: boolean;
  /** The admin's per-user passcode settings, which win over the group policy's and the tenant's. */
  overrides?: PasscodeOverrides | undefined;
  /** The user's PIN (salted scrypt, and how many digits it has, to split `PIN + passcode` at verify). */
  pin?: UserPin | undefined;
}

export interface UserPin {
  hash: string;
  length: number;
}

export interface Agent {
  tenantId: string;
  agentId: string;
  secretHash: string;
  modemGroups: string[];
  state: 'online' | 'offline' | 'unknown';
  stateAt?: string | undefined;
  /** The latest `modem.status` of each of the agent's modems, by modem id. */
  modems?: Record<string, ModemHealth> | undefined;
  /** Shown to admins; the agent id and thing name never change. */
  displayName?: string | undefined;
  /** The IoT thing name (`{tenantId}:{agentId}`), set when the agent enrolled. */
  thingName?: string | undefined;
  /** The certificate the agent enrolled with: what revokes it, and its SHA-256 (`AA:BB:…`) the broker checks. */
  certificateRef?: string | undefined;
  certificateFingerprint?: string | undefined;
  enrolledAt?: string | undefined;
  /** The job versions the agent last said it takes (`agent.online`); absent: version 1 only. */
  jobVersions?: number[] | undefined;
}

export interface ModemHealth {
  group: string;
  healthy: boolean;
  queue: number;
  /** When the cloud heard it. */
  at: string;
}

export type ChallengeStatus =
  | 'pending'
  | 'sent'
  | 'delivered'
  | 'failed'
  | 'accepted'
  | 'rejected'
  | 'expired';
/**
 * `queued`: the chain moved to this step and its message is on the queue; `dispatched`: handed to an edge
 * agent; `sending`: a provider call (web SMS, voice, e-mail) is under way; then `sent`, `delivered` or `failed`.
 */
export type DeliveryStatus = 'queued' | 'dispatched' | 'sending' | 'sent' | 'delivered' | 'failed';
/** What `GET /v1/challenges/{id}` shows as a step's channel (the route stays in the message log). */
export type { DeliveryChannel };

export interface Delivery {
  step: number;
  channel: DeliveryChannel;
  route: string;
  status: DeliveryStatus;
  at: string;
  /** The edge agent the step went to; `cloud` for steps the cloud carries out itself (providers, TOTP). */
  agentId?: string;
  modem?: string;
  reason?: string;
  /** Masked destination, for the message log. */
  to?: string;
}

export interface Challenge {
  tenantId: string;
  id: string;
  username: string;
  /** Decoy challenges for unknown users look the same from outside but can never be accepted or delivered. */
  userKnown: boolean;
  codeHash: string;
  status: Exclude<ChallengeStatus, 'expired'>;
  createdAt: string;
  expiresAt: string;
  attempts: number;
  maxAttempts: number;
  destination: string;
  client: { ip?: string; name?: string };
  deliveries: Delivery[];
  /** How typed codes are read back; absent means numeric. */
  alphabet?: PasscodeAlphabet;
  /** Set when policy binds the challenge to the client IP that created it. */
  boundIp?: string;
  /** The user's personal passcode (hash and window) when policy allows it, copied from the user's guard. */
  personal?: PersonalPasscode;
  /**
   * Set only when the user's settings require a PIN: the user's PIN, copied from the user. The typed code is
   * then `PIN + passcode`; a decoy (or a user without a PIN) gets a PIN nobody knows, checked just the same.
   */
  pin?: UserPin;
  /**
   * The verify request that accepted it, and the last one that counted a wrong attempt. The SDK retries a
   * write whose reply was lost; the retry then fails its condition, and only these tell "it was me" apart
   * from "someone else got there first".
   */
  acceptNonce?: string;
  attemptNonce?: string;
  /** The rule chain the challenge's delivery runs (the user's load-balancing policy, fallbacks appended). */
  chain?: Rule[];
  /**
   * Destinations and text sealed with the deployment key, kept only while a later rule may need them (chains
   * of more than one rule), so that an agent's `job.failed` moves the chain on at once. Gone on accept.
   */
  sealed?: string;
  /** Set once the chain reached the user's authenticator app: verify then checks a TOTP code. */
  totp?: boolean;
  /** SMS steps go as flash SMS (the user's group policy says so); later steps of the chain keep it. */
  flash?: boolean;
  /**
   * Why a known user's challenge sends nothing (the number is refused, or no rule can reach the user). The
   * auth client is answered as for an unknown name; the tenant admin reads the reason in the message log.
   */
  refusal?: string;
  /** For a challenge that sends nothing: the plan its status follows, so that it reads like a real one. */
  decoy?: DecoyPlan;
  /** The group policy's RADIUS Class and Filter-Id, answered with the accept (no read of the policy then). */
  radius?: { class?: string; filterId?: string };
  /** Set on the self-service portal's challenges; the auth API neither verifies nor resends them. */
  purpose?: 'self_sign_in' | 'number_check' | 'notice' | 'admin_sign_in';
  /** For a number check: the change its accept applies (only while the number is still `from`). */
  change?: { field: 'mobile' | 'secondaryMobile'; from: string; to: string; toType: PhoneType };
}

/** A static last-resort code: a keyed hash, valid only inside the window an admin sets. */
export interface PersonalPasscode {
  hash: string;
  validFrom: string;
  validUntil: string;
}

/** Per-username lockout state. Kept for unknown usernames too, so a lock reveals nothing about who exists. */
export interface UserGuard {
  failures: number;
  lockedUntil?: string;
  personal?: PersonalPasscode;
}
