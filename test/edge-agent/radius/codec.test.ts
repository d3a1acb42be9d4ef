/**
 * The RADIUS codec against the RFCs' own examples, and the length rules a server must enforce before it reads
 * anything: every malformed datagram is refused with its reason, and no input makes the decoder throw anything
 * else.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  Attr,
  attributes,
  Code,
  checkAccountingAuthenticator,
  checkMessageAuthenticator,
  checkReply,
  decodePacket,
  decodeUserPassword,
  encodeReply,
  encodeRequest,
  encodeUserPassword,
  MalformedPacketError,
  text,
} from '../../../edge-agent/radius/codec.ts';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** RFC 2865 §7.1: nemo logs in with "arctangent", shared secret "xyzzy5461". */
const RFC2865_REQUEST = hex(`
  01 00 00 38 0f 40 3f 94 73 97 80 57 bd 83 d5 cb 98 f4 22 7a 01 06 6e 65 6d 6f 02 12 0d be 70 8d 93 d4 13 ce
  31 96 e4 3f 78 2a 0a ee 04 06 c0 a8 01 10 05 06 00 00 00 03`);
const RFC2865_ACCEPT = hex(`
  02 00 00 26 86 fe 22 0e 76 24 ba 2a 10 05 f6 bf 9b 55 e0 b2 06 06 00 00 00 01 0f 06 00 00 00 00 0e 06 c0 a8
  01 03`);
const SECRET = Buffer.from('xyzzy5461');

const expectMalformed = (datagram: Buffer, reason: string) => {
  try {
    decodePacket(datagram);
  } catch (error) {
    expect(error).toBeInstanceOf(MalformedPacketError);
    expect((error as MalformedPacketError).reason).toBe(reason);
    return;
  }
  throw new Error('decoded a malformed packet');
};

describe('RFC 2865 §7.1 example', () => {
  it('decodes the Access-Request and recovers the password', () => {
    const packet = decodePacket(RFC2865_REQUEST);
    expect(packet.code).toBe(Code.AccessRequest);
    expect(packet.attributes.map((a) => a.type)).toEqual([1, 2, 4, 5]);
    const hidden = packet.attributes[1]!.value;
    expect(decodeUserPassword(hidden, packet.authenticator, SECRET).toString()).toBe('arctangent');
    expect(encodeUserPassword(Buffer.from('arctangent'), packet.authenticator, SECRET)).toEqual(hidden);
  });

  it("checks the Access-Accept's Response Authenticator the way encodeReply computes it", () => {
    const copy = Buffer.from(RFC2865_ACCEPT);
    RFC2865_REQUEST.subarray(4, 20).copy(copy, 4);
    const computed = createHash('md5').update(copy).update(SECRET).digest();
    expect(computed).toEqual(RFC2865_ACCEPT.subarray(4, 20));
  });
});

describe('User-Password', () => {
  const auth = Buffer.alloc(16, 7);
  it('chains blocks past 16 characters, and strips only trailing NULs', () => {
    for (const pw of ['a', 'exactly16chars!!', 'seventeen chars!!', 'x'.repeat(128), 'in\0side']) {
      const hidden = encodeUserPassword(Buffer.from(pw), auth, SECRET);
      expect(hidden.length % 16).toBe(0);
      expect(decodeUserPassword(hidden, auth, SECRET).toString()).toBe(pw);
    }
    // the second block depends on the first block's ciphertext, not on the authenticator
    const a = encodeUserPassword(Buffer.from('a'.repeat(32)), auth, SECRET);
    const b = encodeUserPassword(Buffer.from('a'.repeat(32)), Buffer.alloc(16, 8), SECRET);
    expect(a.subarray(16)).not.toEqual(b.subarray(16));
  });
  it('refuses a hidden password that is not whole 16-octet blocks', () => {
    expect(() => decodeUserPassword(Buffer.alloc(17), auth, SECRET)).toThrow(MalformedPacketError);
    expect(() => decodeUserPassword(Buffer.alloc(144), auth, SECRET)).toThrow(MalformedPacketError);
  });
});

