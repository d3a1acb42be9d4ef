/**
 * PSKC (RFC 6030) documents: the key containers vendors ship hardware OATH tokens' seeds in. Secrets come
 * either plain (`<PlainValue>`, base64) or encrypted with a pre-shared transport key (RFC 6030 §6.1:
 * `<EncryptedValue>` in AES-CBC with the IV first, each one authenticated by a `<ValueMAC>`, HMAC over IV and
 * ciphertext under the MAC key that `<MACMethod>` carries encrypted with the same transport key).
 *
 * The whole document is checked before anything is kept: the first bad KeyPackage stops the import, and
 * the error names it (its position, Key Id and serial). Parsing uses a real namespace-aware XML parser; a
 * document type declaration is refused before parsing, so no entity is ever expanded.
 */
import { createDecipheriv, createHmac, timingSafeEqual } from 'node:crypto';
import { DOMParser, type Element } from '@xmldom/xmldom';
import { SERIAL_PATTERN } from '../contracts/tokens.ts';
import { DomainError, type ErrorCode } from './errors.ts';
import type { OtpAlgorithm, TokenKind } from './ports/tokens.ts';

const NS = {
  pskc: 'urn:ietf:params:xml:ns:keyprov:pskc',
  xenc: 'http://www.w3.org/2001/04/xmlenc#',
  ds: 'http://www.w3.org/2000/09/xmldsig#',
} as const;

const KEY_ALGORITHMS: Record<string, TokenKind> = {
  'urn:ietf:params:xml:ns:keyprov:pskc:hotp': 'hotp',
  'urn:ietf:params:xml:ns:keyprov:pskc#totp': 'totp',
  'urn:ietf:params:xml:ns:keyprov:pskc:totp': 'totp',
};

const CIPHERS: Record<string, { name: string; keyBytes: number }> = {
  'http://www.w3.org/2001/04/xmlenc#aes128-cbc': { name: 'aes-128-cbc', keyBytes: 16 },
  'http://www.w3.org/2001/04/xmlenc#aes192-cbc': { name: 'aes-192-cbc', keyBytes: 24 },
  'http://www.w3.org/2001/04/xmlenc#aes256-cbc': { name: 'aes-256-cbc', keyBytes: 32 },
};

const MACS: Record<string, string> = {
  'http://www.w3.org/2000/09/xmldsig#hmac-sha1': 'sha1',
  'http://www.w3.org/2001/04/xmldsig-more#hmac-sha256': 'sha256',
  'http://www.w3.org/2001/04/xmldsig-more#hmac-sha512': 'sha512',
};

const SUITES: Record<string, OtpAlgorithm> = {
  'HMAC-SHA1': 'sha1',
  'HMAC-SHA256': 'sha256',
  'HMAC-SHA512': 'sha512',
};

/** One key of the document, checked and decrypted. */
export interface PskcKey {
  /** 1-based position of its KeyPackage, for error messages. */
  index: number;
  keyId: string;
  serial: string;
  manufacturer?: string;
  kind: TokenKind;
  algorithm: OtpAlgorithm;
  digits: 6 | 7 | 8;
  counter: number;
  period: number;
  secret: Buffer;
}

export type PskcErrorCode = Extract<
  ErrorCode,
  | 'invalid_pskc'
  | 'transport_key_required'
  | 'wrong_transport_key'
  | 'bad_mac'
  | 'missing_secret'
  | 'unknown_algorithm'
  | 'invalid_key_package'
  | 'duplicate_serial'
>;

export class PskcError extends DomainError {
  constructor(
    code: PskcErrorCode,
    message: string,
    readonly keyPackage?: { index: number; keyId?: string; serial?: string },
  ) {
    super(code, keyPackage ? `${describe(keyPackage)}: ${message}` : message);
  }
}

function describe(p: { index: number; keyId?: string; serial?: string }) {
  const parts = [p.keyId && `Key Id ${p.keyId}`, p.serial && `serial ${p.serial}`].filter(Boolean);
  return `KeyPackage ${p.index}${parts.length ? ` (${parts.join(', ')})` : ''}`;
}

