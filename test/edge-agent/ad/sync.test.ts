/**
 * The AD connector against a real Samba AD DC, syncing end to end into the local stack over HTTP.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdSync } from '../../../edge-agent/ad/sync.ts';
import { createLogger } from '../../../edge-agent/log.ts';
import type { LocalStack } from '../../../functions/local/stack.ts';
import { type SambaDc, sambaAvailable, startSambaDc } from '../../support/samba.ts';
import { adConfig, domainConfig, newTenant, startStack, stateDir } from './support.ts';

const runs = sambaAvailable(it);

describe.skipIf(!runs)('AD sync against Samba, into the local stack', () => {
  let stack: LocalStack;
  let dc: SambaDc;
  let sales: SambaDc;
  let vpn: string;
  let admins: string;
  const logLines: string[] = [];
  const log = createLogger({ level: 'debug', write: (l) => logLines.push(l) });

  beforeAll(async () => {
    [stack, dc, sales] = await Promise.all([
      startStack(),
      startSambaDc({ realm: 'CORP.EXAMPLE.TEST' }),
      startSambaDc({ realm: 'SALES.EXAMPLE.TEST' }),
    ]);
    await dc.addUsers([
      { name: 'alice', mobile: '+4520123456', mail: 'alice@corp.example.test', displayName: 'Alice Example' },
      // a comma, parentheses and non-ASCII letters in the CN (sAMAccountName cannot hold a comma)
      { name: 'zoe', cn: 'Ångström, Zoë (Ops)', mobile: '+4520123457', displayName: 'Zoë Ångström' },
      { name: 'dual', mobile: '+4520123458' },
      { name: 'nomobile', mail: 'nomobile@corp.example.test' },
      { name: 'gone', mobile: '+4520123459', disabled: true },
      { name: 'outsider', mobile: '+4520123460' },
      { name: 'second', mobile: '+4520123461', attributes: { otherMobile: '+4520123462' } },
    ]);
    [vpn, admins] = (await dc.addGroups([
      { name: 'VPN Users', members: ['alice', 'dual', 'nomobile', 'gone', 'second', 'Sub (Nested), Team'] },
      { name: 'Admins (Tier 0)', members: ['dual'] },
      { name: 'Sub (Nested), Team', members: [dc.userDn('Ångström, Zoë (Ops)')] },
    ])) as [string, string];
    await dc.addComputer('WS01', [vpn]);
    await dc.addContact('External Contact', { mobile: '+4520123463' }, [vpn]);
    await sales.addUsers([{ name: 'bob', mobile: '+4520223456' }]);
    await sales.addGroups([{ name: 'Sales VPN', members: ['bob'] }]);
  });
  afterAll(async () => {
    await Promise.all([stack?.stop(), dc?.stop(), sales?.stop()]);
  });

  it('syncs nested members of mapped groups, leaves out disabled users, computers and contacts', async () => {
    const t = await newTenant(stack);
    const vpnPolicy = await t.mapGroup(dc.dnsDomain, vpn, 10, 'VPN');
    const adminPolicy = await t.mapGroup(dc.dnsDomain, admins, 50, 'Admins');
    const config = adConfig(
      [domainConfig(dc, [vpn, admins], { attributes: { secondaryMobile: 'otherMobile' } })],
      { apiUrl: stack.json.apiUrl, key: t.syncKey },
    );
    const dir = stateDir();
    const sync = new AdSync({ config, stateDir: dir, log });
    const outcome = await sync.start('full').done;
    expect(outcome.error).toBeUndefined();
    expect(outcome.mode).toBe('full');
    expect(outcome.completed).toMatchObject({ created: 5, removed: 0, rejected: 0 });

    const users = await t.users();
    const byName = new Map(users.map((u) => [u.username, u]));
    expect([...byName.keys()].sort()).toEqual(['alice', 'dual', 'nomobile', 'second', 'zoe']);
    // nested: zoe is in Sub (Nested), Team, which is in VPN Users
    expect(byName.get('zoe')).toMatchObject({
      groupDn: vpn,
      mappedGroupPolicyId: vpnPolicy,
      displayName: 'Zoë Ångström',
    });
    // in both mapped groups: the higher priority wins
    expect(byName.get('dual')).toMatchObject({ groupDn: admins, mappedGroupPolicyId: adminPolicy });
    expect(byName.get('nomobile')).toMatchObject({ mobile: null, email: 'nomobile@corp.example.test' });
    expect(byName.get('second').secondaryMobile).not.toBeNull();
    expect(byName.get('alice').id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(existsSync(path.join(dir, 'ad-sync-marks.json'))).toBe(true);
    expect(logLines.join('\n')).not.toMatch(/\+4520\d{6}/);
  });

  it('syncs two domains in one run, each user with its own domain', async () => {
    const t = await newTenant(stack);
    await t.mapGroup(dc.dnsDomain, vpn, 10);
    const salesVpn = sales.groupDn('Sales VPN');
    await t.mapGroup(sales.dnsDomain, salesVpn, 10);
    const config = adConfig([domainConfig(dc, [vpn]), domainConfig(sales, [salesVpn])], {
      apiUrl: stack.json.apiUrl,
      key: t.syncKey,
    });
    const outcome = await new AdSync({ config, stateDir: stateDir(), log }).start('full').done;
    expect(outcome.error).toBeUndefined();
    const users = await t.users();
    expect(users.map((u) => `${u.username}@${u.domain}`).sort()).toEqual([
      'alice@corp.example.test',
      'bob@sales.example.test',
      'dual@corp.example.test',
      'nomobile@corp.example.test',
      'second@corp.example.test',
      'zoe@corp.example.test',
    ]);
  });

  it('pages: more users than one page come in several pages, each asked for', async () => {
    const t = await newTenant(stack);
    await t.mapGroup(dc.dnsDomain, vpn, 10);
    // 5 users in VPN Users (nested included) at 2 per page: 3 pages
    const config = adConfig([domainConfig(dc, [vpn], { pageSize: 2 })], {
      apiUrl: stack.json.apiUrl,
      key: t.syncKey,
    });
    const pageSizes: number[] = [];
    let entries = 0;
    const sync = new AdSync({
      config,
      stateDir: stateDir(),
      log,
      observer: {
        page: (_domain, stats) => {
          pageSizes.push(stats.entries - entries);
          entries = stats.entries;
        },
      },
    });
    const outcome = await sync.start('full').done;
    expect(outcome.error).toBeUndefined();
    expect(pageSizes).toEqual([2, 2, 1]);
    expect(outcome.pages).toBe(3);
    expect((await t.users()).length).toBe(5);
  });

  it('fails over to the next DC when the first does not answer', async () => {
    const t = await newTenant(stack);
    await t.mapGroup(dc.dnsDomain, vpn, 10);
    const config = adConfig([domainConfig(dc, [vpn], { dcs: ['ldaps://127.0.0.1:9', dc.ldapsUrl] })], {
      apiUrl: stack.json.apiUrl,
      key: t.syncKey,
    });
    const outcome = await new AdSync({ config, stateDir: stateDir(), log }).start('full').done;
    expect(outcome.error).toBeUndefined();
    expect(outcome.users).toBe(5);
  });

  it('a delta run sends only what changed and removes nobody; a full one is due after fullEveryHours', async () => {
    const t = await newTenant(stack);
    await t.mapGroup(dc.dnsDomain, vpn, 10);
    const config = adConfig([domainConfig(dc, [vpn])], { apiUrl: stack.json.apiUrl, key: t.syncKey });
    const dir = stateDir();
    let now = new Date();
    const sync = new AdSync({ config, stateDir: dir, log, now: () => now });
    const first = await sync.start('delta').done;
    // no marks yet: the first run is a full one
    expect(first.mode).toBe('full');
    expect(first.users).toBe(5);

    await dc.setAttributes(dc.userDn('alice'), { mobile: '+4520654321' });
    const delta = await sync.start('delta').done;
    expect(delta).toMatchObject({ mode: 'delta', users: 1, accepted: 1 });
    // the cloud confirmed the delta, so the run is completed, and a delta's complete removes nobody
    expect(delta.completed).toMatchObject({ removed: 0 });
    const users = await t.users();
    expect(users).toHaveLength(5);
    expect(users.find((u) => u.username === 'alice').mobile).toMatch(/21$/);

    const quiet = await sync.start('delta').done;
    expect(quiet).toMatchObject({ mode: 'delta', users: 0 });

    now = new Date(now.getTime() + 25 * 3600_000);
    const due = await sync.start('delta').done;
    expect(due.mode).toBe('full');
    expect(due.completed).toMatchObject({ removed: 0 });
    await dc.setAttributes(dc.userDn('alice'), { mobile: '+4520123456' });
  });

  it('plain LDAP works only where allowed, and refuses a reset there', async () => {
    const t = await newTenant(stack);
    await t.mapGroup(dc.dnsDomain, vpn, 10);
    const config = adConfig(
      [domainConfig(dc, [vpn], { dcs: [dc.url], startTls: false, allowPlainLdap: true })],
      { apiUrl: stack.json.apiUrl, key: t.syncKey },
    );
    const outcome = await new AdSync({ config, stateDir: stateDir(), log }).start('full').done;
    expect(outcome.error).toBeUndefined();
    expect(outcome.users).toBe(5);
  });

  it('StartTLS on ldap:// with the configured CA', async () => {
    const t = await newTenant(stack);
    await t.mapGroup(dc.dnsDomain, vpn, 10);
    const config = adConfig([domainConfig(dc, [vpn], { dcs: [dc.url] })], {
      apiUrl: stack.json.apiUrl,
      key: t.syncKey,
    });
    const outcome = await new AdSync({ config, stateDir: stateDir(), log }).start('full').done;
    expect(outcome.error).toBeUndefined();
  });

  it('refuses a DC whose certificate the configured CA did not sign', async () => {
    const t = await newTenant(stack);
    const config = adConfig([domainConfig(dc, [vpn], { caFile: sales.caFile })], {
      apiUrl: stack.json.apiUrl,
      key: t.syncKey,
    });
    const outcome = await new AdSync({ config, stateDir: stateDir(), log }).start('full').done;
    expect(outcome.error).toMatch(/no domain controller of corp.example.test answered/);
    expect(outcome.runId).toBeUndefined();
  });

  it('a DC that goes away mid-sync: no complete, nobody removed, no mark moved', async () => {
    const dying = await startSambaDc({ realm: 'CORP.EXAMPLE.TEST' });
    try {
      const names = ['d1', 'd2', 'd3', 'd4', 'd5', 'd6'];
      await dying.addUsers(names.map((name, i) => ({ name, mobile: `+45201111${10 + i}` })));
      const [group] = await dying.addGroups([{ name: 'VPN Users', members: names }]);
      const t = await newTenant(stack);
      await t.mapGroup(dying.dnsDomain, group!, 10);
      const config = adConfig([domainConfig(dying, [group!], { pageSize: 2 })], {
        apiUrl: stack.json.apiUrl,
        key: t.syncKey,
        batchSize: 2,
      });
      const dir = stateDir();
      let kill = false;
      const sync = new AdSync({
        config,
        stateDir: dir,
        log,
        observer: {
          page: async () => {
            if (kill) await dying.stop();
          },
        },
      });
      const first = await sync.start('full').done;
      expect(first.completed).toMatchObject({ created: 6 });
      const marks = readFileSync(path.join(dir, 'ad-sync-marks.json'), 'utf8');

      // were the run to complete, these three would be removed
      await dying.setAttributes(group!, { member: null });
      await dying.addMembers(
        group!,
        names.slice(0, 3).map((n) => dying.userDn(n)),
      );
      kill = true;
      const cut = await sync.start('full').done;
      expect(cut.error).toBeDefined();
      expect(cut.completed).toBeUndefined();
      expect(cut.users).toBe(2);
      expect((await t.users()).map((u) => u.username).sort()).toEqual(names);
      expect(readFileSync(path.join(dir, 'ad-sync-marks.json'), 'utf8')).toBe(marks);
      expect(logLines.some((l) => l.includes('nothing was removed'))).toBe(true);
    } finally {
      await dying.stop();
    }
  });
});
