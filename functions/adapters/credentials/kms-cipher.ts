/**
 * The AWS credential cipher: KMS Encrypt/Decrypt under the deployment's symmetric key. The tenant and
 * provider go in the encryption context, so KMS itself refuses to open a value for another object, and
 * CloudTrail shows which tenant's credential each Decrypt was for.
 */
import { DecryptCommand, EncryptCommand, type KMSClient } from '@aws-sdk/client-kms';
import { CredentialCipherError } from '../../core/credential-cipher.ts';
import type { CredentialCipher, CredentialContext } from '../../core/ports/credentials.ts';

const PREFIX = 'kms:v1:';

export function kmsEncryptionContext(context: CredentialContext): Record<string, string> {
  return { purpose: 'smspass/credential', tenantId: context.tenantId, providerId: context.providerId };
}

export class KmsCredentialCipher implements CredentialCipher {
  constructor(
    private readonly client: KMSClient,
    /** Key id, alias or ARN of a symmetric encryption key. */
    private readonly keyId: string,
  ) {}

  async encrypt(plaintext: string, context: CredentialContext): Promise<string> {
    let blob: Uint8Array | undefined;
    try {
      ({ CiphertextBlob: blob } = await this.client.send(
        new EncryptCommand({
          KeyId: this.keyId,
          Plaintext: new TextEncoder().encode(plaintext),
          EncryptionContext: kmsEncryptionContext(context),
        }),
      ));
    } catch (cause) {
      throw new CredentialCipherError('KMS could not encrypt the credential.', { cause });
    }
    if (!blob) throw new CredentialCipherError('KMS returned no ciphertext.');
    return PREFIX + Buffer.from(blob).toString('base64');
  }

  async decrypt(ciphertext: string, context: CredentialContext): Promise<string> {
    if (!ciphertext.startsWith(PREFIX))
      throw new CredentialCipherError('The value is not a credential sealed by KMS.');
    let plain: Uint8Array | undefined;
    try {
      ({ Plaintext: plain } = await this.client.send(
        new DecryptCommand({
          // Naming the key stops KMS from using whatever key the blob points at.
          KeyId: this.keyId,
          CiphertextBlob: Buffer.from(ciphertext.slice(PREFIX.length), 'base64'),
          EncryptionContext: kmsEncryptionContext(context),
        }),
      ));
    } catch (cause) {
      throw new CredentialCipherError('KMS could not decrypt the credential.', { cause });
    }
    if (!plain) throw new CredentialCipherError('KMS returned no plaintext.');
    return new TextDecoder().decode(plain);
  }
}
