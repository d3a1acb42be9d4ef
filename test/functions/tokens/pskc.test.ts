/**
 * PSKC parsing: the RFC 6030 figures, PSK-encrypted documents of our own, and every way a document can be
 * bad, each with its stable code and the KeyPackage that failed.
 */
import { describe, expect, it } from 'vitest';
import { hotp } from '../../../functions/core/channels/totp.ts';
import { PskcError, parsePskc } from '../../../functions/core/pskc.ts';
import { FIGURE_2, FIGURE_6, FIGURE_6_KEY, pskcDocument, RFC_SEED } from './pskc-fixtures.ts';

const parse = (xml: string, transportKeyHex?: string) =>
  parsePskc(xml, { maxKeys: 10, ...(transportKeyHex !== undefined && { transportKeyHex }) });

function failure(xml: string, transportKeyHex?: string): { code: string; message: string } {
  try {
    parse(xml, transportKeyHex);
  } catch (error) {
    expect(error).toBeInstanceOf(PskcError);
    return { code: (error as PskcError).code, message: (error as PskcError).message };
  }
  throw new Error('the document was accepted');
}

const KEY = Buffer.from(FIGURE_6_KEY, 'hex');

describe('RFC 6030 examples', () => {
  it('Figure 2: a plain HOTP seed, the Key Id standing in for the absent serial, RFC defaults', () => {
    const [key, ...rest] = parse(FIGURE_2);
    expect(rest).toEqual([]);
    expect(key).toMatchObject({
      index: 1,
      keyId: '12345678',
      serial: '12345678',
      kind: 'hotp',
      algorithm: 'sha1',
      digits: 6,
      counter: 0,
    });
    expect(key!.secret.toString()).toBe('1234');
  });

  it('Figure 6: the PSK-encrypted seed opens with the RFC transport key and its MAC checks', () => {
    const [key] = parse(FIGURE_6, FIGURE_6_KEY);
    expect(key).toMatchObject({
      serial: '987654321',
      manufacturer: 'Manufacturer',
      kind: 'hotp',
      digits: 8,
      counter: 0,
    });
    expect(key!.secret.equals(RFC_SEED)).toBe(true);
    // RFC 4226 Appendix D, first value, as 8 digits.
    expect(hotp(key!.secret, 0, 8, 'sha1')).toBe('84755224');
  });

  it('Figure 6 without a key, with a wrong key, or with a key of the wrong size', () => {
    expect(failure(FIGURE_6).code).toBe('transport_key_required');
    expect(failure(FIGURE_6, 'ff'.repeat(16)).code).toBe('wrong_transport_key');
    expect(failure(FIGURE_6, 'abc').code).toBe('transport_key_required');
    expect(failure(FIGURE_6, 'aa'.repeat(32)).code).toBe('wrong_transport_key');
  });

  it('Figure 6 with a tampered ciphertext fails its MAC, naming the KeyPackage', () => {
    const tampered = FIGURE_6.replace('AAECAwQFBgcICQoLDA0OD+cI', 'AAECAwQFBgcICQoLDA0OD+cJ');
    expect(failure(tampered, FIGURE_6_KEY)).toEqual({
      code: 'bad_mac',
      message: expect.stringMatching(/^KeyPackage 1 \(Key Id 12345678, serial 987654321\): .*ValueMAC/),
    });
    expect(failure(FIGURE_6.replace(/<ValueMAC>[^<]*<\/ValueMAC>/, ''), FIGURE_6_KEY).code).toBe('bad_mac');
  });
});

describe('documents of our own', () => {
  it('reads HOTP and TOTP keys with their serial, digits, counter, interval and hash', () => {
    const keys = parse(
      pskcDocument(
        [
          { serial: 'H-1', counter: 42, digits: 8 },
          { serial: 'T-1', kind: 'totp', period: 60, suite: 'HMAC-SHA256', secret: Buffer.alloc(32, 7) },
          { serial: 'T-2', kind: 'urn:ietf:params:xml:ns:keyprov:pskc:totp' },
        ],
        { transportKey: KEY },
      ),
      FIGURE_6_KEY,
    );
    expect(keys.map(({ secret: _s, ...k }) => k)).toEqual([
      expect.objectContaining({ serial: 'H-1', kind: 'hotp', counter: 42, digits: 8, algorithm: 'sha1' }),
      expect.objectContaining({ serial: 'T-1', kind: 'totp', period: 60, digits: 6, algorithm: 'sha256' }),
      expect.objectContaining({ serial: 'T-2', kind: 'totp', period: 30 }),
    ]);
    expect(keys[1]!.secret.equals(Buffer.alloc(32, 7))).toBe(true);
  });

  it('refuses what is not PSKC, with a stable code each', () => {
    expect(failure('this is not xml').code).toBe('invalid_pskc');
    expect(failure('<KeyContainer><unclosed></KeyContainer>').code).toBe('invalid_pskc');
    expect(failure('<KeyContainer Version="1.0"/>')).toEqual({
      code: 'invalid_pskc',
      message: expect.stringContaining('namespace urn:ietf:params:xml:ns:keyprov:pskc'),
    });
    expect(failure(FIGURE_2.replace('keyprov:pskc"', 'keyprov:other"')).code).toBe('invalid_pskc');
    expect(failure('<KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc"/>').code).toBe(
      'invalid_pskc',
    );
    const billionLaughs = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>${FIGURE_2.replace(/^<\?xml[^>]*>/, '')}`;
    expect(failure(billionLaughs).code).toBe('invalid_pskc');
    expect(
      failure(pskcDocument(Array.from({ length: 11 }, (_, i) => ({ serial: `S${i}` })))).message,
    ).toMatch(/at most 10/);
  });

  it('names the KeyPackage that has no secret, an unknown algorithm, bad digits or a repeated serial', () => {
    const noSecret = pskcDocument([{ serial: 'A' }, { serial: 'B' }]).replace(
      /(<SerialNo>B<\/SerialNo>[\s\S]*?)<Secret>[\s\S]*?<\/Secret>/,
      '$1',
    );
    expect(failure(noSecret)).toEqual({
      code: 'missing_secret',
      message: expect.stringMatching(/^KeyPackage 2 \(Key Id B-key, serial B\)/),
    });
    expect(
      failure(pskcDocument([{ serial: 'A', kind: 'urn:ietf:params:xml:ns:keyprov:pskc:ocra' }])).code,
    ).toBe('unknown_algorithm');
    expect(failure(pskcDocument([{ serial: 'A', suite: 'HMAC-MD5' }])).code).toBe('unknown_algorithm');
    expect(failure(pskcDocument([{ serial: 'A', digits: 4 }])).code).toBe('invalid_key_package');
    expect(failure(pskcDocument([{ serial: 'A', kind: 'totp', period: 0 }])).code).toBe(
      'invalid_key_package',
    );
    expect(failure(pskcDocument([{ serial: 'bad serial' }])).code).toBe('invalid_key_package');
    expect(failure(pskcDocument([{ serial: 'A' }, { serial: 'B' }, { serial: 'A' }]))).toEqual({
      code: 'duplicate_serial',
      message: expect.stringMatching(/^KeyPackage 3 .*serial A.*KeyPackage 1/),
    });
  });

  it('an encrypted document with a wrong transport key fails as such, not as a MAC of another key', () => {
    const other = Buffer.alloc(16, 1).toString('hex');
    expect(failure(pskcDocument([{ serial: 'A' }], { transportKey: KEY }), other).code).toMatch(
      /^(wrong_transport_key|bad_mac)$/,
    );
  });
});
