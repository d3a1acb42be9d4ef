/**
 * The RADIUS clients (NAS: VPN gateways, access points) allowed to talk to the front, each by IP or CIDR with
 * its own shared secret. A datagram from anywhere else is dropped unread. Where ranges overlap, the narrowest
 * one wins, so one gateway can have its own secret inside a subnet's.
 */
import { BlockList, isIP } from 'node:net';

export interface RadiusClientConfig {
  name: string;
  /** An address (`192.0.2.10`) or a range (`192.0.2.0/24`, `2001:db8::/32`). */
  address: string;
  secret: string;
  requireMessageAuthenticator: boolean;
  singleStep: boolean;
  /** Single-step: how many trailing characters of the password field are the passcode. */
  passcodeLength: number;
}

export interface RadiusClient extends RadiusClientConfig {
  secretBytes: Buffer;
}

interface Entry {
  client: RadiusClient;
  list: BlockList;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

/** `192.0.2.0/24` → parts, or undefined when it is no address or range. */
export function parseAddressRange(
  value: string,
): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | undefined {
  const [address = '', bits, extra] = value.split('/');
  if (extra !== undefined) return undefined;
  const version = isIP(address);
  if (version === 0) return undefined;
  const max = version === 4 ? 32 : 128;
  if (bits !== undefined && !/^\d{1,3}$/.test(bits)) return undefined;
  const prefix = bits === undefined ? max : Number(bits);
  if (prefix > max) return undefined;
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

/** A dual-stack socket reports IPv4 peers as `::ffff:a.b.c.d`. */
export function plainAddress(address: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return m ? m[1]! : address;
}

export class ClientTable {
  private readonly entries: Entry[];

  constructor(clients: readonly RadiusClientConfig[]) {
    this.entries = clients
      .map((c) => {
        const range = parseAddressRange(c.address);
        if (!range) throw new Error(`not an address or range: ${c.address}`);
        const list = new BlockList();
        list.addSubnet(range.address, range.prefix, range.family);
        return {
          client: { ...c, secretBytes: Buffer.from(c.secret, 'utf8') },
          list,
          prefix: range.prefix,
          family: range.family,
        };
      })
      .sort((a, b) => b.prefix - a.prefix);
  }

  find(address: string): RadiusClient | undefined {
    const plain = plainAddress(address);
    const version = isIP(plain);
    if (version === 0) return undefined;
    const family = version === 4 ? 'ipv4' : 'ipv6';
    return this.entries.find((e) => e.family === family && e.list.check(plain, family))?.client;
  }
}
