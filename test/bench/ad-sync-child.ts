/**
 * One side of the AD sync benchmark in a process of its own, so that its peak RSS is the agent's alone:
 * `raw` (a plain ldapts paged search, the baseline), `full` or `delta` (the connector's run), `bare` (nothing).
 * Prints one JSON line: the figures and the process's peak RSS.
 */
import { readFileSync } from 'node:fs';
import { Client } from 'ldapts';
import { AdConfig } from '../../edge-agent/ad/config.ts';
import { AdSync } from '../../edge-agent/ad/sync.ts';
import { createLogger } from '../../edge-agent/log.ts';

const spec = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as {
  mode: 'raw' | 'full' | 'delta' | 'bare';
  ad: unknown;
  stateDir: string;
};
const peak = () => process.resourceUsage().maxRSS / 1024;
const config = AdConfig.parse(spec.ad);
const start = performance.now();
let result: Record<string, unknown> = {};
if (spec.mode === 'raw') {
  const d = config.domains[0]!;
  const ca = readFileSync(d.caFile!, 'utf8');
  const client = new Client({ url: d.dcs[0]!, tlsOptions: { ca } });
  await client.bind(d.bindDn, d.bindPassword!);
  let entries = 0;
  let pages = 0;
  const a = d.attributes;
  for await (const page of client.searchPaginated(d.baseDn, {
    filter: `(&(objectCategory=person)(objectClass=user)(memberOf:1.2.840.113556.1.4.1941:=${d.groups[0]})(!(userAccountControl:1.2.840.113556.1.4.803:=2)))`,
    attributes: ['objectGUID', 'sAMAccountName', 'userPrincipalName', a.mobile, a.email, a.displayName],
    explicitBufferAttributes: ['objectGUID'],
    paged: { pageSize: d.pageSize },
    timeLimit: d.timeoutSeconds,
  })) {
    pages++;
    entries += page.searchEntries.length;
  }
  await client.unbind();
  result = { entries, pages };
} else if (spec.mode !== 'bare') {
  const sync = new AdSync({ config, stateDir: spec.stateDir, log: createLogger({ level: 'error' }) });
  result = { ...(await sync.start(spec.mode).done) };
}
console.log(JSON.stringify({ ...result, seconds: (performance.now() - start) / 1000, peakRssMiB: peak() }));
process.exit(0);
