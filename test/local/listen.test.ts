/**
 * `SMSPASS_LISTEN`: the local stack can serve a LAN (auth clients, edge boxes) on another address. The API binds
 * there, and the broker's TLS certificate names that address, so an enrolled box verifies it like IoT Core's.
 * (127.0.0.2 stands in for a LAN address: it is loopback, and this machine may reach nothing else.)
 */
import { X509Certificate } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../functions/adapters/log.ts';
import { LocalCa } from '../../functions/local/local-ca.ts';
import { startApiServer } from '../../functions/local/starters/api-server.ts';

const log = createLogger({}, { level: 'error' });

describe('serving a LAN', () => {
  it('binds the API to the given address and says so in its URL', async () => {
    const hello = {
      fetch: () => new Response('{"ok":true}', { headers: { 'content-type': 'application/json' } }),
    };
    const api = await startApiServer({
      apps: { auth: hello, admin: hello, sync: hello, operator: hello } as never,
      port: 0,
      host: '127.0.0.2',
      log,
    });
    try {
      expect(api.url).toMatch(/^http:\/\/127\.0\.0\.2:\d+$/);
      const res = await fetch(`${api.url}/v1/openapi.json`);
      expect(res.status).toBeLessThan(500);
    } finally {
      await api.stop();
    }
  });

  it("names the LAN address in the broker's certificate, beside loopback", () => {
    const ca = LocalCa.open(mkdtempSync(join(tmpdir(), 'listen-ca-')));
    const cert = new X509Certificate(ca.serverCertificate(['127.0.0.2', 'smspass.lan']).certificatePem);
    expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(cert.checkIP('127.0.0.2')).toBe('127.0.0.2');
    expect(cert.checkHost('smspass.lan')).toBe('smspass.lan');
    expect(cert.checkHost('localhost')).toBe('localhost');
    expect(cert.checkHost('other.lan')).toBeUndefined();
    expect(cert.verify(new X509Certificate(ca.certificatePem).publicKey)).toBe(true);
  });
});
