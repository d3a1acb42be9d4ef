/**
 * `edge-agent ad-test --config FILE`: binds to each configured domain, counts the users of each mapped group, and
 * prints what a sync would send (numbers masked), without sending anything.
 */
import type { AgentConfig } from '../config.ts';
import { maskPhone } from '../log.ts';
import { countGroup, newReadStats, readUsers } from './directory.ts';
import { connectDomain, loadDomain } from './ldap.ts';

/** Users printed in full per domain; the rest are counted. */
const SHOWN = 20;

export async function adTest(
  config: AgentConfig,
  io: { stdout(text: string): void; stderr(text: string): void },
): Promise<number> {
  if (!config.ad) {
    io.stderr('the configuration has no ad section\n');
    return 2;
  }
  let failed = false;
  for (const d of config.ad.domains) {
    let conn: Awaited<ReturnType<typeof connectDomain>> | undefined;
    try {
      conn = await connectDomain(await loadDomain(d));
      const how = conn.dc.startsWith('ldaps://') ? 'LDAPS' : conn.secure ? 'StartTLS' : 'plain LDAP';
      io.stdout(`${d.name}: bound as ${d.bindDn} on ${conn.dc} (${how})\n`);
      for (const g of d.groups) io.stdout(`  ${g}: ${await countGroup(conn.client, d, g)} enabled user(s)\n`);
      const stats = newReadStats();
      let users = 0;
      let withMobile = 0;
      for await (const page of readUsers(conn.client, d, { stats })) {
        for (const u of page) {
          users++;
          if (u.mobile) withMobile++;
          if (users > SHOWN) continue;
          const shown = {
            ...u,
            mobile: u.mobile ? maskPhone(u.mobile) : null,
            secondaryMobile: u.secondaryMobile ? maskPhone(u.secondaryMobile) : null,
          };
          io.stdout(`  would send ${JSON.stringify(shown)}\n`);
        }
      }
      if (users > SHOWN) io.stdout(`  … and ${users - SHOWN} more\n`);
      io.stdout(
        `  ${users} user(s) would be sent (${withMobile} with a mobile number) in ${stats.pages} page(s); ` +
          `${stats.skipped.length} entr${stats.skipped.length === 1 ? 'y' : 'ies'} left out\n`,
      );
      for (const s of stats.skipped.slice(0, SHOWN)) io.stdout(`  left out ${s.dn}: ${s.why}\n`);
    } catch (err) {
      failed = true;
      io.stderr(`${d.name}: ${maskPhone((err as Error).message)}\n`);
    } finally {
      await conn?.close();
    }
  }
  io.stdout('nothing was sent\n');
  return failed ? 1 : 0;
}
