/**
 * RADIUS packets (RFC 2865, RFC 2866 accounting, RFC 3579 Message-Authenticator, RFC 5997 Status-Server).
 *
 * Hand-written rather than taken from npm: the one RADIUS codec there (`radius` 1.1.4) is unmaintained, accepts
 * attributes of length 0 or 1 and length fields past the datagram, and can neither put Message-Authenticator
 * first in a reply nor copy Proxy-State as received; those are exactly the rules this front must get right,
 * and the format itself is small.
 *
 * Every comparison of an authenticator is constant-time.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export const Code = {
  AccessRequest: 1,
  AccessAccept: 2,
  AccessReject: 3,
  AccountingRequest: 4,
  AccountingResponse: 5,
  AccessChallenge: 11,
  StatusServer: 12,
} as const;

export const Attr = {
  UserName: 1,
  UserPassword: 2,
  ChapPassword: 3,
  NasIpAddress: 4,
  ReplyMessage: 18,
  State: 24,
  Class: 25,
  FilterId: 11,
  SessionTimeout: 27,
  CalledStationId: 30,
  CallingStationId: 31,
  NasIdentifier: 32,
  ProxyState: 33,
  AcctStatusType: 40,
  AcctSessionId: 44,
  EapMessage: 79,
  MessageAuthenticator: 80,
} as const;

export const HEADER_LENGTH = 20;
export const MIN_PACKET = 20;
export const MAX_PACKET = 4096;
const MA_LENGTH = 18;
/** RFC 2865 §5.2: User-Password is 16 to 128 octets of ciphertext. */
const MAX_PASSWORD = 128;

export interface Attribute {
  type: number;
  value: Buffer;
}

export interface Packet {
  code: number;
  identifier: number;
  authenticator: Buffer;
  attributes: Attribute[];
  /** The packet's bytes as received (up to its length field), for authenticator checks. */
  raw: Buffer;
}

/** Why a datagram was not a packet; each is dropped silently, the reason only logged. */
export type MalformedReason =
  | 'too_short'
  | 'bad_length'
  | 'length_past_datagram'
  | 'attribute_too_short'
  | 'attribute_truncated'
  | 'bad_message_authenticator_length';

export class MalformedPacketError extends Error {
  override name = 'MalformedPacketError';
  constructor(readonly reason: MalformedReason) {
    super(`malformed RADIUS packet: ${reason}`);
  }
}

/**
 * Reads one datagram. A length field under 20, over 4,096 or past the end of the datagram is refused, as is any
 * attribute of length 0 or 1 or one that runs past the packet; octets after the length field are padding
 * (RFC 2865 §3) and ignored.
 */
export function decodePacket(datagram: Buffer): Packet {
  if (datagram.length < MIN_PACKET) throw new MalformedPacketError('too_short');
  const length = datagram.readUInt16BE(2);
  if (length < MIN_PACKET || length > MAX_PACKET) throw new MalformedPacketError('bad_length');
  if (length > datagram.length) throw new MalformedPacketError('length_past_datagram');
  const raw = datagram.subarray(0, length);
  const attributes: Attribute[] = [];
  let at = HEADER_LENGTH;
  while (at < length) {
    if (at + 2 > length) throw new MalformedPacketError('attribute_truncated');
    const type = raw[at]!;
    const len = raw[at + 1]!;
    if (len < 2) throw new MalformedPacketError('attribute_too_short');
    if (at + len > length) throw new MalformedPacketError('attribute_truncated');
    if (type === Attr.MessageAuthenticator && len !== MA_LENGTH)
      throw new MalformedPacketError('bad_message_authenticator_length');
    attributes.push({ type, value: raw.subarray(at + 2, at + len) });
    at += len;
  }
  return {
    code: raw[0]!,
    identifier: raw[1]!,
    authenticator: raw.subarray(4, HEADER_LENGTH),
    attributes,
    raw,
  };
}

export const attribute = (packet: Pick<Packet, 'attributes'>, type: number): Buffer | undefined =>
  packet.attributes.find((a) => a.type === type)?.value;

export const attributes = (packet: Pick<Packet, 'attributes'>, type: number): Buffer[] =>
  packet.attributes.filter((a) => a.type === type).map((a) => a.value);

