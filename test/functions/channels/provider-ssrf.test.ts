/**
 * A tenant writes its provider's URL, so the URL is an attacker's: it must never reach the cloud's own network.
 * Every trick below aims at a server on 127.0.0.1 that counts connections; each is refused as
 * `config`/`provider_private_address` and the server sees nothing, not even a TCP connection. Names are resolved
 * through a lookup the test controls, the way a hostile DNS zone would answer.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, LookupFunction } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FetchHttpTransport } from '../../../functions/adapters/http/fetch-transport.ts';
import { Bulkheads } from '../../../functions/core/channels/bulkhead.ts';
import type { DeliveryRequest } from '../../../functions/core/channels/channel.ts';
import { HttpTransportError } from '../../../functions/core/channels/http.ts';
import { isPublicAddress } from '../../../functions/core/channels/private-address.ts';
import {
  type WebProviderDeps,
  WebSmsProvider,
  webProviderConfig,
} from '../../../functions/core/channels/web-provider.ts';

interface CountingServer {
  port: number;
  connections: number;
  requests: number;
  server: Server;
}

async function countingServer(answer: (port: number) => [number, Record<string, string>]) {
  const counter: CountingServer = { port: 0, connections: 0, requests: 0, server: createServer() };
  counter.server.on('connection', () => counter.connections++);
  counter.server.on('request', (req, res) => {
    counter.requests++;
    req.resume();
    const [status, headers] = answer(counter.port);
    res.writeHead(status, headers).end('OK');
  });
  await new Promise<void>((resolve) => counter.server.listen(0, '127.0.0.1', resolve));
  counter.port = (counter.server.address() as AddressInfo).port;
  return counter;
}

/** A hostile zone: names that resolve into the private network, alone or beside a public address. */
const ZONE: Record<string, LookupAddress[]> = {
  'loopback.test': [{ address: '127.0.0.1', family: 4 }],
  'metadata.test': [{ address: '169.254.169.254', family: 4 }],
  'internal.test': [{ address: '10.0.0.5', family: 4 }],
  'mapped.test': [{ address: '::ffff:127.0.0.1', family: 6 }],
  'mixed.test': [
    { address: '93.184.216.34', family: 4 },
    { address: '127.0.0.1', family: 4 },
  ],
};
const lookups: string[] = [];
const testLookup = ((hostname: string, options: { all?: boolean }, callback: (...a: unknown[]) => void) => {
  lookups.push(hostname);
  const answer = ZONE[hostname];
  if (!answer) return dnsLookup(hostname, options as never, callback as never);
  if (options.all) return callback(null, answer);
  callback(null, answer[0]!.address, answer[0]!.family);
}) as unknown as LookupFunction;

let target: CountingServer;
let control: CountingServer;
let redirector: CountingServer;
let transport: FetchHttpTransport;
beforeAll(async () => {
  target = await countingServer(() => [200, {}]);
  control = await countingServer(() => [200, {}]);
  redirector = await countingServer(() => [302, { location: `http://127.0.0.1:${target.port}/send` }]);
  transport = new FetchHttpTransport({ lookup: testLookup });
});
afterAll(async () => {
  transport?.close();
  for (const s of [target, control, redirector])
    await new Promise<void>((resolve) => {
      s?.server.closeAllConnections();
      s?.server.close(() => resolve());
    });
});
afterEach(() => {
  expect(target.connections, 'the private server saw a connection').toBe(0);
  expect(target.requests).toBe(0);
});

const strict: Partial<WebProviderDeps> = { allowPlainHttp: true };
const provider = (url: string, over: Partial<WebProviderDeps> = strict) =>
  new WebSmsProvider({ tenantId: 't', providerId: 'p' }, webProviderConfig({ url, body: '{}' }), {
    http: transport,
    bulkheads: new Bulkheads(),
    ...over,
  });
let n = 0;
const request = (): DeliveryRequest => ({
  tenantId: 't',
  challengeId: `c-${++n}`,
  step: 0,
  to: '+4520123456',
  text: 'Your code is 123456',
});
const REFUSED = { status: 'failed', failure: 'config', reason: 'provider_private_address' };

