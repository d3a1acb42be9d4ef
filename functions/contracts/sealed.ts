/**
 * A secret sealed for one edge agent: ECDH-ES on P-256 with a fresh ephemeral key per secret, HKDF-SHA256, and
 * AES-256-GCM. The recipient is the key pair the agent made on its own box at enrolment (its certificate's key),
 * so only that agent can open it: not the broker, not IoT Core's logs, not a queue it may pass through.
 * The caller's context string goes into both the key derivation and the GCM additional data, so a sealed value
 * opens only in the place it was made for.
 */
import {
  createCipheriv,
  createDecipheriv,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  type KeyObject,
  randomBytes,
} from 'node:crypto';
import * as z from 'zod';

export const SEALED_ALG = 'ECDH-ES+A256GCM';

const b64url = z.string().regex(/^[A-Za-z0-9_-]+$/, 'must be base64url');

export const Sealed = z
  .object({
    alg: z.literal(SEALED_ALG),
    /** The ephemeral public key, as an uncompressed P-256 point (65 bytes). */
    epk: b64url.length(87),
    iv: b64url.length(16),
    /** Ciphertext followed by the 16-byte GCM tag. A secret of at most 1 KiB. */
    ct: b64url.min(22).max(1400),
  })
  .strict();
export type Sealed = z.infer<typeof Sealed>;

export class SealedError extends Error {
  override readonly name = 'SealedError';
}

function asPublicKey(key: KeyObject | string): KeyObject {
  const k =
    typeof key === 'string' ? createPublicKey(key) : key.type === 'private' ? createPublicKey(key) : key;
  if (k.asymmetricKeyType !== 'ec' || k.asymmetricKeyDetails?.namedCurve !== 'prime256v1')
    throw new SealedError('the recipient key is not a P-256 key');
  return k;
}

function asPrivateKey(key: KeyObject | string): KeyObject {
  const k = typeof key === 'string' ? createPrivateKey(key) : key;
  if (
    k.type !== 'private' ||
    k.asymmetricKeyType !== 'ec' ||
    k.asymmetricKeyDetails?.namedCurve !== 'prime256v1'
  )
    throw new SealedError('the key is not a P-256 private key');
  return k;
}

function rawPoint(key: KeyObject): Buffer {
  const jwk = key.export({ format: 'jwk' });
  if (!jwk.x || !jwk.y) throw new SealedError('the key has no EC point');
  return Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x, 'base64url'), Buffer.from(jwk.y, 'base64url')]);
}

function pointKey(point: Buffer): KeyObject {
  if (point.length !== 65 || point[0] !== 4)
    throw new SealedError('the ephemeral key is not an uncompressed point');
  return createPublicKey({
    key: {
      kty: 'EC',
      crv: 'P-256',
      x: point.subarray(1, 33).toString('base64url'),
      y: point.subarray(33).toString('base64url'),
    },
    format: 'jwk',
  });
}

function deriveKey(shared: Buffer, epk: Buffer, recipient: Buffer, context: string): Buffer {
  const info = Buffer.concat([Buffer.from(`${SEALED_ALG}/${context}/`), epk, recipient]);
  return Buffer.from(hkdfSync('sha256', shared, Buffer.alloc(0), info, 32));
}

/** Seals `secret` for the holder of `recipient`'s private key, bound to `context`. */
export function seal(recipient: KeyObject | string, secret: string, context: string): Sealed {
  const pub = asPublicKey(recipient);
  const eph = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const epk = rawPoint(eph.publicKey);
  const shared = diffieHellman({ privateKey: eph.privateKey, publicKey: pub });
  const key = deriveKey(shared, epk, rawPoint(pub), context);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(context));
  const ct = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return {
    alg: SEALED_ALG,
    epk: epk.toString('base64url'),
    iv: iv.toString('base64url'),
    ct: ct.toString('base64url'),
  };
}

/** Opens a sealed secret with the agent's private key; throws SealedError when it was not made for this key and context. */
export function open(privateKey: KeyObject | string, sealed: Sealed, context: string): string {
  const priv = asPrivateKey(privateKey);
  const epk = Buffer.from(sealed.epk, 'base64url');
  const ct = Buffer.from(sealed.ct, 'base64url');
  if (ct.length < 17) throw new SealedError('the sealed value is too short');
  let shared: Buffer;
  try {
    shared = diffieHellman({ privateKey: priv, publicKey: pointKey(epk) });
  } catch (err) {
    if (err instanceof SealedError) throw err;
    throw new SealedError('the ephemeral key is not on the curve');
  }
  const key = deriveKey(shared, epk, rawPoint(createPublicKey(priv)), context);
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(sealed.iv, 'base64url'));
  decipher.setAAD(Buffer.from(context));
  decipher.setAuthTag(ct.subarray(ct.length - 16));
  try {
    return Buffer.concat([decipher.update(ct.subarray(0, ct.length - 16)), decipher.final()]).toString(
      'utf8',
    );
  } catch {
    throw new SealedError('the sealed value does not open with this key and context');
  }
}