const children = (parent: Element, ns: string, name: string): Element[] => {
  const out: Element[] = [];
  for (let n = parent.firstChild; n; n = n.nextSibling)
    if (n.nodeType === 1 && (n as Element).namespaceURI === ns && (n as Element).localName === name)
      out.push(n as Element);
  return out;
};
const child = (parent: Element | undefined, ns: string, name: string) =>
  parent ? children(parent, ns, name)[0] : undefined;
const text = (el: Element | undefined) => (el?.textContent ?? '').trim();

function base64(value: string): Buffer | undefined {
  const clean = value.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(clean) || clean.length % 4 !== 0) return undefined;
  return Buffer.from(clean, 'base64');
}

function parseTransportKey(hex: string | undefined): Buffer | undefined {
  if (hex === undefined) return undefined;
  const clean = hex.trim();
  if (!/^([0-9a-fA-F]{32}|[0-9a-fA-F]{48}|[0-9a-fA-F]{64})$/.test(clean))
    throw new PskcError('transport_key_required', 'The transport key must be 16, 24 or 32 bytes in hex.');
  return Buffer.from(clean, 'hex');
}

/** The XML document's root, or a clear `invalid_pskc`. */
function parseXml(xml: string): Element {
  // A DTD could declare entities; PSKC needs none, so a document with one is refused outright.
  if (/<!DOCTYPE|<!ENTITY/i.test(xml))
    throw new PskcError('invalid_pskc', 'The document may not contain a DOCTYPE or ENTITY declaration.');
  let root: Element | null;
  try {
    const doc = new DOMParser({
      onError: (level, message) => {
        if (level !== 'warning') throw new Error(message);
      },
    }).parseFromString(xml, 'text/xml');
    root = doc.documentElement;
  } catch {
    throw new PskcError('invalid_pskc', 'The body is not well-formed XML.');
  }
  if (!root) throw new PskcError('invalid_pskc', 'The body is not well-formed XML.');
  if (root.localName !== 'KeyContainer' || root.namespaceURI !== NS.pskc)
    throw new PskcError(
      'invalid_pskc',
      `The root element must be KeyContainer in the namespace ${NS.pskc}, not ${root.localName ?? '?'} in ${root.namespaceURI ?? 'no namespace'}.`,
    );
  const version = root.getAttribute('Version');
  if (version && version !== '1.0')
    throw new PskcError('invalid_pskc', `PSKC version ${version} is not supported (1.0 is).`);
  return root;
}

/** Decrypts one `<xenc:EncryptionMethod>` + `<xenc:CipherData>` pair (IV first); throws on a wrong key. */
type Where = { index: number; keyId?: string; serial?: string };

function decrypt(holder: Element, key: Buffer, what: string, at?: Where): Buffer {
  const algorithm = child(holder, NS.xenc, 'EncryptionMethod')?.getAttribute('Algorithm') ?? '';
  const cipher = CIPHERS[algorithm];
  if (!cipher)
    throw new PskcError('unknown_algorithm', `${what}: encryption "${algorithm}" is not supported.`, at);
  if (cipher.keyBytes !== key.length)
    throw new PskcError(
      'wrong_transport_key',
      `${what}: ${algorithm} needs a ${cipher.keyBytes}-byte key.`,
      at,
    );
  const data = base64(text(child(child(holder, NS.xenc, 'CipherData'), NS.xenc, 'CipherValue')));
  if (!data || data.length < 32 || data.length % 16 !== 0)
    throw new PskcError('invalid_pskc', `${what}: the CipherValue is not IV plus AES blocks in base64.`, at);
  try {
    const decipher = createDecipheriv(cipher.name, key, data.subarray(0, 16));
    return Buffer.concat([decipher.update(data.subarray(16)), decipher.final()]);
  } catch {
    throw new PskcError('wrong_transport_key', `${what} does not decrypt with the transport key given.`, at);
  }
}

interface Crypto {
  transportKey?: Buffer;
  mac?: { hash: string; key: Buffer };
}

