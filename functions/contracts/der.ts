/**
 * The little of ASN.1 DER that agent enrolment needs: the agent writes a PKCS#10 request, the cloud reads it,
 * and the local stack's CA writes certificates. Node's crypto signs and verifies but neither reads nor writes
 * these structures, and this is small enough not to pull an X.509 library into the edge agent.
 */

export interface Tlv {
  tag: number;
  /** The whole element, header included (what a signature covers). */
  raw: Buffer;
  /** The contents only. */
  value: Buffer;
}

export class DerError extends Error {
  override name = 'DerError';
}

function lengthBytes(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export const tlv = (tag: number, ...contents: Buffer[]): Buffer => {
  const value = Buffer.concat(contents);
  return Buffer.concat([Buffer.from([tag]), lengthBytes(value.length), value]);
};

export const sequence = (...items: Buffer[]) => tlv(0x30, ...items);
export const set = (...items: Buffer[]) => tlv(0x31, ...items);
export const utf8String = (text: string) => tlv(0x0c, Buffer.from(text, 'utf8'));
export const octetString = (bytes: Buffer) => tlv(0x04, bytes);
export const bitString = (bytes: Buffer, unusedBits = 0) => tlv(0x03, Buffer.from([unusedBits]), bytes);
export const boolean = (on: boolean) => tlv(0x01, Buffer.from([on ? 0xff : 0x00]));
/** Context-specific constructed tag `[n]`, explicit. */
export const explicit = (n: number, ...contents: Buffer[]) => tlv(0xa0 | n, ...contents);

/** A non-negative INTEGER from its big-endian magnitude. */
export function unsignedInteger(magnitude: Buffer | number): Buffer {
  let bytes = typeof magnitude === 'number' ? Buffer.from([magnitude]) : magnitude;
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  bytes = bytes.subarray(start);
  if ((bytes[0] ?? 0) & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return tlv(0x02, bytes);
}

export function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number);
  const [a = 0, b = 0, ...rest] = arcs;
  const out = [40 * a + b];
  for (const arc of rest) {
    const chunk: number[] = [arc & 0x7f];
    for (let n = Math.floor(arc / 128); n > 0; n = Math.floor(n / 128)) chunk.unshift(0x80 | (n & 0x7f));
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

/** UTCTime up to 2049, GeneralizedTime after, as RFC 5280 asks. */
export function time(date: Date): Buffer {
  const iso = date.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return date.getUTCFullYear() < 2050
    ? tlv(0x17, Buffer.from(`${iso.slice(2)}Z`, 'ascii'))
    : tlv(0x18, Buffer.from(`${iso}Z`, 'ascii'));
}

/** A Name holding one common name. */
export const commonNameOnly = (cn: string) => sequence(set(sequence(oid(OID.commonName), utf8String(cn))));

export const OID = {
  commonName: '2.5.4.3',
  ecPublicKey: '1.2.840.10045.2.1',
  rsaEncryption: '1.2.840.113549.1.1.1',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  ecdsaWithSha384: '1.2.840.10045.4.3.3',
  ecdsaWithSha512: '1.2.840.10045.4.3.4',
  sha256WithRsa: '1.2.840.113549.1.1.11',
  sha384WithRsa: '1.2.840.113549.1.1.12',
  sha512WithRsa: '1.2.840.113549.1.1.13',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectAltName: '2.5.29.17',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  serverAuth: '1.3.6.1.5.5.7.3.1',
} as const;

/** Reads the element at `offset`; throws DerError on anything truncated or not DER-shaped. */
export function readTlv(buffer: Buffer, offset = 0): Tlv & { end: number } {
  if (offset + 2 > buffer.length) throw new DerError('truncated element');
  const tag = buffer[offset]!;
  let length = buffer[offset + 1]!;
  let header = 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 4 || offset + 2 + count > buffer.length) throw new DerError('bad length');
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + buffer[offset + 2 + i]!;
    header += count;
  }
  const end = offset + header + length;
  if (end > buffer.length) throw new DerError('truncated element');
  return {
    tag,
    raw: buffer.subarray(offset, end),
    value: buffer.subarray(offset + header, end),
    end,
  };
}

/** The elements inside a constructed element's contents. */
export function children(value: Buffer): Tlv[] {
  const out: Tlv[] = [];
  for (let offset = 0; offset < value.length; ) {
    const element = readTlv(value, offset);
    out.push(element);
    offset = element.end;
  }
  return out;
}

export function readOid(element: Tlv): string {
  if (element.tag !== 0x06 || element.value.length === 0) throw new DerError('not an OBJECT IDENTIFIER');
  const bytes = element.value;
  const first = bytes[0]!;
  const arcs = [Math.min(2, Math.floor(first / 40)), first - 40 * Math.min(2, Math.floor(first / 40))];
  let n = 0;
  for (const byte of bytes.subarray(1)) {
    n = n * 128 + (byte & 0x7f);
    if (!(byte & 0x80)) {
      arcs.push(n);
      n = 0;
    }
  }
  return arcs.join('.');
}

/** The first common name in a Name, if any. */
export function readCommonName(name: Tlv): string | undefined {
  if (name.tag !== 0x30) throw new DerError('a Name is a SEQUENCE');
  for (const rdn of children(name.value))
    for (const attribute of children(rdn.value)) {
      const [type, value] = children(attribute.value);
      if (type && value && readOid(type) === OID.commonName) return value.value.toString('utf8');
    }
  return undefined;
}

/** PEM armour of one DER block. */
export function toPem(label: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** The DER inside the first PEM block with this label, or undefined when there is none. */
export function fromPem(label: string, pem: string): Buffer | undefined {
  const match = new RegExp(`-----BEGIN ${label}-----([A-Za-z0-9+/=\\s]+)-----END ${label}-----`).exec(pem);
  if (!match) return undefined;
  const der = Buffer.from(match[1]!.replace(/\s+/g, ''), 'base64');
  return der.length > 0 ? der : undefined;
}
