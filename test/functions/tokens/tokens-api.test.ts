/**
 * The token routes of the admin API, through the real admin app over dynalite: enrolment shown once and
 * pending until confirmed, PSKC import all or nothing with stable error codes, the inventory without seeds,
 * assignment and revocation, the audit trail, and tenant A's tokens out of tenant B's reach.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PSKC_MAX_BYTES } from '../../../functions/contracts/tokens.ts';
import { base32Decode, totp } from '../../../functions/core/channels/totp.ts';
import { type DirectoryFixture, startDirectory } from '../../support/directory.ts';
import { FIGURE_2, FIGURE_6, FIGURE_6_KEY, pskcDocument, RFC_SEED } from './pskc-fixtures.ts';

let t: DirectoryFixture;
let A: string;
let B: string;
beforeAll(async () => {
  t = await startDirectory();
  A = t.seed.keys.admin;
  B = t.other.keys.admin;
});
afterAll(async () => t?.close());

const admin = (method: string, path: string, body?: unknown, key = A) =>
  t.call(t.admin, method, path, key, body);

async function importXml(xml: string, options: { key?: string; transportKey?: string; type?: string } = {}) {
  const res = await t.admin.request('/v1/tokens/import', {
    method: 'POST',
    headers: {
      authorization: `Bearer ${options.key ?? A}`,
      'content-type': options.type ?? 'application/pskc+xml',
      ...(options.transportKey && { 'x-pskc-transport-key': options.transportKey }),
    },
    body: xml,
  });
  // biome-ignore lint/suspicious/noExplicitAny: replies are asserted field by field
  return { status: res.status, body: (await res.json()) as any };
}

describe('authenticator-app enrolment', () => {
  it('shows the secret, URI and QR code once, stays pending until a good code confirms it', async () => {
    const res = await t.admin.request('/v1/users/alice/tokens/totp', {
      method: 'POST',
      headers: { authorization: `Bearer ${A}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const enrolled = (await res.json()) as Record<string, string>;
    expect(enrolled).toMatchObject({ kind: 'totp', source: 'app', state: 'pending', digits: 6, period: 30 });
    expect(enrolled.uri).toMatch(/^otpauth:\/\/totp\/acme:alice\?secret=[A-Z2-7]+&issuer=acme/);
    expect(enrolled.qrSvg).toMatch(/^<svg/);

    const listed = await admin('GET', '/v1/users/alice/tokens');
    expect(listed.body.items).toEqual([
      expect.objectContaining({ tokenId: enrolled.tokenId, state: 'pending' }),
    ]);
    expect(JSON.stringify(listed.body)).not.toContain(enrolled.secret);

    const confirmPath = `/v1/users/alice/tokens/${enrolled.tokenId}/confirm`;
    expect((await admin('POST', confirmPath, { code: '123' })).body.error.code).toBe('wrong_code');
    const code = totp(base32Decode(enrolled.secret!), Date.now());
    const confirmed = await admin('POST', confirmPath, { code });
    expect(confirmed.status).toBe(200);
    expect(confirmed.body).toMatchObject({ state: 'active', confirmedAt: expect.any(String) });
    expect(confirmed.body.secret).toBeUndefined();

    const again = await admin('POST', '/v1/users/alice/tokens/totp', {});
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('token_exists');
    expect((await admin('POST', '/v1/users/alice/tokens/totp', { replace: true })).status).toBe(201);
    expect((await admin('POST', '/v1/users/nobody/tokens/totp', {})).status).toBe(404);
    expect((await admin('POST', '/v1/users/alice/tokens/totp', { replace: 'yes' })).status).toBe(400);
  });
});

describe('PSKC import and the inventory', () => {
  it('imports RFC 6030 Figure 2 (plain) and Figure 6 (PSK-encrypted), shows them without seeds', async () => {
    const plain = await importXml(FIGURE_2);
    expect(plain.status, JSON.stringify(plain.body)).toBe(201);
    expect(plain.body).toMatchObject({
      imported: 1,
      tokens: [{ tokenId: 'hw.12345678', state: 'unassigned' }],
    });
    const encrypted = await importXml(FIGURE_6, { transportKey: FIGURE_6_KEY });
    expect(encrypted.status, JSON.stringify(encrypted.body)).toBe(201);
    expect(encrypted.body.tokens[0]).toMatchObject({
      tokenId: 'hw.987654321',
      serial: '987654321',
      manufacturer: 'Manufacturer',
      kind: 'hotp',
      digits: 8,
    });
    const inventory = await admin('GET', '/v1/tokens?state=unassigned');
    expect(inventory.body.items.map((i: { serial: string }) => i.serial)).toEqual(
      expect.arrayContaining(['12345678', '987654321']),
    );
    const text = JSON.stringify(inventory.body);
    for (const forbidden of ['sealedSecret', 'counter', 'lastStep', RFC_SEED.toString('base64'), 'MTIzNA=='])
      expect(text).not.toContain(forbidden);
  });

  it('refuses bad documents with stable codes naming the KeyPackage, and keeps nothing of them', async () => {
    const cases: Array<[string, Parameters<typeof importXml>[1], number, string]> = [
      ['not xml at all', {}, 400, 'invalid_pskc'],
      ['<KeyContainer Version="1.0"/>', {}, 400, 'invalid_pskc'],
      [FIGURE_6, {}, 400, 'transport_key_required'],
      [FIGURE_6, { transportKey: 'ff'.repeat(16) }, 422, 'wrong_transport_key'],
      [
        FIGURE_6.replace('AAECAwQFBgcICQoLDA0OD+cI', 'AAECAwQFBgcICQoLDA0OD+cJ'),
        { transportKey: FIGURE_6_KEY },
        422,
        'bad_mac',
      ],
      [pskcDocument([{ serial: 'X1', kind: 'urn:example:ocra' }]), {}, 422, 'unknown_algorithm'],
      [pskcDocument([{ serial: 'X2' }]).replace(/<Secret>[\s\S]*?<\/Secret>/, ''), {}, 422, 'missing_secret'],
      [pskcDocument([{ serial: 'X3' }, { serial: 'X3' }]), {}, 409, 'duplicate_serial'],
      [FIGURE_2, { type: 'application/json' }, 400, 'invalid_request'],
    ];
    for (const [xml, options, status, code] of cases) {
      const res = await importXml(xml, options);
      expect({ status: res.status, code: res.body.error.code }, xml.slice(0, 80)).toEqual({ status, code });
    }
    const bad = await importXml(pskcDocument([{ serial: 'OK-1' }, { serial: 'BAD', digits: 5 }]));
    expect(bad.body.error.message).toMatch(/^KeyPackage 2 \(Key Id BAD-key, serial BAD\)/);
    const listed = await admin('GET', '/v1/tokens');
    expect(JSON.stringify(listed.body)).not.toMatch(/"serial":"(X1|X2|X3|OK-1|BAD)"/);
  });

  it('is all or nothing: one serial already in the tenant leaves the whole document out', async () => {
    const res = await importXml(
      pskcDocument([{ serial: 'NEW-1' }, { serial: '987654321' }, { serial: 'NEW-2' }]),
    );
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({
      code: 'duplicate_serial',
      message: expect.stringContaining('KeyPackage 2'),
    });
    const listed = await admin('GET', '/v1/tokens?limit=200');
    const serials = listed.body.items.map((i: { serial?: string }) => i.serial);
    expect(serials).not.toContain('NEW-1');
    expect(serials).not.toContain('NEW-2');
  });

  it('caps the body: a document over 1 MiB gets 413 before it is parsed', async () => {
    const huge = `${FIGURE_2}<!--${'x'.repeat(PSKC_MAX_BYTES)}-->`;
    const res = await importXml(huge);
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('payload_too_large');
  });

  it("assigns by serial, lists the user's tokens, revokes, and audits each step without a seed", async () => {
    await importXml(pskcDocument([{ serial: 'ASSIGN-1' }, { serial: 'ASSIGN-2', kind: 'totp' }]));
    const assigned = await admin('POST', '/v1/users/bob/tokens', { serial: 'ASSIGN-1' });
    expect(assigned.status).toBe(200);
    expect(assigned.body).toMatchObject({ tokenId: 'hw.ASSIGN-1', state: 'active', username: 'bob' });
    expect((await admin('POST', '/v1/users/alice/tokens', { serial: 'ASSIGN-1' })).body.error.code).toBe(
      'token_unavailable',
    );
    expect((await admin('POST', '/v1/users/bob/tokens', { serial: 'NOPE' })).status).toBe(404);
    expect((await admin('POST', '/v1/users/nobody/tokens', { serial: 'ASSIGN-2' })).status).toBe(404);
    expect((await admin('GET', '/v1/users/bob/tokens')).body.items).toEqual([
      expect.objectContaining({ tokenId: 'hw.ASSIGN-1', state: 'active' }),
    ]);
    expect((await admin('DELETE', '/v1/users/alice/tokens/hw.ASSIGN-1')).status).toBe(404);
    expect((await admin('DELETE', '/v1/users/bob/tokens/hw.ASSIGN-1')).status).toBe(204);
    expect((await admin('GET', '/v1/users/bob/tokens')).body.items).toEqual([]);
    expect((await admin('GET', '/v1/tokens?state=revoked')).body.items).toEqual([
      expect.objectContaining({ tokenId: 'hw.ASSIGN-1', state: 'revoked', revokedAt: expect.any(String) }),
    ]);

    const audit = await admin('GET', '/v1/audit?limit=200');
    const actions = audit.body.entries.map((e: { action: string }) => e.action);
    for (const action of [
      'token.enrolled',
      'token.confirmed',
      'tokens.imported',
      'token.assigned',
      'token.revoked',
    ])
      expect(actions).toContain(action);
    const imported = audit.body.entries.find(
      (e: { action: string; details: { count: number } }) =>
        e.action === 'tokens.imported' && e.details.count === 2,
    );
    expect(imported.after.serials).toEqual(['ASSIGN-1', 'ASSIGN-2']);
    expect(JSON.stringify(audit.body)).not.toContain(RFC_SEED.toString('base64'));
    expect(JSON.stringify(audit.body)).not.toContain('sealedSecret');
  });

  it("keeps tenants apart: globex sees none of acme's tokens and cannot assign or revoke them", async () => {
    await importXml(pskcDocument([{ serial: 'ACME-ONLY' }]));
    expect(JSON.stringify((await admin('GET', '/v1/tokens', undefined, B)).body)).not.toContain('ACME-ONLY');
    expect((await admin('POST', '/v1/users/alice/tokens', { serial: 'ACME-ONLY' }, B)).status).toBe(404);
    await admin('POST', '/v1/users/alice/tokens', { serial: 'ACME-ONLY' });
    expect((await admin('DELETE', '/v1/users/alice/tokens/hw.ACME-ONLY', undefined, B)).status).toBe(404);
    expect((await admin('GET', '/v1/users/alice/tokens', undefined, B)).body.items ?? []).toEqual([]);
    expect((await admin('GET', '/v1/users/alice/tokens')).body.items).toEqual(
      expect.arrayContaining([expect.objectContaining({ tokenId: 'hw.ACME-ONLY', state: 'active' })]),
    );
    // The same serial is globex's own token in globex.
    expect((await importXml(pskcDocument([{ serial: 'ACME-ONLY' }]), { key: B })).status).toBe(201);
    // Other key kinds cannot reach the routes at all.
    expect((await admin('GET', '/v1/tokens', undefined, t.seed.keys.auth)).status).toBe(403);
  });
});
