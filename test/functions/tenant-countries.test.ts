/**
 * A tenant's countries decide where codes may be sent: a code that is two letters but no country ("XX", "ZZ")
 * is refused with a 400 that names the field, on create and on update alike, and nothing stored changes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DirectoryFixture, startDirectory } from '../support/directory.ts';

let t: DirectoryFixture;
beforeAll(async () => {
  t = await startDirectory();
});
afterAll(async () => t?.close());

const op = (method: string, path: string, body?: unknown) =>
  t.call(t.operator, method, path, t.seed.keys.operator, body);

const tenant = (id: string, fields: Record<string, unknown> = {}) => ({
  id,
  name: 'Country Test',
  defaultCountry: 'DK',
  userLimit: 10,
  ...fields,
});

function expectRefused(
  res: { status: number; body: { error?: { code?: string; message?: string } } },
  field: string,
  value: string,
) {
  expect(res.status).toBe(400);
  expect(res.body.error?.code).toBe('invalid_request');
  expect(res.body.error?.message).toMatch(new RegExp(`^${field.replace('.', '\\.')}: `));
  expect(res.body.error?.message).toContain(`"${value}"`);
}

describe('tenant countries', () => {
  it('refuses a create whose default country is not a country', async () => {
    for (const code of ['XX', 'ZZ', 'zz', 'AA', 'EU', 'UK']) {
      const res = await op(
        'POST',
        '/v1/operator/tenants',
        tenant(`c-${code.toLowerCase()}`, { defaultCountry: code }),
      );
      expectRefused(res, 'defaultCountry', code);
      expect((await op('GET', `/v1/operator/tenants/c-${code.toLowerCase()}`)).status).toBe(404);
    }
  });

  it('refuses a create whose allowed countries hold one that is not a country, naming its place', async () => {
    const res = await op(
      'POST',
      '/v1/operator/tenants',
      tenant('c-allowed', { allowedCountries: ['DK', 'ZZ'] }),
    );
    expectRefused(res, 'allowedCountries.1', 'ZZ');
    expect((await op('GET', '/v1/operator/tenants/c-allowed')).status).toBe(404);
  });

  it('creates with real countries in either case, stored upper-case', async () => {
    const res = await op(
      'POST',
      '/v1/operator/tenants',
      tenant('c-real', { defaultCountry: 'se', allowedCountries: ['SE', 'no', 'GB', 'XK'] }),
    );
    expect(res.status).toBe(201);
    expect(res.body.tenant).toMatchObject({
      defaultCountry: 'SE',
      allowedCountries: ['SE', 'NO', 'GB', 'XK'],
    });
  });

  it('refuses an update to a country that is not one, and keeps what was stored', async () => {
    expect((await op('POST', '/v1/operator/tenants', tenant('c-patch'))).status).toBe(201);
    expectRefused(
      await op('PATCH', '/v1/operator/tenants/c-patch', { defaultCountry: 'XX' }),
      'defaultCountry',
      'XX',
    );
    expectRefused(
      await op('PATCH', '/v1/operator/tenants/c-patch', { allowedCountries: ['ZZ'] }),
      'allowedCountries.0',
      'ZZ',
    );
    expect((await op('GET', '/v1/operator/tenants/c-patch')).body).toMatchObject({
      defaultCountry: 'DK',
      allowedCountries: ['DK'],
    });
    const ok = await op('PATCH', '/v1/operator/tenants/c-patch', {
      defaultCountry: 'no',
      allowedCountries: ['NO', 'dk'],
    });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ defaultCountry: 'NO', allowedCountries: ['NO', 'DK'] });
  });
});
