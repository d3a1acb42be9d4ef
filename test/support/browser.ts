/**
 * A real browser for the web tests: Debian's chromium driven by playwright-core, headless, with a fresh
 * profile per launch and nothing that reaches the network on its own. A test file without chromium skips with
 * the reason (and the apt-get line); under REQUIRE_PEERS=1 it fails instead.
 *
 *   const chromium = browserAvailability();
 *   if (!chromium.available) reportMissingBrowser(chromium.reason);
 *   describe.skipIf(!chromium.available)('…', () => { … await launchBrowser() … });
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { it } from 'vitest';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Screenshots and other things a person looks at after a run (gitignored). */
export const ARTIFACTS = resolve('test-artifacts');

export function browserAvailability(): { available: boolean; reason: string } {
  if (existsSync(CHROMIUM)) return { available: true, reason: '' };
  return {
    available: false,
    reason: `${CHROMIUM} not found: install it with "apt-get install -y chromium" to run the browser tests`,
  };
}

/** Call at the top of a browser test file when chromium is missing. */
export function reportMissingBrowser(reason: string): void {
  if (process.env.REQUIRE_PEERS === '1')
    it('has chromium installed (REQUIRE_PEERS=1)', () => {
      throw new Error(reason);
    });
  else console.warn(`skipping browser tests: ${reason}`);
}

export interface RunningBrowser {
  browser: Browser;
  /** A fresh context (own cookies) on the same browser: one per person a test plays. */
  newContext(options?: { viewport?: { width: number; height: number } }): Promise<BrowserContext>;
  close(): Promise<void>;
}

/** playwright's `launch` gives the browser a fresh temporary profile (user-data-dir) of its own, every time. */
export async function launchBrowser(): Promise<RunningBrowser> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  return {
    browser,
    newContext: (options = {}) =>
      browser.newContext({ viewport: options.viewport ?? { width: 1280, height: 860 } }),
    close: () => browser.close(),
  };
}

/** Saves a full-page screenshot as test-artifacts/<name>.png and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
