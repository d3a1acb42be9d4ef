/**
 * The AD connector end to end: 10,000 users bulk-loaded (LDIF, offline) into a Samba AD DC, synced by the connector into
 * the local stack over HTTP. Beside it, in the same run, a raw ldapts paged search of the same users: the
 * connector's own overhead is the difference. Each side runs in a process of its own (ad-sync-child.ts), so the
 * peak RSS is the agent's alone, next to a bare `node` with the same flags. Then 10 users change and a delta
 * sync runs. Prints figures, asserts nothing.
 *
 * The load stops the DC and writes the LDIF straight into sam.ldb in transactions of 500 entries
 * (`SambaDc.bulkAdd`): a transaction's cost grows with the square of its size, and one online ldbmodify of all
 * 10,000 took over 15 minutes.
 *
 * Alone: `npx tsx test/bench/ad-sync.ts [--users N]`; `npm run bench ad-sync-1k` is the quick 1,000-user run.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { createLogger } from '../../functions/adapters/log.ts';
import { startLocalStack } from '../../functions/local/stack.ts';
import { domainConfig, newTenant } from '../edge-agent/ad/support.ts';
import { sambaSkipReason, startSambaDc } from '../support/samba.ts';
import { table } from './stats.ts';

const run = promisify(execFile);
const CHILD = fileURLToPath(new URL('./ad-sync-child.ts', import.meta.url));

export interface AdSyncBenchResult {
  users: number;
  loadSeconds: number;
  rawSeconds: number;
  syncSeconds: number;
  deltaSeconds: number;
  peakRssMiB: { bare: number; raw: number; full: number; delta: number };
}

export async function benchAdSync(
  options: { users?: number; print?: boolean } = {},
): Promise<AdSyncBenchResult | undefined> {
  if (sambaSkipReason) {
    console.log(`skipped: ${sambaSkipReason}`);
    return undefined;
  }
  const users = options.users ?? 10_000;
  const dir = await mkdtemp(path.join(tmpdir(), 'smspass-ad-bench-'));
  const [dc, stack] = await Promise.all([
    startSambaDc({ realm: 'CORP.EXAMPLE.TEST' }),
    startLocalStack({ edge: false, standInsInWorker: true, log: createLogger({}, { level: 'error' }) }),
  ]);
  try {
    const name = (i: number) => `bench${String(i).padStart(6, '0')}`;
    const groupDn = dc.groupDn('Bench VPN');
    let ldif = '';
    for (let i = 0; i < users; i++)
      ldif +=
        `dn: ${dc.userDn(name(i))}\nobjectClass: user\nsAMAccountName: ${name(i)}\n` +
        `userPrincipalName: ${name(i)}@${dc.dnsDomain}\nuserAccountControl: 544\n` +
        `mobile: +4540${String(100000 + i).slice(-6)}\nmail: ${name(i)}@${dc.dnsDomain}\n` +
        `displayName: Bench User ${i}\n\n`;
    // The users sit in sub-groups of 500 nested in the mapped group: each LDIF change stays small, and the read
    // goes through LDAP_MATCHING_RULE_IN_CHAIN as it must for any AD.
    const sub = (k: number) => dc.groupDn(`Bench VPN ${k}`);
    const subs = Math.ceil(users / 500);
    for (let k = 0; k < subs; k++) {
      ldif += `dn: ${sub(k)}\nobjectClass: group\nsAMAccountName: Bench VPN ${k}\n`;
      for (let i = k * 500; i < Math.min(users, (k + 1) * 500); i++)
        ldif += `member: ${dc.userDn(name(i))}\n`;
      ldif += '\n';
    }
    ldif += `dn: ${groupDn}\nobjectClass: group\nsAMAccountName: Bench VPN\n`;
    for (let k = 0; k < subs; k++) ldif += `member: ${sub(k)}\n`;
    ldif += '\n';
    const loadStart = performance.now();
    await dc.bulkAdd(ldif);
    const loadSeconds = (performance.now() - loadStart) / 1000;

    const tenant = await newTenant(stack, users + 1000);
    await tenant.mapGroup(dc.dnsDomain, groupDn, 1);
    const ad = {
      // a loaded box may take minutes for the first page of a nested-group search: both sides wait as long
      domains: [domainConfig(dc, [groupDn], { timeoutSeconds: 300 })],
      sync: { apiUrl: stack.json.apiUrl, key: tenant.syncKey, intervalMinutes: 0 },
    };
    const stateDir = path.join(dir, 'state');
    const child = async (mode: 'raw' | 'full' | 'delta' | 'bare') => {
      const spec = path.join(dir, `${mode}.json`);
      await writeFile(spec, JSON.stringify({ mode, ad, stateDir }));
      const { stdout } = await run(process.execPath, ['--import', 'tsx', CHILD, spec], {
        maxBuffer: 16 * 1024 * 1024,
      });
      // biome-ignore lint/suspicious/noExplicitAny: the child's JSON line, read field by field
      return JSON.parse(stdout.trim().split('\n').at(-1)!) as any;
    };
    await mkdir(stateDir, { recursive: true });

    const bare = await child('bare');
    const raw = await child('raw');
    const full = await child('full');
    if (full.error) throw new Error(`the sync failed: ${full.error}`);
    for (let i = 0; i < 10; i++)
      await dc.setAttributes(dc.userDn(name(i * 97)), { mobile: `+4541${String(200000 + i).slice(-6)}` });
    const delta = await child('delta');
    if (delta.error) throw new Error(`the delta sync failed: ${delta.error}`);

    const r: AdSyncBenchResult = {
      users,
      loadSeconds,
      rawSeconds: raw.seconds,
      syncSeconds: full.seconds,
      deltaSeconds: delta.seconds,
      peakRssMiB: {
        bare: bare.peakRssMiB,
        raw: raw.peakRssMiB,
        full: full.peakRssMiB,
        delta: delta.peakRssMiB,
      },
    };
    if (options.print !== false) {
      console.log(
        `${users} users in one mapped group (sub-groups of 500 nested in it) on Samba ${dc.address} (LDAPS, pages of 500), into the local stack ` +
          '(sync API over HTTP, batches of 1,000, 2 in flight); connector and baseline each in a process of their own',
      );
      table(
        ['what', 'figure'],
        [
          [
            'bulk load into Samba (LDIF into the stopped DC, 500 per transaction, restart included), s (users/s)',
            `${loadSeconds.toFixed(1)} (${(users / loadSeconds).toFixed(0)})`,
          ],
          [
            'baseline: raw ldapts paged search of the same users, s (users/s)',
            `${raw.seconds.toFixed(2)} (${(raw.entries / raw.seconds).toFixed(0)}), ${raw.pages} pages`,
          ],
          [
            'connector full sync, AD → local stack, s (users/s)',
            `${full.seconds.toFixed(2)} (${(full.users / full.seconds).toFixed(0)})`,
          ],
          ['  users sent / accepted / rejected', `${full.users} / ${full.accepted} / ${full.rejected}`],
          ['  complete()', JSON.stringify(full.completed)],
          ['connector overhead over the raw read (sync s / raw s)', (full.seconds / raw.seconds).toFixed(2)],
          [
            'delta sync after 10 users changed, s (users sent)',
            `${delta.seconds.toFixed(2)} (${delta.users})`,
          ],
          [
            'peak RSS, MiB: bare node / raw search / full sync / delta sync',
            [bare, raw, full, delta].map((x) => x.peakRssMiB.toFixed(0)).join(' / '),
          ],
          ['full sync peak RSS over bare node, MiB', (full.peakRssMiB - bare.peakRssMiB).toFixed(0)],
        ],
      );
    }
    return r;
  } finally {
    await Promise.all([dc.stop(), stack.stop()]);
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const i = process.argv.indexOf('--users');
  await benchAdSync(i > 0 ? { users: Number(process.argv[i + 1]) } : {});
  process.exit(0);
}
