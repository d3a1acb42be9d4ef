/**
 * Keys derived from the one per-deployment secret. The secret lives in Secrets Manager in AWS and in
 * `.local/deployment.key` locally; nothing else secret is stored, so a table dump alone cannot test
 * passcodes offline.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  hkdfSync,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';

export class DeploymentKeys {
  private readonly tenantKeys = new Map<string, Buffer>();
  private readonly sealKey: Buffer;

  constructor(private readonly secret: Buffer) {
    if (secret.length < 32) throw new Error('The deployment secret must be at least 32 bytes.');
    this.sealKey = Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), 'smspass/queue-seal/v1', 32));
  }

  /** The per-tenant key for passcode HMACs. */
  tenantKey(tenantId: string): Buffer {
    let key = this.tenantKeys.get(tenantId);
    if (!key) {
      key = Buffer.from(hkdfSync('sha256', this.secret, Buffer.from(tenantId), 'smspass/passcode/v1', 32));
      this.tenantKeys.set(tenantId, key);
    }
    return key;
  }

  /** Keyed hash of a passcode, bound to its challenge so a hash cannot be moved to another challenge. */
  passcodeHash(tenantId: string, challengeId: string, passcode: string): string {
    return createHmac('sha256', this.tenantKey(tenantId))
      .update(`${challengeId}\u0000${passcode}`)
      .digest('base64url');
  }

  /** A stable keyed digest, e.g. to derive decoy values that do not change between calls. */
  digest(tenantId: string, label: string, value: string): Buffer {
    return createHmac('sha256', this.tenantKey(tenantId)).update(`${label}\u0000${value}`).digest();
  }

  /** AES-256-GCM for message bodies that carry a passcode through queues. */
  seal(plaintext: string, associated: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.sealKey, iv);
    cipher.setAAD(Buffer.from(associated));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
  }

  unseal(sealed: string, associated: string): string {
    const raw = Buffer.from(sealed, 'base64url');
    if (raw.length < 28) throw new Error('sealed value is too short');
    const decipher = createDecipheriv('aes-256-gcm', this.sealKey, raw.subarray(0, 12));
    decipher.setAAD(Buffer.from(associated));
    decipher.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
  }
}

/** SHA-256 of a high-entropy secret (API keys, agent passwords): enough, because they are random, not chosen. */
export function secretHash(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export function constantTimeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}
