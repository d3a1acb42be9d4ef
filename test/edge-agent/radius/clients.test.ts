/** Which configured client a datagram comes from, and the retransmit cache's rules. */
import { describe, expect, it } from 'vitest';
import { ClientTable, parseAddressRange } from '../../../edge-agent/radius/clients.ts';
import { ReplyCache } from '../../../edge-agent/radius/reply-cache.ts';

const client = (name: string, address: string) => ({
  name,
  address,
  secret: `${name}-secret`,
  requireMessageAuthenticator: true,
  singleStep: false,
  passcodeLength: 6,
});

describe('ClientTable', () => {
  const table = new ClientTable([
    client('lan', '10.0.0.0/8'),
    client('gw', '10.1.2.3'),
    client('site', '10.1.0.0/16'),
    client('v6', '2001:db8::/32'),
  ]);
  it('picks the narrowest range that holds the address, whatever the order configured', () => {
    expect(table.find('10.1.2.3')?.name).toBe('gw');
    expect(table.find('10.1.9.9')?.name).toBe('site');
    expect(table.find('10.200.0.1')?.name).toBe('lan');
    expect(table.find('2001:db8::5')?.name).toBe('v6');
  });
  it('knows an IPv4 peer seen through a dual-stack socket, and nothing outside the ranges', () => {
    expect(table.find('::ffff:10.1.2.3')?.name).toBe('gw');
    expect(table.find('192.0.2.1')).toBeUndefined();
    expect(table.find('2001:db9::1')).toBeUndefined();
    expect(table.find('not an address')).toBeUndefined();
  });
  it('reads addresses and ranges, and refuses anything else', () => {
    expect(parseAddressRange('192.0.2.0/24')).toEqual({ address: '192.0.2.0', prefix: 24, family: 'ipv4' });
    for (const bad of ['192.0.2.0/33', '192.0.2.0/', '192.0.2.0/24/1', 'host.example', '::/129', '1.2.3.4/x'])
      expect(parseAddressRange(bad), bad).toBeUndefined();
  });
});

describe('ReplyCache', () => {
  let t = 0;
  const cache = new ReplyCache({ ttlMs: 1000, maxEntries: 3, now: () => t });
  const key = (n: number) => ReplyCache.key('127.0.0.1', 5000, n, Buffer.alloc(16, n));
  it('answers copies that came while the first was worked on, and later ones, with the same bytes', () => {
    const got: Buffer[] = [];
    expect(cache.admit(key(1), (b) => got.push(b))).toBe('fresh');
    expect(cache.admit(key(1), (b) => got.push(b))).toBe('duplicate');
    cache.finish(key(1), Buffer.from('reply'));
    expect(cache.admit(key(1), (b) => got.push(b))).toBe('duplicate');
    expect(got.map(String)).toEqual(['reply', 'reply', 'reply']);
  });
  it('forgets a request that got no answer, and a reply past its window', () => {
    expect(cache.admit(key(2), () => {})).toBe('fresh');
    cache.finish(key(2), undefined);
    expect(cache.admit(key(2), () => {})).toBe('fresh');
    cache.finish(key(2), Buffer.from('x'));
    t += 1001;
    expect(cache.admit(key(2), () => {})).toBe('fresh');
  });
  it('never holds more than its limit', () => {
    for (let i = 10; i < 20; i++) cache.admit(key(i), () => {});
    expect(cache.size).toBeLessThanOrEqual(3);
  });
});