const md5 = (...parts: Buffer[]) => {
  const hash = createHash('md5');
  for (const p of parts) hash.update(p);
  return hash.digest();
};

export function constantTimeEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Offset of the first Message-Authenticator's value in `raw`, if the packet has one. */
function messageAuthenticatorOffset(raw: Buffer): number | undefined {
  let at = HEADER_LENGTH;
  while (at + 2 <= raw.length) {
    const len = raw[at + 1]!;
    if (raw[at] === Attr.MessageAuthenticator) return at + 2;
    at += len;
  }
  return undefined;
}

/**
 * RFC 3579 §3.2: HMAC-MD5 keyed with the secret over the whole packet with the Message-Authenticator's value
 * zeroed, and `authenticator` in the header: the request's own for an Access-Request or Status-Server, zeros
 * for an Accounting-Request, and the *request's* authenticator for any reply.
 */
function messageAuthenticatorOf(raw: Buffer, offset: number, authenticator: Buffer, secret: Buffer): Buffer {
  const copy = Buffer.from(raw);
  authenticator.copy(copy, 4);
  copy.fill(0, offset, offset + 16);
  return createHmac('md5', secret).update(copy).digest();
}

export type MessageAuthenticatorCheck = 'valid' | 'invalid' | 'missing';

/** Checks a request's Message-Authenticator, in constant time. */
export function checkMessageAuthenticator(packet: Packet, secret: Buffer): MessageAuthenticatorCheck {
  const offset = messageAuthenticatorOffset(packet.raw);
  if (offset === undefined) return 'missing';
  const header = packet.code === Code.AccountingRequest ? Buffer.alloc(16) : packet.authenticator;
  const expected = messageAuthenticatorOf(packet.raw, offset, header, secret);
  return constantTimeEqual(expected, packet.raw.subarray(offset, offset + 16)) ? 'valid' : 'invalid';
}

/** RFC 2866 §3: an Accounting-Request's authenticator is MD5(packet with a zero authenticator + secret). */
export function checkAccountingAuthenticator(packet: Packet, secret: Buffer): boolean {
  const copy = Buffer.from(packet.raw);
  copy.fill(0, 4, HEADER_LENGTH);
  return constantTimeEqual(md5(copy, secret), packet.authenticator);
}

/**
 * A reply to `request`: Message-Authenticator first (computed over the reply with the request's authenticator
 * in place), then `attrs`, then the request's Proxy-State attributes unchanged and in order; last the Response
 * Authenticator, MD5(Code+Identifier+Length+RequestAuth+Attributes+Secret), which covers the
 * Message-Authenticator, so it must come second. An Accounting-Response to an Accounting-Request is signed over
 * a zero authenticator instead, as accounting packets are (FreeRADIUS checks it so).
 */
export function encodeReply(
  code: number,
  request: Pick<Packet, 'code' | 'identifier' | 'authenticator' | 'attributes'>,
  attrs: readonly Attribute[],
  secret: Buffer,
): Buffer {
  const all: Attribute[] = [
    { type: Attr.MessageAuthenticator, value: Buffer.alloc(16) },
    ...attrs,
    ...attributes(request, Attr.ProxyState).map((value) => ({ type: Attr.ProxyState, value })),
  ];
  const length = HEADER_LENGTH + all.reduce((n, a) => n + 2 + a.value.length, 0);
  if (length > MAX_PACKET) throw new RangeError(`a reply of ${length} octets is over the RADIUS maximum`);
  const out = Buffer.alloc(length);
  out[0] = code;
  out[1] = request.identifier;
  out.writeUInt16BE(length, 2);
  request.authenticator.copy(out, 4);
  let at = HEADER_LENGTH;
  for (const a of all) {
    if (a.value.length > 253) throw new RangeError(`attribute ${a.type} is over 253 octets`);
    out[at] = a.type;
    out[at + 1] = a.value.length + 2;
    a.value.copy(out, at + 2);
    at += 2 + a.value.length;
  }
  const maOffset = HEADER_LENGTH + 2;
  if (request.code === Code.AccountingRequest) out.fill(0, 4, HEADER_LENGTH);
  createHmac('md5', secret).update(out).digest().copy(out, maOffset);
  request.authenticator.copy(out, 4);
  md5(out, secret).copy(out, 4);
  return out;
}

