/**
 * Credentials at rest: the local key file adapter fully, the KMS adapter's requests through the SDK's own
 * middleware stack (serialised, signed, answered and parsed in-process, no network).
 */
import { chmodSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KMSClient } from '@aws-sdk/client-kms';
import { describe, expect, it } from 'vitest';
import { KeyFileCredentialCipher } from '../../../functions/adapters/credentials/key-file-cipher.ts';
import { KmsCredentialCipher } from '../../../functions/adapters/credentials/kms-cipher.ts';
import { CachingCredentialCipher, CredentialCipherError } from '../../../functions/core/credential-cipher.ts';

const ctx = { tenantId: 'tenant-a', providerId: 'web-1' };

describe('KeyFileCredentialCipher', () => {
  it('creates the key file owner-only in a new directory, and reuses it on the next start', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'smspass-key-')), '.local');
    const first = KeyFileCredentialCipher.fromDirectory(dir);
    const file = join(dir, 'provider.key');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o077).toBe(0);
    expect(Buffer.from(readFileSync(file, 'utf8').trim(), 'base64')).toHaveLength(32);

    const sealed = await first.encrypt('p@ss wörd 🙂', ctx);
    const second = KeyFileCredentialCipher.fromDirectory(dir);
    expect(second.keyId).toBe(first.keyId);
    expect(await second.decrypt(sealed, ctx)).toBe('p@ss wörd 🙂');
  });

  it('refuses a key file others can read', () => {
    const dir = mkdtempSync(join(tmpdir(), 'smspass-key-'));
    KeyFileCredentialCipher.fromDirectory(dir);
    chmodSync(join(dir, 'provider.key'), 0o644);
    expect(() => KeyFileCredentialCipher.fromDirectory(dir)).toThrow(/chmod 600/);
  });

  it('never shows the plaintext and seals the same value differently each time', async () => {
    const cipher = new KeyFileCredentialCipher(Buffer.alloc(32, 7));
    const a = await cipher.encrypt('hunter2-secret', ctx);
    const b = await cipher.encrypt('hunter2-secret', ctx);
    expect(a).toMatch(/^local:v1:[0-9a-f]{12}:/);
    expect(a).not.toBe(b);
    expect(a).not.toContain('hunter2');
    expect(Buffer.from(a.split(':')[3]!, 'base64url').toString('latin1')).not.toContain('hunter2');
  });

  it('opens a value only for the tenant and provider it was sealed for, and only if it is untouched', async () => {
    const cipher = new KeyFileCredentialCipher(Buffer.alloc(32, 7));
    const sealed = await cipher.encrypt('secret', ctx);
    await expect(cipher.decrypt(sealed, { ...ctx, tenantId: 'tenant-b' })).rejects.toBeInstanceOf(
      CredentialCipherError,
    );
    await expect(cipher.decrypt(sealed, { ...ctx, providerId: 'web-2' })).rejects.toBeInstanceOf(
      CredentialCipherError,
    );
    const raw = Buffer.from(sealed.split(':')[3]!, 'base64url');
    raw[raw.length - 1]! ^= 1;
    const tampered = `${sealed.split(':').slice(0, 3).join(':')}:${raw.toString('base64url')}`;
    await expect(cipher.decrypt(tampered, ctx)).rejects.toThrow(/does not open/);
    await expect(cipher.decrypt('kms:v1:AAAA', ctx)).rejects.toThrow(
      /not a credential sealed by the local key/,
    );
  });

  it('says so when a value was sealed under another key', async () => {
    const sealed = await new KeyFileCredentialCipher(Buffer.alloc(32, 1)).encrypt('secret', ctx);
    await expect(new KeyFileCredentialCipher(Buffer.alloc(32, 2)).decrypt(sealed, ctx)).rejects.toThrow(
      /another key/,
    );
  });
});

