/**
 * Checks an agent's PKCS#10 certificate request before anything is signed: PEM with one request, a key type
 * IoT Core accepts (EC P-256/P-384/P-521, or RSA of 2048 bits or more), a signature that proves the agent holds
 * the key, and the agent's own thing name as common name.
 */
import { createPublicKey, type KeyObject, verify } from 'node:crypto';
import { children, DerError, fromPem, OID, readCommonName, readOid, readTlv } from '../contracts/der.ts';
import { DomainError } from './errors.ts';

export class InvalidCsrError extends DomainError {
  constructor(message: string) {
    super('invalid_csr', message);
  }
}

export interface CheckedCsr {
  commonName: string;
  /** The SubjectPublicKeyInfo, DER: what the certificate will carry. */
  publicKeyInfo: Buffer;
  publicKey: KeyObject;
}

const HASH_OF: Record<string, string> = {
  [OID.ecdsaWithSha256]: 'sha256',
  [OID.ecdsaWithSha384]: 'sha384',
  [OID.ecdsaWithSha512]: 'sha512',
  [OID.sha256WithRsa]: 'sha256',
  [OID.sha384WithRsa]: 'sha384',
  [OID.sha512WithRsa]: 'sha512',
};

const EC_CURVES = new Set(['prime256v1', 'secp384r1', 'secp521r1']);

export function checkCsr(pem: string, expectedCommonName: string): CheckedCsr {
  const der = fromPem('CERTIFICATE REQUEST', pem) ?? fromPem('NEW CERTIFICATE REQUEST', pem);
  if (!der) throw new InvalidCsrError('The csr must be a PEM "CERTIFICATE REQUEST".');
  let info: Buffer;
  let spki: Buffer;
  let commonName: string | undefined;
  let hash: string | undefined;
  let signature: Buffer;
  try {
    const outer = readTlv(der);
    if (outer.tag !== 0x30 || outer.end !== der.length) throw new DerError('not one SEQUENCE');
    const [infoTlv, algorithm, signatureBits] = children(outer.value);
    if (!infoTlv || !algorithm || !signatureBits || signatureBits.tag !== 0x03) throw new DerError('shape');
    info = infoTlv.raw;
    const [, name, keyInfo] = children(infoTlv.value);
    if (!name || !keyInfo || keyInfo.tag !== 0x30) throw new DerError('shape');
    spki = keyInfo.raw;
    commonName = readCommonName(name);
    const [algorithmOid] = children(algorithm.value);
    if (!algorithmOid) throw new DerError('no signature algorithm');
    hash = HASH_OF[readOid(algorithmOid)];
    signature = signatureBits.value.subarray(1);
  } catch (error) {
    if (error instanceof DerError) throw new InvalidCsrError('The csr is not a well-formed PKCS#10 request.');
    throw error;
  }

  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({ key: spki, format: 'der', type: 'spki' });
  } catch {
    throw new InvalidCsrError('The csr holds a public key that cannot be read.');
  }
  const details = publicKey.asymmetricKeyDetails ?? {};
  const type = publicKey.asymmetricKeyType;
  const fits =
    (type === 'ec' && EC_CURVES.has(details.namedCurve ?? '')) ||
    (type === 'rsa' && (details.modulusLength ?? 0) >= 2048);
  if (!fits)
    throw new InvalidCsrError(
      `The csr's key must be EC P-256, P-384 or P-521, or RSA of at least 2048 bits (it is ${type}${details.namedCurve ? ` ${details.namedCurve}` : details.modulusLength ? ` ${details.modulusLength}` : ''}).`,
    );
  if (!hash)
    throw new InvalidCsrError('The csr must be signed with ECDSA or RSA over SHA-256, -384 or -512.');
  if (!verify(hash, info, publicKey, signature))
    throw new InvalidCsrError("The csr's signature does not match its key.");
  if (commonName !== expectedCommonName)
    throw new InvalidCsrError(
      `The csr's common name must be the agent's thing name, "${expectedCommonName}".`,
    );
  return { commonName, publicKeyInfo: spki, publicKey };
}
