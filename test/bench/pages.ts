/**
 * The console's pages in chromium: bytes transferred per page (document, script and style, cache disabled, as
 * a first visit) and the time from navigation to first contentful paint, beside a near-blank page served from
 * this machine as the baseline. Budget: every page under 100 KB. Prints figures; asserts nothing.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger } from '../../functions/adapters/log.ts';
import { base32Decode, totp } from '../../functions/core/channels/totp.ts';
import { startLocalStack } from '../../functions/local/stack.ts';
import { browserAvailability, launchBrowser } from '../support/browser.ts';

const BUDGET = 100 * 1024;

export async function benchPages(): Promise<void> {
  const chromium = browserAvailability();
  if (!chromium.available) {
    console.log(`skipped: ${chromium.reason}`);
    return;
  }
  const stack = await startLocalStack({ log: createLogger({}, { level: 'error' }) });
  const blank = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><html lang="en"><title>blank</title><p>.</p></html>');
  });
  await new Promise<void>((r) => blank.listen(0, '127.0.0.1', r));
  const blankUrl = `http://127.0.0.1:${(blank.address() as AddressInfo).port}/`;
  const browser = await launchBrowser();
  try {
    const context = await browser.newContext();
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
    let bytes = 0;
    cdp.on('Network.loadingFinished', (e: { encodedDataLength: number }) => {
      bytes += e.encodedDataLength;
    });

    const base = stack.json.apiUrl;
    const login = stack.json.console.tenantAdmin;
    await page.goto(`${base}/admin/sign-in`);
    await page.getByLabel('E-mail address').fill(login.email);
    await page.getByLabel('Password').fill(login.password);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByLabel('Code').fill(totp(base32Decode(login.totpSecret), Date.now()));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/\/admin\/users$/);

    const measure = async (url: string) => {
      const runs: Array<{ bytes: number; fcpMs: number }> = [];
      for (let i = 0; i < 5; i++) {
        bytes = 0;
        await page.goto(url, { waitUntil: 'load' });
        const fcpMs = await page.evaluate(
          () =>
            new Promise<number>((resolve) => {
              const seen = performance.getEntriesByName('first-contentful-paint')[0];
              if (seen) return resolve(seen.startTime);
              new PerformanceObserver((list) => resolve(list.getEntries()[0]!.startTime)).observe({
                type: 'paint',
                buffered: true,
              });
            }),
        );
        runs.push({ bytes, fcpMs });
      }
      const sorted = runs.map((r) => r.fcpMs).sort((a, b) => a - b);
      return { bytes: Math.max(...runs.map((r) => r.bytes)), fcpMs: sorted[Math.floor(sorted.length / 2)]! };
    };

    const rows: Array<{ page: string; bytes: number; fcpMs: number }> = [];
    const baseline = await measure(blankUrl);
    rows.push({ page: 'blank page (baseline)', ...baseline });
    for (const path of [
      '/admin/sign-in',
      '/admin/users',
      '/admin/users/alice',
      '/admin/policies',
      '/admin/policies/lb/new',
      '/admin/agents',
      '/admin/agents/edge-1',
      '/admin/modem-groups',
      '/admin/logs/messages',
      '/admin/logs/service-status',
      '/admin/logs/audit',
      '/admin/sync-runs',
      '/admin/keys',
      '/admin/tokens',
      '/admin/providers',
      '/admin/security',
      '/admin/policies/groups/new',
    ])
      rows.push({ page: path, ...(await measure(`${base}${path}`)) });

    console.log('page                          transferred   first contentful paint (median of 5)');
    for (const r of rows)
      console.log(
        `${r.page.padEnd(30)}${`${(r.bytes / 1024).toFixed(1)} KB`.padStart(11)}   ${r.fcpMs.toFixed(0)} ms`,
      );
    const largest = rows.slice(1).reduce((a, b) => (b.bytes > a.bytes ? b : a));
    console.log(
      `largest page: ${largest.page}, ${(largest.bytes / 1024).toFixed(1)} KB of the ${BUDGET / 1024} KB budget; ` +
        `first paint ${largest.fcpMs.toFixed(0)} ms against ${baseline.fcpMs.toFixed(0)} ms for the blank page`,
    );
    await context.close();
  } finally {
    await browser.close();
    blank.close();
    await stack.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchPages().then(() => process.exit(0));
