/**
 * The local credential cipher: AES-256-GCM under a 32-byte key kept in a file only its owner can read
 * (`.local/provider.key`). The tenant and provider are the GCM associated data, so a value only opens for
 * the object it was sealed for.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CredentialCipherError, contextLabel } from '../../core/credential-cipher.ts';
import type { CredentialCipher, CredentialContext } from '../../core/ports/credentials.ts';

const SCHEME = 'local:v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class KeyFileCredentialCipher implements CredentialCipher {
  /** Names the key in each ciphertext, so a value sealed under another key says so instead of "tampered". */
  readonly keyId: string;

  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new CredentialCipherError('The credential key must be exactly 32 bytes.');
    this.keyId = createHash('sha256').update(key).digest('hex').slice(0, 12);
  }

  /**
   * Reads `<dir>/<name>`, or creates it with a fresh random key (mode 0600, directory 0700). A key file
   * that others can read is refused, like ssh refuses a private key with loose permissions.
   */
  static fromDirectory(dir: string, name = 'provider.key'): KeyFileCredentialCipher {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const file = join(dir, name);
    try {
      writeFileSync(file, `${randomBytes(32).toString('base64')}\n`, { flag: 'wx', mode: 0o600 });
      // The umask can only remove bits; set the mode explicitly in case it was laxer than expected.
      chmodSync(file, 0o600);
    } catch (error) {
      // Another process (or an earlier run) made it first: use that one, never overwrite a key.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const mode = statSync(file).mode & 0o777;
    if (process.platform !== 'win32' && (mode & 0o077) !== 0)
      throw new CredentialCipherError(
        `The credential key file ${file} is readable by others (mode ${mode.toString(8)}); run chmod 600 on it.`,
      );
    const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
    return new KeyFileCredentialCipher(key);
  }

  async encrypt(plaintext: string, context: CredentialContext): Promise<string> {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(contextLabel(context)));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const sealed = Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
    return `${SCHEME}:${this.keyId}:${sealed}`;
  }

  async decrypt(ciphertext: string, context: CredentialContext): Promise<string> {
    const m = /^local:v1:([0-9a-f]{12}):([A-Za-z0-9_-]+)$/.exec(ciphertext);
    if (!m) throw new CredentialCipherError('The value is not a credential sealed by the local key file.');
    if (m[1] !== this.keyId)
      throw new CredentialCipherError(
        `The credential was sealed under another key (${m[1]}); this deployment's key is ${this.keyId}.`,
      );
    const raw = Buffer.from(m[2]!, 'base64url');
    if (raw.length < IV_BYTES + TAG_BYTES)
      throw new CredentialCipherError('The sealed credential is truncated.');
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(contextLabel(context)));
      decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString(
        'utf8',
      );
    } catch (cause) {
      throw new CredentialCipherError(
        'The credential does not open: tampered, or sealed for another object.',
        {
          cause,
        },
      );
    }
  }
}
