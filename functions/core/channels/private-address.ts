/**
 * Which IP addresses a tenant's provider may be reached at. A provider URL is the tenant's to write, so without
 * this a "provider" could be the cloud's metadata service, a VPC-internal service or the host's own loopback.
 * Everything that is not a unicast address on the public internet is refused: loopback, private, link-local,
 * CGNAT, multicast, reserved, documentation and benchmark ranges, and IPv6 forms that carry or reach an IPv4
 * address (mapped, compatible, NAT64, 6to4) when that address is one of those.
 */
import { isIPv4, isIPv6 } from 'node:net';

/** [base address, prefix length] of the IPv4 ranges that are not public unicast. */
const IPV4_BLOCKED: ReadonlyArray<readonly [string, number]> = [
  ['0.0.0.0', 8], // "this network"; 0.0.0.0 reaches the host itself
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, where cloud metadata lives
  ['172.16.0.0', 12],
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.88.99.0', 24], // 6to4 relay anycast
  ['192.168.0.0', 16],
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation
  ['203.0.113.0', 24], // documentation
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, and the broadcast address
];

const v4ToInt = (ip: string) => ip.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
const IPV4_RANGES = IPV4_BLOCKED.map(([base, bits]) => {
  const size = 2 ** (32 - bits);
  const start = v4ToInt(base);
  return [start, start + size - 1] as const;
});

function isBlockedV4(value: number): boolean {
  return IPV4_RANGES.some(([lo, hi]) => value >= lo && value <= hi);
}

/** The 8 groups of an IPv6 address, or undefined when it is not one. The zone (`%eth0`) is ignored. */
function ipv6Groups(ip: string): number[] | undefined {
  const address = ip.replace(/%.*$/, '');
  if (!isIPv6(address)) return undefined;
  let text = address.toLowerCase();
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted?.[1]) {
    const v = v4ToInt(dotted[1]);
    text = `${text.slice(0, dotted.index)}${(v >>> 16).toString(16)}:${(v & 0xffff).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((g) => Number.parseInt(g, 16)));
  const front = parse(head);
  const back = tail === undefined ? [] : parse(tail);
  const missing = 8 - front.length - back.length;
  return [...front, ...Array<number>(tail === undefined ? 0 : missing).fill(0), ...back];
}

const v4Of = (high: number, low: number) => high * 65536 + low;

function isBlockedV6(g: number[]): boolean {
  const [g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, g5 = 0, g6 = 0, g7 = 0] = g;
  const upperZero = g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0;
  // ::, ::1, and the IPv4-compatible ::a.b.c.d (deprecated; no public use).
  if (upperZero && g5 === 0) return true;
  // IPv4-mapped ::ffff:a.b.c.d: the socket reaches the IPv4 address itself.
  if (upperZero && g5 === 0xffff) return isBlockedV4(v4Of(g6, g7));
  // IPv4-translated ::ffff:0:a.b.c.d (SIIT).
  if (g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0xffff && g5 === 0) return true;
  // NAT64 well-known prefix 64:ff9b::/96 reaches the embedded IPv4 address; 64:ff9b:1::/48 is local use.
  if (g0 === 0x64 && g1 === 0xff9b) {
    if (g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) return isBlockedV4(v4Of(g6, g7));
    return g2 === 1;
  }
  // Discard-only 100::/64.
  if (g0 === 0x100 && g1 === 0 && g2 === 0 && g3 === 0) return true;
  // 2001::/23 holds Teredo (2001::/32, which tunnels to an obfuscated IPv4) and other IETF special use.
  if (g0 === 0x2001 && g1 < 0x200) return true;
  // Documentation 2001:db8::/32 and 3fff::/20.
  if (g0 === 0x2001 && g1 === 0xdb8) return true;
  if (g0 === 0x3fff && g1 < 0x1000) return true;
  // 6to4 2002::/16 reaches the IPv4 address in the next 32 bits.
  if (g0 === 0x2002) return isBlockedV4(v4Of(g1, g2));
  // Unique local fc00::/7, link-local fe80::/10, site-local fec0::/10, multicast ff00::/8.
  if ((g0 & 0xfe00) === 0xfc00) return true;
  if ((g0 & 0xffc0) === 0xfe80 || (g0 & 0xffc0) === 0xfec0) return true;
  return (g0 & 0xff00) === 0xff00;
}

/** True only for an IP address that is unicast on the public internet; anything else (or not an IP) is false. */
export function isPublicAddress(ip: string): boolean {
  const address = ip.replace(/^\[|\]$/g, '');
  if (isIPv4(address)) return !isBlockedV4(v4ToInt(address));
  const groups = ipv6Groups(address);
  return groups !== undefined && !isBlockedV6(groups);
}

/** True for an IP literal (bracketed or not) of either family. */
export function isIpLiteral(host: string): boolean {
  const address = host.replace(/^\[|\]$/g, '');
  return isIPv4(address) || ipv6Groups(address) !== undefined;
}

/** `localhost` and its subdomains, with or without the root's trailing dot: loopback by definition (RFC 6761). */
export function isLocalhostName(host: string): boolean {
  const name = host.toLowerCase().replace(/\.+$/, '');
  return name === 'localhost' || name.endsWith('.localhost');
}
