/**
 * `npm run bench [name …]`: every benchmark, one after another; each prints its own figures beside a
 * baseline measured in the same run. Names: login, challenges, dispatch, verify, sync, ad-sync, edge, bundles,
 * cost, radius, pages; and, only when named, ad-sync-1k (the AD sync with 1,000 users instead of 10,000).
 */
import { benchAdSync } from './ad-sync.ts';
import { benchBundles } from './bundles.ts';
import { benchChallenges } from './challenges.ts';
import { benchCost } from './cost.ts';
import { benchDispatch } from './dispatch.ts';
import { benchEdge } from './edge.ts';
import { benchLogin } from './login.ts';
import { benchPages } from './pages.ts';
import { benchRadius } from './radius.ts';
import { machineLine } from './stats.ts';
import { benchSync } from './sync.ts';
import { benchVerify } from './verify.ts';

const only = process.argv.slice(2);
const benches: Array<[string, () => Promise<unknown>]> = [
  ['login', () => benchLogin()],
  ['challenges', () => benchChallenges()],
  ['dispatch', () => benchDispatch()],
  ['verify', () => benchVerify()],
  ['sync', () => benchSync()],
  ['ad-sync', () => benchAdSync()],
  ['edge', () => benchEdge()],
  ['bundles', () => benchBundles()],
  ['cost', () => benchCost()],
  ['radius', () => benchRadius()],
  ['pages', () => benchPages()],
];
/** Run only when named. */
const onRequest: Array<[string, () => Promise<unknown>]> = [
  ['ad-sync-1k', () => benchAdSync({ users: 1000 })],
];

for (const [name, run] of [...benches, ...onRequest]) {
  if (only.length > 0 ? !only.includes(name) : onRequest.some(([n]) => n === name)) continue;
  console.log(`\n# ${name}`);
  console.log(machineLine());
  await run();
}
process.exit(0);
