/**
 * The time limit the connector asks the DC for. ldapts sends 10 s unless told otherwise, and Samba computes a
 * paged search with a nested-group filter whole at its first page: for 10,000 users that takes longer, and the
 * DC then fails the search ("Operations error"), so a big domain never synced. Each paged read asks for the
 * domain's `timeoutSeconds`, the same limit the client waits for.
 *
 * The client here is a recorder of what the connector asks, standing in for the LDAP server (the reads
 * themselves are tested against Samba in sync.test.ts).
 */
import type { Client, SearchOptions } from 'ldapts';
import { describe, expect, it } from 'vitest';
import { AdDomainConfig } from '../../../edge-agent/ad/config.ts';
import { countGroup, newReadStats, readUsers } from '../../../edge-agent/ad/directory.ts';

function recorder() {
  const asked: SearchOptions[] = [];
  const client = {
    searchPaginated(_base: string, options: SearchOptions) {
      asked.push(options);
      return (async function* () {})();
    },
  } as unknown as Client;
  return { client, asked };
}

const domain = (extra: Record<string, unknown> = {}) =>
  AdDomainConfig.parse({
    name: 'corp.example.test',
    dcs: ['ldaps://dc1.corp.example.test'],
    baseDn: 'DC=corp,DC=example,DC=test',
    bindDn: 'CN=svc,DC=corp,DC=example,DC=test',
    bindPassword: 'x',
    groups: ['CN=VPN Users,DC=corp,DC=example,DC=test', 'CN=Admins,DC=corp,DC=example,DC=test'],
    ...extra,
  });

describe('the search time limit', () => {
  it('asks the DC for the domain’s timeoutSeconds on every paged read, not ldapts’s 10 s', async () => {
    for (const [d, seconds] of [
      [domain(), 30],
      [domain({ timeoutSeconds: 300 }), 300],
    ] as const) {
      const { client, asked } = recorder();
      for await (const _ of readUsers(client, d, { stats: newReadStats() })) {
        // no pages
      }
      await countGroup(client, d, d.groups[0]!);
      // two membership passes, the entry pass, the count
      expect(asked).toHaveLength(4);
      for (const options of asked) expect(options.timeLimit).toBe(seconds);
    }
  });
});