/**
 * RFC 2865 §5.2: c(1) = p(1) xor MD5(S + RA), c(i) = p(i) xor MD5(S + c(i-1)). Each packet hides it with its
 * own Request Authenticator. Only trailing NULs are padding: any other octet, a NUL inside included, is kept.
 */
export function decodeUserPassword(hidden: Buffer, requestAuthenticator: Buffer, secret: Buffer): Buffer {
  if (hidden.length < 16 || hidden.length > MAX_PASSWORD || hidden.length % 16 !== 0)
    throw new MalformedPacketError('attribute_truncated');
  const out = Buffer.alloc(hidden.length);
  let previous = requestAuthenticator;
  for (let i = 0; i < hidden.length; i += 16) {
    const key = md5(secret, previous);
    for (let j = 0; j < 16; j++) out[i + j] = hidden[i + j]! ^ key[j]!;
    previous = hidden.subarray(i, i + 16);
  }
  let end = out.length;
  while (end > 0 && out[end - 1] === 0) end--;
  return out.subarray(0, end);
}

/** The client side of `decodeUserPassword`, for tests and the benchmark. */
export function encodeUserPassword(password: Buffer, requestAuthenticator: Buffer, secret: Buffer): Buffer {
  const padded = Buffer.alloc(Math.max(16, Math.ceil(password.length / 16) * 16));
  if (padded.length > MAX_PASSWORD) throw new RangeError('a User-Password is at most 128 octets');
  password.copy(padded);
  const out = Buffer.alloc(padded.length);
  let previous = requestAuthenticator;
  for (let i = 0; i < padded.length; i += 16) {
    const key = md5(secret, previous);
    for (let j = 0; j < 16; j++) out[i + j] = padded[i + j]! ^ key[j]!;
    previous = out.subarray(i, i + 16);
  }
  return out;
}

/**
 * A request as a client builds it (tests, benchmark): Message-Authenticator first when asked for; an
 * Accounting-Request gets its RFC 2866 authenticator, anything else the given random one.
 */
export function encodeRequest(
  code: number,
  identifier: number,
  authenticator: Buffer,
  attrs: readonly Attribute[],
  secret: Buffer,
  options: { messageAuthenticator?: boolean } = {},
): Buffer {
  const all: Attribute[] = [
    ...(options.messageAuthenticator !== false
      ? [{ type: Attr.MessageAuthenticator, value: Buffer.alloc(16) }]
      : []),
    ...attrs,
  ];
  const length = HEADER_LENGTH + all.reduce((n, a) => n + 2 + a.value.length, 0);
  const out = Buffer.alloc(length);
  out[0] = code;
  out[1] = identifier;
  out.writeUInt16BE(length, 2);
  if (code !== Code.AccountingRequest) authenticator.copy(out, 4);
  let at = HEADER_LENGTH;
  for (const a of all) {
    out[at] = a.type;
    out[at + 1] = a.value.length + 2;
    a.value.copy(out, at + 2);
    at += 2 + a.value.length;
  }
  if (options.messageAuthenticator !== false)
    createHmac('md5', secret)
      .update(out)
      .digest()
      .copy(out, HEADER_LENGTH + 2);
  if (code === Code.AccountingRequest) md5(out, secret).copy(out, 4);
  return out;
}

/** Checks a reply as a client does (tests, benchmark): the Response Authenticator and Message-Authenticator. */
export function checkReply(
  reply: Buffer,
  requestAuthenticator: Buffer,
  secret: Buffer,
  requestCode: number = Code.AccessRequest,
): boolean {
  const packet = decodePacket(reply);
  const copy = Buffer.from(packet.raw);
  requestAuthenticator.copy(copy, 4);
  if (!constantTimeEqual(md5(copy, secret), packet.authenticator)) return false;
  const offset = messageAuthenticatorOffset(packet.raw);
  if (offset === undefined) return false;
  const header = requestCode === Code.AccountingRequest ? Buffer.alloc(16) : requestAuthenticator;
  const expected = messageAuthenticatorOf(packet.raw, offset, header, secret);
  return constantTimeEqual(expected, packet.raw.subarray(offset, offset + 16));
}

export const text = (value: string) => Buffer.from(value, 'utf8');
export const uint32 = (value: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(value >>> 0);
  return b;
};
