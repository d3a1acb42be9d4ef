/**
 * The local stack's certificate authority: what AWS IoT Core's CA is in the cloud. It signs the agents'
 * certificate requests at enrolment and the broker's server certificate for 127.0.0.1, and the broker accepts
 * client certificates it signed. Its key and certificate live in the data folder (`ca.key` 0600, `ca.crt`), so
 * agents enrolled by one `npm start` still connect after the next.
 */

import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  sign,
  X509Certificate,
} from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import {
  bitString,
  boolean,
  commonNameOnly,
  explicit,
  OID,
  octetString,
  oid,
  sequence,
  time,
  tlv,
  toPem,
  unsignedInteger,
} from '../contracts/der.ts';

const DAY_MS = 24 * 3600 * 1000;
const ECDSA_SHA256 = sequence(oid(OID.ecdsaWithSha256));

const extension = (id: string, critical: boolean, value: Buffer) =>
  sequence(oid(id), ...(critical ? [boolean(true)] : []), octetString(value));

export interface Leaf {
  certificatePem: string;
  serial: string;
}

export class LocalCa {
  private constructor(
    private readonly key: KeyObject,
    readonly certificatePem: string,
    private readonly subject: Buffer,
  ) {}

  /** The CA of `dir`, made on first use. */
  static open(dir: string): LocalCa {
    const keyFile = join(dir, 'ca.key');
    const certFile = join(dir, 'ca.crt');
    if (existsSync(keyFile) && existsSync(certFile)) {
      const key = createPrivateKey(readFileSync(keyFile));
      const pem = readFileSync(certFile, 'utf8');
      return new LocalCa(key, pem, commonNameOnly(caName(new X509Certificate(pem))));
    }
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const subject = commonNameOnly(`smspass local CA ${randomBytes(4).toString('hex')}`);
    const der = signCertificate(privateKey, {
      issuer: subject,
      subject,
      publicKeyInfo: createPublicKey(privateKey).export({ type: 'spki', format: 'der' }),
      days: 3650,
      extensions: [
        extension(OID.basicConstraints, true, sequence(boolean(true))),
        // keyCertSign and cRLSign
        extension(OID.keyUsage, true, bitString(Buffer.from([0x06]), 1)),
      ],
    }).der;
    const pem = toPem('CERTIFICATE', der);
    writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    writeFileSync(certFile, pem, { mode: 0o600 });
    return new LocalCa(privateKey, pem, subject);
  }

  /** An agent's certificate: its checked request's key, its thing name as common name, for client auth. */
  signClient(commonName: string, publicKeyInfo: Buffer, days = 825): Leaf {
    return this.leaf(commonName, publicKeyInfo, days, [
      extension(OID.extKeyUsage, false, sequence(oid(OID.clientAuth))),
    ]);
  }

  /** The broker's server certificate for 127.0.0.1 (and localhost), with a key made here. */
  /** The broker's certificate: for 127.0.0.1 and localhost, and the address it listens on for the LAN. */
  serverCertificate(extraHosts: readonly string[] = []): { certificatePem: string; keyPem: string } {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const names = extraHosts.map((host) =>
      isIP(host) === 4 ? tlv(0x87, Buffer.from(host.split('.').map(Number))) : tlv(0x82, Buffer.from(host)),
    );
    const san = sequence(
      tlv(0x87, Buffer.from([127, 0, 0, 1])),
      tlv(0x82, Buffer.from('localhost')),
      ...names,
    );
    const leaf = this.leaf(
      'smspass local broker',
      createPublicKey(privateKey).export({ type: 'spki', format: 'der' }),
      30,
      [
        extension(OID.extKeyUsage, false, sequence(oid(OID.serverAuth))),
        extension(OID.subjectAltName, false, san),
      ],
    );
    return {
      certificatePem: leaf.certificatePem,
      keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    };
  }

  private leaf(commonName: string, publicKeyInfo: Buffer, days: number, extensions: Buffer[]): Leaf {
    const { der, serial } = signCertificate(this.key, {
      issuer: this.subject,
      subject: commonNameOnly(commonName),
      publicKeyInfo,
      days,
      extensions: [
        extension(OID.basicConstraints, true, sequence()),
        // digitalSignature
        extension(OID.keyUsage, true, bitString(Buffer.from([0x80]), 7)),
        ...extensions,
      ],
    });
    return { certificatePem: toPem('CERTIFICATE', der), serial };
  }
}

function caName(cert: X509Certificate): string {
  const cn = /CN=([^\n]+)/.exec(cert.subject)?.[1];
  if (!cn) throw new Error('the local CA certificate has no common name');
  return cn;
}

function signCertificate(
  key: KeyObject,
  c: { issuer: Buffer; subject: Buffer; publicKeyInfo: Buffer; days: number; extensions: Buffer[] },
): { der: Buffer; serial: string } {
  const serialBytes = randomBytes(16);
  serialBytes[0]! &= 0x7f;
  const now = Date.now();
  const tbs = sequence(
    explicit(0, unsignedInteger(2)),
    unsignedInteger(serialBytes),
    ECDSA_SHA256,
    c.issuer,
    // an hour back, for clocks a little behind
    sequence(time(new Date(now - 3600_000)), time(new Date(now + c.days * DAY_MS))),
    c.subject,
    c.publicKeyInfo,
    explicit(3, sequence(...c.extensions)),
  );
  const signature = sign('sha256', tbs, key);
  return { der: sequence(tbs, ECDSA_SHA256, bitString(signature)), serial: serialBytes.toString('hex') };
}
