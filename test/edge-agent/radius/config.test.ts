/** The agent file's `radius` section: defaults, and every bad entry refused with its field named. */
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../../edge-agent/config.ts';

const base = {
  tenantId: 'demo',
  agentId: 'edge1',
  mqtt: { url: 'mqtt://127.0.0.1:1883', username: 'demo-edge1', password: 'x' },
  stateDir: '/tmp/state',
  modems: [{ id: 'm1', group: 'default', url: 'tcp://127.0.0.1:7001' }],
};
const radius = {
  host: '127.0.0.1',
  api: { url: 'http://127.0.0.1:3000', authKey: 'k' },
  clients: [{ name: 'vpn-gw-1', address: '192.0.2.0/24', secret: 'a-long-secret' }],
};

const issues = (raw: unknown): string[] => {
  try {
    parseConfig(raw, '/etc/smspass');
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  return [];
};

describe('radius configuration', () => {
  it('fills in the defaults: port 1812, cloud first factor, Message-Authenticator required, no single-step', () => {
    const config = parseConfig({ ...base, radius }, '/etc/smspass');
    expect(config.radius).toMatchObject({
      port: 1812,
      firstFactor: 'cloud',
      clients: [{ requireMessageAuthenticator: true, singleStep: false, passcodeLength: 6 }],
    });
    expect(config.radius?.accountingPort).toBeUndefined();
    expect(parseConfig(base).radius).toBeUndefined();
  });

  it('resolves the key file against the config folder', () => {
    const config = parseConfig(
      { ...base, radius: { ...radius, api: { url: 'https://api.example.test', authKeyFile: 'radius.key' } } },
      '/etc/smspass',
    );
    expect(config.radius?.api.authKeyFile).toBe('/etc/smspass/radius.key');
  });

  it('names each bad field', () => {
    expect(
      issues({
        ...base,
        radius: {
          ...radius,
          host: 'everywhere',
          port: 70000,
          firstFactor: 'maybe',
          api: { url: 'ftp://x' },
          clients: [
            { name: 'gw', address: '192.0.2.300', secret: 'short' },
            { name: 'gw', address: '10.0.0.0/33', secret: 'long-enough', singleStep: 'yes' },
            { name: 'gw3', address: '192.0.2.1', secret: 'long-enough', passcodeLength: 2, extra: 1 },
          ],
        },
      }),
    ).toEqual(
      expect.arrayContaining([
        'radius.host: must be an IP address such as 0.0.0.0 or 192.0.2.5',
        'radius.port: must be a port, 0 to 65535',
        'radius.firstFactor: must be cloud, ldap or off',
        'radius.api.url: must be an http:// or https:// URL',
        'radius.api.authKey: give either authKey or authKeyFile',
        'radius.clients[0].address: must be an IP address or a CIDR range such as 192.0.2.0/24',
        'radius.clients[0].secret: must be at least 8 characters',
        'radius.clients[1].address: must be an IP address or a CIDR range such as 192.0.2.0/24',
        expect.stringMatching(/^radius\.clients\[1\]\.singleStep: /),
        expect.stringMatching(/^radius\.clients\[2\]\.passcodeLength: /),
        expect.stringMatching(/^radius\.clients\[2\]: .*extra/),
      ]),
    );
    expect(issues({ ...base, radius: { ...radius, clients: [] } })).toEqual([
      'radius.clients: must list at least one client',
    ]);
  });

  it('refuses two clients of one name or one address', () => {
    const client = radius.clients[0]!;
    expect(
      issues({
        ...base,
        radius: {
          ...radius,
          clients: [client, { ...client, address: '192.0.2.0/24', name: 'other' }, client],
        },
      }),
    ).toEqual(
      expect.arrayContaining([
        'radius.clients[1].address: duplicate address "192.0.2.0/24"',
        'radius.clients[2].name: duplicate client "vpn-gw-1"',
      ]),
    );
  });
});
