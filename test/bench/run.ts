/** `npm run bench`: every benchmark, one after another; each prints its own figures and baseline. */
import { benchBundles } from './bundles.ts';
import { benchLogin } from './login.ts';

const only = process.argv.slice(2);
const benches: Array<[string, () => Promise<unknown>]> = [
  ['login', () => benchLogin()],
  ['bundles', () => benchBundles()],
];

for (const [name, run] of benches) {
  if (only.length > 0 && !only.includes(name)) continue;
  console.log(`\n# ${name}`);
  await run();
}
process.exit(0);
