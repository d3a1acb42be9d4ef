/**
 * The agent's key pair and certificate request. The key is made here and never leaves the box; the request
 * carries the public key and the thing name as common name, signed with the key to prove the agent holds it.
 */
import { generateKeyPairSync, sign } from 'node:crypto';
import {
  bitString,
  commonNameOnly,
  OID,
  oid,
  sequence,
  tlv,
  toPem,
  unsignedInteger,
} from '../../functions/contracts/der.ts';

export function makeKeyAndCsr(commonName: string): { keyPem: string; csrPem: string } {
  // P-256: what IoT Core and the local CA sign, and the smallest key a TLS handshake here uses
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const info = sequence(
    unsignedInteger(0),
    commonNameOnly(commonName),
    publicKey.export({ type: 'spki', format: 'der' }),
    // no attributes
    tlv(0xa0),
  );
  const signature = sign('sha256', info, privateKey);
  const der = sequence(info, sequence(oid(OID.ecdsaWithSha256)), bitString(signature));
  return {
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    csrPem: toPem('CERTIFICATE REQUEST', der),
  };
}
