/**
 * One-time codes of OATH tokens (RFC 4226 HOTP, RFC 6238 TOTP) and the TOTP rule of a chain. In a rule chain
 * TOTP sends nothing: the user reads the code from an authenticator app or a hardware token. TOTP codes are
 * accepted for the current step and one on either side, never the same step twice; HOTP codes within a
 * look-ahead window of the token's counter, never the same counter twice. Both are moved forward by a single
 * conditional write per token (core/tokens.ts), so two verifications racing with one code cannot both win.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { CredentialContext } from '../ports/credentials.ts';
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
export const SECRET_BYTES: Record<TotpAlgorithm, number> = { sha1: 20, sha256: 32, sha512: 64 };

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

// ---- verification, as the challenge path asks for it ----

export type TotpVerifyResult =
  | { result: 'accept'; step: number }
  | { result: 'reject'; reason: 'wrong' | 'replayed' | 'not_enrolled' };

/**
 * What a challenge's TOTP rule needs: whether the user has any active token (an authenticator app or a
 * hardware OATH token), and a check of a typed code against all of them. `TokenService` (core/tokens.ts)
 * implements it over the token store.
 */
export interface TotpService {
  verify(tenantId: string, username: string, code: string): Promise<TotpVerifyResult>;
  isEnrolled(tenantId: string, username: string): Promise<boolean>;
}

/**
 * What a seed is sealed to: the tenant and the token, so a sealed seed copied to another tenant or token
 * does not open. A token keeps its id from import to assignment, so assigning never re-seals.
 */
export const tokenCipherContext = (tenantId: string, tokenId: string): CredentialContext => ({
  tenantId,
  providerId: `token:${tokenId}`,
});

/**
 * The HOTP counters in `[from, from + window)` whose code equals `code`, lowest first. Every candidate is
 * computed and compared in constant time, so timing does not tell how far ahead the token is.
 */
export function matchingCounters(
  secret: Uint8Array,
  code: string,
  from: number,
  digits: number,
  algorithm: TotpAlgorithm,
  window: number,
): number[] {
  if (!/^\d+$/.test(code) || code.length !== digits) return [];
  const given = Buffer.from(code);
  const found: number[] = [];
  for (let counter = from; counter < from + window; counter++)
    if (timingSafeEqual(Buffer.from(hotp(secret, counter, digits, algorithm)), given)) found.push(counter);
  return found;
}

/**
 * TOTP as a rule in the chain: nothing is sent. A user with an active token (a confirmed app or an assigned
 * hardware token) counts as reached, the code being checked at verify time with `TotpService.verify`; a user
 * with none, or only an enrolment still waiting for its first code, makes the chain move on.
 */
export class TotpChannel implements Channel {
  readonly kind: ChannelKind = 'totp';

  constructor(private readonly service: Pick<TotpService, 'isEnrolled'>) {}

  async deliver(request: DeliveryRequest): Promise<ChannelOutcome> {
    try {
      return (await this.service.isEnrolled(request.tenantId, request.to))
        ? { status: 'sent' }
        : failed('permanent', 'totp_not_enrolled', 'The user has no active authenticator app or OATH token.');
    } catch {
      return failed('temporary', 'totp_store_error');
    }
  }
}
