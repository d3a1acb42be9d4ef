/**
 * A real browser for the web tests: Debian's chromium driven by playwright-core, headless, with a fresh
 * profile per launch and nothing that reaches the network on its own. A test file without chromium skips with
 * the reason (and the apt-get line); under REQUIRE_PEERS=1 it fails instead.
 *
 *   const chromium = browserAvailability();
 *   if (!chromium.available) reportMissingBrowser(chromium.reason);
 *   describe.skipIf(!chromium.available)('…', () => { … await launchBrowser() … });
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { it } from 'vitest';
import { base32Decode, totp } from '../../functions/core/channels/totp.ts';
import type { StackJson } from '../../functions/local/data-folder.ts';
import type { ConsoleLogin } from '../../functions/local/seed-console.ts';

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

/** The current code of a console account's authenticator app. */
export const consoleCode = (login: ConsoleLogin) => totp(base32Decode(login.totpSecret), Date.now());

/** Signs a console account in (password, then the TOTP code) on a new page of `context`; returns the page. */
export async function signInToConsole(
  context: BrowserContext,
  baseUrl: string,
  login: ConsoleLogin,
): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${baseUrl}/admin`);
  await page.getByLabel('E-mail address').fill(login.email);
  await page.getByLabel('Password').fill(login.password);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByLabel('Code').fill(consoleCode(login));
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForLoadState('load');
  return page;
}

/** Every SMS the local stack's simulated modems sent so far (`{"to","text"}` lines of the outbox). */
export function simulatorOutbox(file: string): Array<{ to: string; text: string }> {
  return (existsSync(file) ? readFileSync(file, 'utf8') : '')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { to: string; text: string });
}

export const smsCountTo = (file: string, to: string) =>
  simulatorOutbox(file).filter((m) => m.to === to).length;

/** The passcode in an SMS text ("… code is 123456 …"). */
export const passcodeIn = (text: string) => /code is (\w+)/.exec(text)?.[1] ?? '';

/** Waits for one more SMS to `to` than `before`, and returns the newest. */
export async function nextSmsTo(file: string, to: string, before: number) {
  for (;;) {
    const sent = simulatorOutbox(file).filter((m) => m.to === to);
    if (sent.length > before) return sent.at(-1)!;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Signs a user in to the portal with the passcode the simulated modem sent to `mobile`; ends on the profile. */
export async function signInToPortal(
  page: Page,
  stack: Pick<StackJson, 'apiUrl' | 'tenantId' | 'simulator'>,
  username: string,
  mobile: string,
): Promise<void> {
  const outbox = stack.simulator.outbox;
  await page.goto(`${stack.apiUrl}/portal/sign-in?tenant=${stack.tenantId}`);
  await page.getByLabel('Username').fill(username);
  const before = smsCountTo(outbox, mobile);
  await page.getByRole('button', { name: 'Send passcode' }).click();
  await page.getByLabel('Passcode').waitFor();
  const sms = await nextSmsTo(outbox, mobile, before);
  await page.getByLabel('Passcode').fill(passcodeIn(sms.text));
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Your sign-in details' }).waitFor();
}