describe('Message-Authenticator (RFC 3579)', () => {
  const auth = Buffer.alloc(16, 3);
  const request = decodePacket(
    encodeRequest(Code.AccessRequest, 9, auth, [{ type: Attr.UserName, value: text('alice') }], SECRET),
  );
  it('validates a request signed with the secret, and nothing else', () => {
    expect(checkMessageAuthenticator(request, SECRET)).toBe('valid');
    expect(checkMessageAuthenticator(request, Buffer.from('other-secret'))).toBe('invalid');
    const tampered = Buffer.from(request.raw);
    tampered[tampered.length - 1]! ^= 1;
    expect(checkMessageAuthenticator(decodePacket(tampered), SECRET)).toBe('invalid');
    const bare = encodeRequest(Code.AccessRequest, 9, auth, [], SECRET, { messageAuthenticator: false });
    expect(checkMessageAuthenticator(decodePacket(bare), SECRET)).toBe('missing');
  });

  it('puts it first in a reply, over the request authenticator, then Proxy-State in order', () => {
    const proxied = decodePacket(
      encodeRequest(
        Code.AccessRequest,
        4,
        auth,
        [
          { type: Attr.ProxyState, value: text('one') },
          { type: Attr.UserName, value: text('alice') },
          { type: Attr.ProxyState, value: text('two') },
        ],
        SECRET,
      ),
    );
    const reply = encodeReply(
      Code.AccessReject,
      proxied,
      [{ type: Attr.ReplyMessage, value: text('no') }],
      SECRET,
    );
    const decoded = decodePacket(reply);
    expect(decoded.identifier).toBe(4);
    expect(decoded.attributes.map((a) => a.type)).toEqual([
      Attr.MessageAuthenticator,
      Attr.ReplyMessage,
      Attr.ProxyState,
      Attr.ProxyState,
    ]);
    expect(attributes(decoded, Attr.ProxyState).map(String)).toEqual(['one', 'two']);
    expect(checkReply(reply, auth, SECRET)).toBe(true);
    expect(checkReply(reply, Buffer.alloc(16), SECRET)).toBe(false);
    expect(checkReply(reply, auth, Buffer.from('other'))).toBe(false);
  });

  it('signs an Accounting-Request over a zero authenticator (RFC 2866)', () => {
    const acct = decodePacket(
      encodeRequest(
        Code.AccountingRequest,
        1,
        auth,
        [{ type: Attr.AcctStatusType, value: hex('00000001') }],
        SECRET,
      ),
    );
    expect(checkAccountingAuthenticator(acct, SECRET)).toBe(true);
    expect(checkAccountingAuthenticator(acct, Buffer.from('wrong'))).toBe(false);
    expect(checkMessageAuthenticator(acct, SECRET)).toBe('valid');
  });
});

describe('length rules', () => {
  const good = encodeRequest(
    Code.AccessRequest,
    1,
    Buffer.alloc(16),
    [{ type: 1, value: text('bob') }],
    SECRET,
  );
  const withLength = (n: number) => {
    const b = Buffer.from(good);
    b.writeUInt16BE(n, 2);
    return b;
  };
  it('refuses a datagram under 20 octets', () => expectMalformed(good.subarray(0, 19), 'too_short'));
  it('refuses a length field under 20 or over 4,096', () => {
    expectMalformed(withLength(19), 'bad_length');
    expectMalformed(Buffer.concat([withLength(4097), Buffer.alloc(4097)]), 'bad_length');
  });
  it('refuses a length field past the datagram', () =>
    expectMalformed(withLength(good.length + 1), 'length_past_datagram'));
  it('ignores octets past the length field as padding', () => {
    expect(decodePacket(Buffer.concat([good, Buffer.alloc(5, 0xff)])).raw).toEqual(good);
  });
  it('refuses attributes of length 0 or 1, and truncated ones', () => {
    for (const len of [0, 1]) {
      const b = Buffer.concat([good, Buffer.from([Attr.ReplyMessage, len])]);
      b.writeUInt16BE(b.length, 2);
      expectMalformed(b, 'attribute_too_short');
    }
    const cut = Buffer.concat([good, Buffer.from([Attr.ReplyMessage, 10, 65])]);
    cut.writeUInt16BE(cut.length, 2);
    expectMalformed(cut, 'attribute_truncated');
    const lone = Buffer.concat([good, Buffer.from([Attr.ReplyMessage])]);
    lone.writeUInt16BE(lone.length, 2);
    expectMalformed(lone, 'attribute_truncated');
  });
  it('refuses a Message-Authenticator that is not 16 octets', () => {
    const b = Buffer.concat([good, Buffer.from([Attr.MessageAuthenticator, 4, 0, 0])]);
    b.writeUInt16BE(b.length, 2);
    expectMalformed(b, 'bad_message_authenticator_length');
  });
  it('never throws anything but MalformedPacketError, whatever the bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 4200 }), (bytes) => {
        try {
          decodePacket(Buffer.from(bytes));
        } catch (error) {
          if (!(error instanceof MalformedPacketError)) throw error;
        }
      }),
      { numRuns: 2000 },
    );
  });
});