describe('KmsCredentialCipher', () => {
  interface Seen {
    target: string;
    body: Record<string, unknown>;
    signed: boolean;
  }

  /** A KMS client whose HTTP hop is replaced by an in-process answer, after serialising and signing. */
  function kmsStandIn(
    answer: (target: string, body: Record<string, unknown>) => { status: number; body: unknown },
  ) {
    const client = new KMSClient({
      region: 'eu-north-1',
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
    });
    const seen: Seen[] = [];
    client.middlewareStack.add(
      (_next) => async (args) => {
        const request = args.request as { headers: Record<string, string>; body: string };
        const target = request.headers['x-amz-target'] ?? '';
        const body = JSON.parse(request.body) as Record<string, unknown>;
        seen.push({ target, body, signed: /^AWS4-HMAC-SHA256 /.test(request.headers.authorization ?? '') });
        const reply = answer(target, body);
        return {
          response: {
            statusCode: reply.status,
            headers: { 'content-type': 'application/x-amz-json-1.1' },
            body: new TextEncoder().encode(JSON.stringify(reply.body)),
          },
        } as never;
      },
      { step: 'deserialize', priority: 'low', name: 'inProcessKms' },
    );
    return { client, seen };
  }

  it('encrypts and decrypts with the key and an encryption context of tenant and provider', async () => {
    const blob = Buffer.from('opaque-kms-blob');
    const { client, seen } = kmsStandIn((target) =>
      target === 'TrentService.Encrypt'
        ? { status: 200, body: { CiphertextBlob: blob.toString('base64'), KeyId: 'arn:aws:kms:k' } }
        : {
            status: 200,
            body: { Plaintext: Buffer.from('s3cret').toString('base64'), KeyId: 'arn:aws:kms:k' },
          },
    );
    const cipher = new KmsCredentialCipher(client, 'alias/smspass-credentials');

    const sealed = await cipher.encrypt('s3cret', ctx);
    expect(sealed).toBe(`kms:v1:${blob.toString('base64')}`);
    expect(await cipher.decrypt(sealed, ctx)).toBe('s3cret');

    const context = { purpose: 'smspass/credential', tenantId: 'tenant-a', providerId: 'web-1' };
    expect(seen).toEqual([
      {
        target: 'TrentService.Encrypt',
        signed: true,
        body: {
          KeyId: 'alias/smspass-credentials',
          Plaintext: Buffer.from('s3cret').toString('base64'),
          EncryptionContext: context,
        },
      },
      {
        target: 'TrentService.Decrypt',
        signed: true,
        body: {
          KeyId: 'alias/smspass-credentials',
          CiphertextBlob: blob.toString('base64'),
          EncryptionContext: context,
        },
      },
    ]);
  });

  it('turns a KMS refusal into a CredentialCipherError that keeps the cause', async () => {
    const { client } = kmsStandIn(() => ({
      status: 400,
      body: { __type: 'InvalidCiphertextException', message: 'context mismatch' },
    }));
    const error = await new KmsCredentialCipher(client, 'k')
      .decrypt('kms:v1:AAAA', ctx)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CredentialCipherError);
    expect((error as Error).cause).toMatchObject({ name: 'InvalidCiphertextException' });
    await expect(new KmsCredentialCipher(client, 'k').decrypt('local:v1:x', ctx)).rejects.toThrow(
      /not a credential sealed by KMS/,
    );
  });
});

describe('CachingCredentialCipher', () => {
  it('decrypts once per value and context while fresh, and never across contexts', async () => {
    const inner = new KeyFileCredentialCipher(Buffer.alloc(32, 4));
    let calls = 0;
    let now = 0;
    const cached = new CachingCredentialCipher(
      {
        encrypt: (p, c) => inner.encrypt(p, c),
        decrypt: (s, c) => {
          calls++;
          return inner.decrypt(s, c);
        },
      },
      { ttlMs: 1000, maxEntries: 2, now: () => now },
    );
    const sealed = await cached.encrypt('totp-secret', ctx);
    expect(await cached.decrypt(sealed, ctx)).toBe('totp-secret');
    expect(await cached.decrypt(sealed, ctx)).toBe('totp-secret');
    expect(calls).toBe(1);
    await expect(cached.decrypt(sealed, { ...ctx, tenantId: 'tenant-b' })).rejects.toBeInstanceOf(
      CredentialCipherError,
    );
    expect(calls).toBe(2);
    now = 1000;
    await cached.decrypt(sealed, ctx);
    expect(calls).toBe(3);
    // Two other values push the first out of a two-entry cache.
    await cached.decrypt(await cached.encrypt('a', ctx), ctx);
    await cached.decrypt(await cached.encrypt('b', ctx), ctx);
    await cached.decrypt(sealed, ctx);
    expect(calls).toBe(6);
  });
});