function documentCrypto(root: Element, transportKeyHex: string | undefined): Crypto {
  const transportKey = parseTransportKey(transportKeyHex);
  const encryptionKey = child(root, NS.pskc, 'EncryptionKey');
  if (encryptionKey && children(encryptionKey, NS.ds, 'KeyName').length === 0)
    throw new PskcError(
      'unknown_algorithm',
      'Only a pre-shared transport key (ds:KeyName) is supported; PBKDF2 and asymmetric keys are not.',
    );
  const method = child(root, NS.pskc, 'MACMethod');
  if (!method) return transportKey ? { transportKey } : {};
  const hash = MACS[method.getAttribute('Algorithm') ?? ''];
  if (!hash)
    throw new PskcError(
      'unknown_algorithm',
      `MACMethod "${method.getAttribute('Algorithm')}" is not supported.`,
    );
  if (!transportKey)
    throw new PskcError(
      'transport_key_required',
      'The document is encrypted: send the transport key in hex in the X-PSKC-Transport-Key header.',
    );
  const macKey = child(method, NS.pskc, 'MACKey');
  if (!macKey) throw new PskcError('invalid_pskc', 'MACMethod has no MACKey.');
  return { transportKey, mac: { hash, key: decrypt(macKey, transportKey, 'The MAC key') } };
}

/** A `<Secret>`, `<Counter>` or `<TimeInterval>` value: plain, or encrypted and MAC-checked. */
function value(el: Element, crypto: Crypto, what: string, where: Where): Buffer | undefined {
  const plain = child(el, NS.pskc, 'PlainValue');
  if (plain) {
    const bytes = base64(text(plain));
    if (what === 'the secret') {
      if (!bytes || bytes.length === 0)
        throw new PskcError('invalid_key_package', 'the secret is not base64.', where);
      return bytes;
    }
    return Buffer.from(text(plain), 'utf8');
  }
  const encrypted = child(el, NS.pskc, 'EncryptedValue');
  if (!encrypted) return undefined;
  if (what !== 'the secret')
    throw new PskcError('invalid_key_package', `an encrypted ${what.slice(4)} is not supported.`, where);
  if (!crypto.transportKey)
    throw new PskcError(
      'transport_key_required',
      'the secret is encrypted: send the transport key in hex in the X-PSKC-Transport-Key header.',
      where,
    );
  if (!crypto.mac)
    throw new PskcError(
      'invalid_key_package',
      'an encrypted secret needs the MACMethod of RFC 6030 §6.1.1.',
      where,
    );
  const cipherValue = base64(text(child(child(encrypted, NS.xenc, 'CipherData'), NS.xenc, 'CipherValue')));
  const given = base64(text(child(el, NS.pskc, 'ValueMAC')));
  if (!cipherValue || !given) throw new PskcError('bad_mac', 'the secret has no ValueMAC.', where);
  const expected = createHmac(crypto.mac.hash, crypto.mac.key).update(cipherValue).digest();
  if (expected.length !== given.length || !timingSafeEqual(expected, given))
    throw new PskcError(
      'bad_mac',
      'the ValueMAC does not match: the secret was altered, or the key is wrong.',
      where,
    );
  return decrypt(encrypted, crypto.transportKey, 'the secret', where);
}

function wholeNumber(raw: Buffer | undefined, what: string, where: Where, fallback: number): number {
  if (raw === undefined) return fallback;
  const s = raw.toString('utf8').trim();
  if (!/^\d{1,15}$/.test(s))
    throw new PskcError(
      'invalid_key_package',
      `${what} must be a whole number, not "${s.slice(0, 20)}".`,
      where,
    );
  return Number(s);
}

