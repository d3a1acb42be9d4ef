/**
 * Authenticator apps (RFC 6238 TOTP over RFC 4226 HOTP). In a rule chain TOTP sends nothing: the user
 * reads the code from the app. Enrolment makes a random secret and the `otpauth://` URI a QR code
 * carries; verification accepts the current 30-second step and one on either side, and never the same
 * step twice.
 *
 * Replay protection is one number per user, the last accepted time step, moved forward by a single
 * conditional write (`lastStep < :step`). Two verifications racing with the same code cannot both win,
 * and a code from an earlier or equal step is refused even inside the window.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../clock.ts';
import type { CredentialCipher, CredentialContext } from '../ports/credentials.ts';
import {
  type Channel,
  type ChannelKind,
  type ChannelOutcome,
  type DeliveryRequest,
  failed,
} from './channel.ts';

export type TotpAlgorithm = 'sha1' | 'sha256' | 'sha512';

export interface TotpParameters {
  algorithm: TotpAlgorithm;
  digits: 6 | 7 | 8;
  /** Seconds per step. */
  period: number;
}

export const DEFAULT_TOTP: TotpParameters = { algorithm: 'sha1', digits: 6, period: 30 };

/** RFC 4226 §5.3 key length advice: as long as the hash output. */
const SECRET_BYTES: Record<TotpAlgorithm, number> = { sha1: 20, sha256: 32, sha512: 64 };

// ---- base32 (RFC 4648, no padding: what authenticator apps expect) ----

const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export function base32Encode(bytes: Uint8Array): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += B32[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += B32[(buffer << (5 - bits)) & 31];
  return out;
}

