/**
 * Encrypts tenant credentials at rest (web provider passwords and API keys, TOTP secrets). One key per
 * deployment: KMS in AWS, a local key file for `npm start` and tests. Every ciphertext is bound to the
 * tenant and the object it belongs to, so a sealed value copied to another tenant or provider fails to
 * open instead of leaking a credential across tenants.
 */
import type { CredentialCipher, CredentialContext } from './ports/credentials.ts';

export class CredentialCipherError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CredentialCipherError';
  }
}

/** The associated data both adapters bind a ciphertext to; a fixed order so it is stable across versions. */
export function contextLabel(context: CredentialContext): string {
  return JSON.stringify(['smspass/credential/v1', context.tenantId, context.providerId]);
}

/**
 * Remembers what was decrypted for a few minutes in a warm process. With KMS every Decrypt is a paid
 * request and a network hop; TOTP checks a sealed secret on every login, so without this each verify
 * would cost one. The key includes the context, so a value never opens for another tenant from cache.
 */
export class CachingCredentialCipher implements CredentialCipher {
  private readonly cache = new Map<string, { at: number; plaintext: string }>();

  constructor(
    private readonly inner: CredentialCipher,
    private readonly options: { ttlMs?: number; maxEntries?: number; now?: () => number } = {},
  ) {}

  encrypt(plaintext: string, context: CredentialContext): Promise<string> {
    return this.inner.encrypt(plaintext, context);
  }

  async decrypt(ciphertext: string, context: CredentialContext): Promise<string> {
    const now = (this.options.now ?? Date.now)();
    const key = `${contextLabel(context)}\u0000${ciphertext}`;
    const hit = this.cache.get(key);
    if (hit && now - hit.at < (this.options.ttlMs ?? 300_000)) return hit.plaintext;
    const plaintext = await this.inner.decrypt(ciphertext, context);
    this.cache.delete(key);
    this.cache.set(key, { at: now, plaintext });
    // A Map keeps insertion order, so the first key is the oldest.
    while (this.cache.size > (this.options.maxEntries ?? 1000))
      this.cache.delete(this.cache.keys().next().value!);
    return plaintext;
  }
}