function keyOf(pkg: Element, index: number, crypto: Crypto): PskcKey {
  const key = child(pkg, NS.pskc, 'Key');
  const device = child(pkg, NS.pskc, 'DeviceInfo');
  const keyId = key?.getAttribute('Id') ?? '';
  const serialText = text(child(device, NS.pskc, 'SerialNo')) || keyId;
  const where = { index, ...(keyId && { keyId }), ...(serialText && { serial: serialText }) };
  const fail = (code: PskcErrorCode, message: string): never => {
    throw new PskcError(code, message, where);
  };
  if (!key) return fail('invalid_key_package', 'it has no Key.');
  if (!SERIAL_PATTERN.test(serialText))
    fail(
      'invalid_key_package',
      'the serial (DeviceInfo/SerialNo, else the Key Id) must be 1–64 of A-Z a-z 0-9 . _ : -.',
    );
  const algorithmUri = key.getAttribute('Algorithm') ?? '';
  const kind = KEY_ALGORITHMS[algorithmUri];
  if (!kind) return fail('unknown_algorithm', `the key algorithm "${algorithmUri}" is not HOTP or TOTP.`);
  const params = child(key, NS.pskc, 'AlgorithmParameters');
  const suite = text(child(params, NS.pskc, 'Suite')).toUpperCase() || 'HMAC-SHA1';
  const algorithm = SUITES[suite];
  if (!algorithm)
    return fail('unknown_algorithm', `the suite "${suite}" is not HMAC-SHA1, -SHA256 or -SHA512.`);
  const format = child(params, NS.pskc, 'ResponseFormat');
  const encoding = format?.getAttribute('Encoding') || 'DECIMAL';
  if (encoding !== 'DECIMAL')
    fail('invalid_key_package', `the response encoding ${encoding} is not DECIMAL.`);
  const digits = Number(format?.getAttribute('Length') || '6');
  if (digits !== 6 && digits !== 7 && digits !== 8)
    fail('invalid_key_package', `the response length must be 6, 7 or 8 digits, not ${digits}.`);
  const data = child(key, NS.pskc, 'Data');
  const secretEl = child(data, NS.pskc, 'Secret');
  const secret = secretEl && value(secretEl, crypto, 'the secret', where);
  if (!secret) return fail('missing_secret', 'it has no Data/Secret with a PlainValue or EncryptedValue.');
  // The vendor's seed is what the device computes with, so even a short one (RFC 6030's own examples use
  // 4 bytes) is taken as it is; only absurd sizes are refused.
  if (secret.length > 128)
    fail('invalid_key_package', `the secret is ${secret.length} bytes; at most 128 are accepted.`);
  const counterEl = child(data, NS.pskc, 'Counter');
  const intervalEl = child(data, NS.pskc, 'TimeInterval');
  const counter = wholeNumber(
    counterEl && value(counterEl, crypto, 'the counter', where),
    'the counter',
    where,
    0,
  );
  const period = wholeNumber(
    intervalEl && value(intervalEl, crypto, 'the time interval', where),
    'the time interval',
    where,
    30,
  );
  if (kind === 'totp' && (period < 1 || period > 3600))
    fail('invalid_key_package', `the time interval must be 1 to 3600 seconds, not ${period}.`);
  const manufacturer = text(child(device, NS.pskc, 'Manufacturer')).slice(0, 128);
  return {
    index,
    keyId,
    serial: serialText,
    ...(manufacturer && { manufacturer }),
    kind,
    algorithm,
    digits: digits as PskcKey['digits'],
    counter,
    period,
    secret,
  };
}

/**
 * Every key of the document, decrypted and checked, or the first problem as a `PskcError`. Serials must be
 * unique within the document; whether they are new to the tenant is the store's to say.
 */
export function parsePskc(xml: string, options: { transportKeyHex?: string; maxKeys: number }): PskcKey[] {
  const root = parseXml(xml);
  const crypto = documentCrypto(root, options.transportKeyHex);
  const packages = children(root, NS.pskc, 'KeyPackage');
  if (packages.length === 0) throw new PskcError('invalid_pskc', 'The KeyContainer holds no KeyPackage.');
  if (packages.length > options.maxKeys)
    throw new PskcError(
      'invalid_pskc',
      `The document holds ${packages.length} KeyPackages; one import takes at most ${options.maxKeys}.`,
    );
  const keys = packages.map((pkg, i) => keyOf(pkg, i + 1, crypto));
  const seen = new Map<string, number>();
  for (const key of keys) {
    const first = seen.get(key.serial);
    if (first !== undefined)
      throw new PskcError('duplicate_serial', `the serial is also in KeyPackage ${first}.`, {
        index: key.index,
        keyId: key.keyId,
        serial: key.serial,
      });
    seen.set(key.serial, key.index);
  }
  return keys;
}
