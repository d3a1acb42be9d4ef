/**
 * Encrypts tenant credentials at rest (web provider passwords and API keys, TOTP secrets). One key per
 * deployment: KMS in AWS, a local key file for `npm start` and tests. Every ciphertext is bound to the
 * tenant and the object it belongs to, so a sealed value copied to another tenant or provider fails to
 * open instead of leaking a credential across tenants.
 */

/** What a ciphertext is bound to. For TOTP secrets the `providerId` is `totp:<username>`. */
export interface CredentialContext {
  tenantId: string;
  providerId: string;
}

export interface CredentialCipher {
  /** Returns an opaque, self-describing string (`<scheme>:<version>:…`) safe to store. */
  encrypt(plaintext: string, context: CredentialContext): Promise<string>;
  /** Throws `CredentialCipherError` when the value was tampered with, or sealed for another context or key. */
  decrypt(ciphertext: string, context: CredentialContext): Promise<string>;
}

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
