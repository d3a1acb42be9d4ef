/**
 * `npm run bench [name …]`: every benchmark, one after another; each prints its own figures beside a
 * baseline measured in the same run. Names: login, challenges, dispatch, verify, sync, ad-sync, edge, bundles,
 * cost, radius, pages.
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

for (const [name, run] of benches) {
  if (only.length > 0 && !only.includes(name)) continue;
  console.log(`\n# ${name}`);
  console.log(machineLine());
  await run();
}
process.exit(0);