export function base32Decode(text: string): Buffer {
  const clean = text.toUpperCase().replace(/[\s-]/g, '').replace(/=+$/, '');
  const out: number[] = [];
  let buffer = 0;
  let bits = 0;
  for (const ch of clean) {
    const value = B32.indexOf(ch);
    if (value < 0) throw new TotpError(`"${ch}" is not a base32 character.`);
    buffer = ((buffer << 5) | value) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      out.push((buffer >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

// ---- RFC 4226 / 6238 ----

export class TotpError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TotpError';
  }
}

/** HOTP: dynamic truncation of HMAC(secret, counter) to `digits` decimal digits. */
export function hotp(secret: Uint8Array, counter: number, digits: number, algorithm: TotpAlgorithm): string {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac(algorithm, secret).update(message).digest();
  const offset = mac[mac.length - 1]! & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 10 ** digits).padStart(digits, '0');
}

/** The RFC 6238 time step `T = floor((unix seconds - T0) / period)`, with T0 = 0. */
export const timeStep = (epochMs: number, period = 30): number => Math.floor(epochMs / 1000 / period);

export function totp(secret: Uint8Array, epochMs: number, params: TotpParameters = DEFAULT_TOTP): string {
  return hotp(secret, timeStep(epochMs, params.period), params.digits, params.algorithm);
}

/**
 * The steps in `[now - window, now + window]` whose code equals `code`, oldest first (usually none or
 * one). Every candidate is compared in constant time, so timing does not tell which step matched.
 */
export function matchingSteps(
  secret: Uint8Array,
  code: string,
  epochMs: number,
  params: TotpParameters = DEFAULT_TOTP,
  window = 1,
): number[] {
  if (!/^\d+$/.test(code) || code.length !== params.digits) return [];
  const now = timeStep(epochMs, params.period);
  const given = Buffer.from(code);
  const steps: number[] = [];
  for (let step = now - window; step <= now + window; step++)
    if (timingSafeEqual(Buffer.from(hotp(secret, step, params.digits, params.algorithm)), given))
      steps.push(step);
  return steps;
}

/** The URI authenticator apps read from a QR code (Key Uri Format). */
export function otpauthUri(
  secretBase32: string,
  label: { issuer: string; account: string },
  params: TotpParameters = DEFAULT_TOTP,
): string {
  const name = `${encodeURIComponent(label.issuer)}:${encodeURIComponent(label.account)}`;
  const query = new URLSearchParams({
    secret: secretBase32,
    issuer: label.issuer,
    algorithm: params.algorithm.toUpperCase(),
    digits: String(params.digits),
    period: String(params.period),
  });
  return `otpauth://totp/${name}?${query.toString().replace(/\+/g, '%20')}`;
}

// ---- enrolment and verification over a store ----

export interface TotpEnrolment extends TotpParameters {
  tenantId: string;
  username: string;
  /** Changes with each enrolment, so a write meant for an old secret cannot touch a new one. */
  enrolmentId: string;
  /** The secret, sealed with the credential cipher; never stored in plain text. */
  sealedSecret: string;
  /** The last accepted time step; -1 before the first. */
  lastStep: number;
  /** True once the user proved the app works by entering a code. */
  confirmed: boolean;
  createdAt: string;
}

export interface TotpStore {
  get(tenantId: string, username: string): Promise<TotpEnrolment | undefined>;
  /** Writes a new enrolment, replacing any earlier one of the user. */
  put(enrolment: TotpEnrolment): Promise<void>;
  /**
   * The single conditional write of a verification: sets `lastStep = step` and `confirmed = true` only
   * when the stored enrolment is `enrolmentId` and its `lastStep < step`. False when the condition fails.
   */
  acceptStep(tenantId: string, username: string, enrolmentId: string, step: number): Promise<boolean>;
  remove(tenantId: string, username: string): Promise<void>;
}

export type TotpVerifyResult =
  | { result: 'accept'; step: number }
  | { result: 'reject'; reason: 'wrong' | 'replayed' | 'not_enrolled' };

export interface TotpServiceDeps {
  store: TotpStore;
  cipher: CredentialCipher;
  clock: Clock;
  /** Shown in the authenticator app, e.g. the tenant's name. */
  issuer: (tenantId: string) => string;
  random?: (bytes: number) => Buffer;
}

export const totpCipherContext = (tenantId: string, username: string): CredentialContext => ({
  tenantId,
  providerId: `totp:${username.toLowerCase()}`,
});

export class TotpService {
  constructor(private readonly deps: TotpServiceDeps) {}

  /**
   * Makes a new secret for the user and returns it with the `otpauth://` URI for the QR code. Both are
   * shown once; the store keeps only the sealed secret. The enrolment counts once a code is verified.
   */
  async enrol(
    tenantId: string,
    username: string,
    params: TotpParameters = DEFAULT_TOTP,
  ): Promise<{ secret: string; uri: string }> {
    const random = this.deps.random ?? randomBytes;
    const secret = random(SECRET_BYTES[params.algorithm]);
    const secretBase32 = base32Encode(secret);
    await this.deps.store.put({
      tenantId,
      username,
      ...params,
      enrolmentId: random(12).toString('base64url'),
      sealedSecret: await this.deps.cipher.encrypt(secretBase32, totpCipherContext(tenantId, username)),
      lastStep: -1,
      confirmed: false,
      createdAt: new Date(this.deps.clock.now()).toISOString(),
    });
    return {
      secret: secretBase32,
      uri: otpauthUri(secretBase32, { issuer: this.deps.issuer(tenantId), account: username }, params),
    };
  }

  /** One read, at most one conditional write. */
  async verify(tenantId: string, username: string, code: string): Promise<TotpVerifyResult> {
    const enrolment = await this.deps.store.get(tenantId, username);
    if (!enrolment) return { result: 'reject', reason: 'not_enrolled' };
    if (!/^\d{6,8}$/.test(code)) return { result: 'reject', reason: 'wrong' };
    const secret = base32Decode(
      await this.deps.cipher.decrypt(enrolment.sealedSecret, totpCipherContext(tenantId, username)),
    );
    const steps = matchingSteps(secret, code, this.deps.clock.now(), enrolment);
    if (steps.length === 0) return { result: 'reject', reason: 'wrong' };
    const step = steps.find((s) => s > enrolment.lastStep);
    if (step === undefined) return { result: 'reject', reason: 'replayed' };
    const won = await this.deps.store.acceptStep(tenantId, username, enrolment.enrolmentId, step);
    return won ? { result: 'accept', step } : { result: 'reject', reason: 'replayed' };
  }

  async isEnrolled(tenantId: string, username: string): Promise<boolean> {
    return (await this.deps.store.get(tenantId, username))?.confirmed === true;
  }
}

/**
 * TOTP as a rule in the chain: nothing is sent. A user with a confirmed app counts as reached (the code is
 * checked at verify time with `TotpService.verify`); a user without one makes the chain move on.
 */
export class TotpChannel implements Channel {
  readonly kind: ChannelKind = 'totp';

  constructor(private readonly service: Pick<TotpService, 'isEnrolled'>) {}

  async deliver(request: DeliveryRequest): Promise<ChannelOutcome> {
    try {
      return (await this.service.isEnrolled(request.tenantId, request.to))
        ? { status: 'sent' }
        : failed('permanent', 'totp_not_enrolled', 'The user has no authenticator app enrolled.');
    } catch {
      return failed('temporary', 'totp_store_error');
    }
  }
}
