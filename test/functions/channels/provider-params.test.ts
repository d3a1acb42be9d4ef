/** Provider parameters: checked against the kind's description, secrets sealed at rest and masked in answers. */
import { describe, expect, it } from 'vitest';
import { KeyFileCredentialCipher } from '../../../functions/adapters/credentials/key-file-cipher.ts';
import {
  maskParams,
  openParams,
  ProviderParamsError,
  SECRET_MASK,
  sealParams,
  validateParams,
} from '../../../functions/core/channels/provider-params.ts';
import { WEB_PROVIDER_PARAMETERS } from '../../../functions/core/channels/web-provider.ts';

const cipher = new KeyFileCredentialCipher(Buffer.alloc(32, 3));
const ctx = { tenantId: 'tenant-a', providerId: 'web-1' };
const specs = WEB_PROVIDER_PARAMETERS;

describe('provider parameters', () => {
  it('fills defaults and refuses wrong types, unknown names and missing required values', () => {
    expect(validateParams(specs, { url: 'https://sms.example/send' })).toMatchObject({
      url: 'https://sms.example/send',
      method: 'POST',
      timeoutSeconds: 10,
    });
    const error = (() => {
      try {
        validateParams(specs, { method: 'DELETE', timeoutSeconds: '5', extra: 1 });
      } catch (e) {
        return e as ProviderParamsError;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(ProviderParamsError);
    expect(error?.issues.map((i) => i.param).sort()).toEqual(['extra', 'method', 'timeoutSeconds', 'url']);
  });

  it('seals secrets for storage, opens them for a send, and masks them in every answer', async () => {
    const plain = validateParams(specs, {
      url: 'https://sms.example',
      username: 'acme',
      password: 'pw-123',
      apiKey: 'key-456',
    });
    const stored = await sealParams(specs, plain, cipher, ctx);
    expect(JSON.stringify(stored)).not.toMatch(/pw-123|key-456/);
    expect(stored.username).toBe('acme');
    expect(stored.password).toMatch(/^local:v1:/);

    expect(await openParams(specs, stored, cipher, ctx)).toEqual(plain);
    await expect(openParams(specs, stored, cipher, { ...ctx, tenantId: 'tenant-b' })).rejects.toThrow();

    const shown = maskParams(specs, stored);
    expect(shown).toMatchObject({ username: 'acme', password: SECRET_MASK, apiKey: SECRET_MASK });
    expect(JSON.stringify(shown)).not.toContain('local:v1');
    expect(maskParams(specs, plain)).toMatchObject({ password: SECRET_MASK });
  });

  it('keeps a stored secret when the console sends the mask back, and asks for one that was never set', async () => {
    const stored = await sealParams(specs, { url: 'https://a.example', password: 'pw-123' }, cipher, ctx);
    const edited = await sealParams(
      specs,
      { url: 'https://b.example', password: SECRET_MASK },
      cipher,
      ctx,
      stored,
    );
    expect(edited.password).toEqual(stored.password);
    expect((await openParams(specs, edited, cipher, ctx)).password).toBe('pw-123');
    await expect(
      sealParams(specs, { url: 'https://b.example', apiKey: SECRET_MASK }, cipher, ctx, stored),
    ).rejects.toThrow(ProviderParamsError);
  });
});
