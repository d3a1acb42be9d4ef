/** Encryption of tenant credentials at rest: KMS in AWS, a local key file for `npm start` and tests. */

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
