/** The `ad` section of the agent's configuration: every bad entry refused with its field named. */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../../edge-agent/config.ts';

const domain = {
  name: 'corp.example.test',
  dcs: ['ldaps://dc1.corp.example.test', 'ldaps://dc2.corp.example.test:636'],
  baseDn: 'DC=corp,DC=example,DC=test',
  bindDn: 'CN=svc-smspass,OU=Service Accounts,DC=corp,DC=example,DC=test',
  bindPasswordFile: 'ad-password',
  caFile: 'ad-ca.pem',
  groups: ['CN=VPN Users\\, Copenhagen (DK),OU=Groups,DC=corp,DC=example,DC=test'],
};
const base = (ad: unknown) => ({
  tenantId: 'acme',
  agentId: 'edge-1',
  mqtt: { url: 'mqtt://127.0.0.1:1883', username: 'acme.edge-1', password: 'x' },
  stateDir: 'state',
  modems: [{ id: 'm1', group: 'g1', url: 'tcp://127.0.0.1:4001' }],
  ad,
});
const issues = (ad: unknown): string[] => {
  try {
    parseConfig(base(ad), '/etc/smspass');
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  return [];
};

describe('the ad configuration section', () => {
  it('takes a valid section, fills the defaults and resolves its files against the config folder', () => {
    const config = parseConfig(
      base({ domains: [domain], sync: { apiUrl: 'https://api.example.test', keyFile: 'sync.key' } }),
      '/etc/smspass',
    );
    const d = config.ad!.domains[0]!;
    expect(d).toMatchObject({ startTls: true, allowPlainLdap: false, pageSize: 500 });
    expect(d.attributes).toEqual({ mobile: 'mobile', email: 'mail', displayName: 'displayName' });
    expect(d.bindPasswordFile).toBe(path.resolve('/etc/smspass', 'ad-password'));
    expect(d.caFile).toBe(path.resolve('/etc/smspass', 'ad-ca.pem'));
    expect(config.ad!.sync).toMatchObject({ intervalMinutes: 15, fullEveryHours: 24, batchSize: 1000 });
    expect(config.ad!.sync!.keyFile).toBe(path.resolve('/etc/smspass', 'sync.key'));
  });

  it('names each bad field', () => {
    expect(issues({ domains: [{ ...domain, dcs: [domain.dcs[0], 'http://dc2'] }] })).toEqual([
      'ad.domains[0].dcs[1]: must be ldaps://host[:port] or ldap://host[:port]',
    ]);
    expect(issues({ domains: [{ ...domain, groups: [] }] })).toEqual([
      'ad.domains[0].groups: must list at least one group DN',
    ]);
    expect(issues({ domains: [{ ...domain, groups: ['VPN Users'] }] })).toEqual([
      'ad.domains[0].groups[0]: must be a DN such as DC=corp,DC=example,DC=test',
    ]);
    expect(issues({ domains: [{ ...domain, bindPassword: 'x' }] })).toEqual([
      'ad.domains[0].bindPassword: give either bindPassword or bindPasswordFile',
    ]);
    expect(issues({ domains: [{ ...domain, name: 'corp example' }] })).toEqual([
      'ad.domains[0].name: must be a DNS name such as corp.example.test',
    ]);
    expect(issues({ domains: [domain, { ...domain, name: 'CORP.example.test' }] })).toEqual([
      'ad.domains[1].name: duplicate domain "CORP.example.test"',
    ]);
    expect(issues({ domains: [{ ...domain, attributes: { mobile: 'mobile;binary' } }] })).toEqual([
      'ad.domains[0].attributes.mobile: must be an LDAP attribute name such as mobile',
    ]);
    expect(issues({ domains: [domain], sync: { apiUrl: 'https://api.example.test' } })).toEqual([
      'ad.sync.key: give either key or keyFile',
    ]);
    expect(issues({ domains: [{ ...domain, pageSize: 0 }] })[0]).toMatch(/^ad\.domains\[0\]\.pageSize: /);
    expect(issues({ domains: [{ ...domain, surprise: true }] })[0]).toMatch(/^ad\.domains\[0\]: .*surprise/);
    expect(issues({ domains: [] })).toEqual(['ad.domains: must list at least one domain']);
  });

  it('refuses plain LDAP unless it is explicitly allowed', () => {
    const plain = { ...domain, dcs: ['ldap://dc1.corp.example.test'], startTls: false };
    expect(issues({ domains: [plain] })).toEqual([
      'ad.domains[0].dcs[0]: plain LDAP sends passwords in clear: use ldaps://, keep startTls, or set allowPlainLdap: true',
    ]);
    expect(issues({ domains: [{ ...plain, allowPlainLdap: true }] })).toEqual([]);
    // ldap:// with StartTLS (the default) is encrypted
    expect(issues({ domains: [{ ...domain, dcs: ['ldap://dc1.corp.example.test:389'] }] })).toEqual([]);
  });
});