describe('provider URLs that lead into the private network', () => {
  it('refuses localhost written with a trailing dot, in the provider and in the transport alone', async () => {
    const url = `http://localhost.:${target.port}/send`;
    expect(await provider(url).deliver(request())).toMatchObject(REFUSED);
    // The transport refuses it on its own too, from what the name resolves to.
    const sent = transport.send(
      { url: new URL(url), method: 'POST', headers: {}, body: '{}' },
      AbortSignal.timeout(5000),
    );
    await expect(sent).rejects.toBeInstanceOf(HttpTransportError);
    await expect(sent).rejects.toMatchObject({ kind: 'private_address' });
  });

  for (const name of Object.keys(ZONE))
    it(`refuses ${name}, a name whose DNS answer holds a private address`, async () => {
      lookups.length = 0;
      expect(await provider(`http://${name}:${target.port}/send`).deliver(request())).toMatchObject(REFUSED);
      expect(lookups).toContain(name);
    });

  for (const host of [
    '[::ffff:127.0.0.1]',
    '[::ffff:7f00:1]',
    '[::1]',
    '[::]',
    '[::127.0.0.1]',
    '[64:ff9b::7f00:1]',
    '0x7f.0.0.1',
    '2130706433',
    '127.1',
    '0',
    '0.0.0.0',
  ])
    it(`refuses the literal address ${host}`, async () => {
      expect(await provider(`http://${host}:${target.port}/send`).deliver(request())).toMatchObject(REFUSED);
      await expect(
        transport.send(
          { url: new URL(`http://${host}:${target.port}/send`), method: 'GET', headers: {} },
          AbortSignal.timeout(5000),
        ),
      ).rejects.toMatchObject({ kind: 'private_address' });
    });

  it('refuses by default: the opt-in for private networks is off unless a deployment turns it on', async () => {
    lookups.length = 0;
    const url = `https://loopback.test:${target.port}/send`;
    expect(await provider(url, {}).deliver(request())).toMatchObject(REFUSED);
    expect(lookups).toEqual(['loopback.test']);
  });

  it('does not follow a redirect, so an allowed server cannot hand the message on to a private one', async () => {
    // Even with every address allowed (the local stack's opt-in), a redirect is an answer, not a hop.
    const outcome = await provider(`http://127.0.0.1:${redirector.port}/send`, {
      allowPlainHttp: true,
      allowPrivateNetworks: true,
    }).deliver(request());
    expect(outcome).toMatchObject({ status: 'failed', failure: 'config', reason: 'provider_redirect' });
    expect(redirector.requests).toBe(1);
  });

  it('reaches loopback only with the explicit opt-in, and a socket it opened is not reused without it', async () => {
    const url = `http://loopback.test:${control.port}/send`;
    const open = { allowPlainHttp: true, allowPrivateNetworks: true };
    expect(await provider(url, open).deliver(request())).toEqual({ status: 'sent' });
    expect(control.requests).toBe(1);
    expect(await provider(url).deliver(request())).toMatchObject(REFUSED);
    expect(control.requests).toBe(1);
    expect(control.connections).toBe(1);
  });
});

describe('isPublicAddress', () => {
  it('knows public addresses from the rest', () => {
    for (const ip of ['8.8.8.8', '93.184.216.34', '100.128.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8'])
      expect(isPublicAddress(ip), ip).toBe(true);
    for (const ip of [
      '127.0.0.1',
      '10.1.2.3',
      '172.16.0.1',
      '192.168.0.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '224.0.0.251',
      '255.255.255.255',
      '::',
      '::1',
      '::ffff:169.254.169.254',
      '::ffff:a00:1',
      '64:ff9b::a9fe:a9fe',
      '2002:a00:1::1',
      'fd00:ec2::254',
      'fe80::1%eth0',
      'ff02::1',
      '2001:db8::1',
      'not an address',
    ])
      expect(isPublicAddress(ip), ip).toBe(false);
  });
});
