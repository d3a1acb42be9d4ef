/**
 * The admin console in a real browser (Debian's chromium) against the local stack: an operator creates a
 * tenant; the tenant admin signs in with a second factor, builds a two-rule chain and sends a test passcode
 * that reaches the simulated modem; and the attacks a console must refuse (another tenant's ids in the URL, a
 * post without the CSRF token or from another origin, an auditor trying to change something). Every flow
 * leaves a screenshot in test-artifacts/.
 */
import { readFileSync } from 'node:fs';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../functions/adapters/log.ts';
import { localDynamo } from '../../functions/local/aws-local.ts';
import type { ConsoleLogin } from '../../functions/local/seed-console.ts';
import { type LocalStack, startLocalStack, TABLE_NAME } from '../../functions/local/stack.ts';
import { adminAccounts } from '../../functions/web-deps.ts';
import {
  browserAvailability,
  launchBrowser,
  type RunningBrowser,
  reportMissingBrowser,
  screenshot,
  signInToConsole,
} from '../support/browser.ts';
import { until } from '../support/wait.ts';

const chromium = browserAvailability();
if (!chromium.available) reportMissingBrowser(chromium.reason);

let stack: LocalStack;
let browser: RunningBrowser;
let base: string;

const signIn = (context: BrowserContext, login: ConsoleLogin) => signInToConsole(context, base, login);

describe.skipIf(!chromium.available)('the admin console in chromium', () => {
  let tenantAdmin: BrowserContext;
  let adminPage: Page;

  beforeAll(async () => {
    stack = await startLocalStack({ log: createLogger({}, { level: 'error' }) });
    base = stack.json.apiUrl;
    browser = await launchBrowser();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('lets an operator sign in with password and TOTP, and create a tenant', async () => {
    const context = await browser.newContext();
    const page = await signIn(context, stack.json.console.operator);
    expect(new URL(page.url()).pathname).toBe('/admin/operator');
    await page.getByLabel('Tenant id').fill('globex-web');
    await page.getByLabel('Name', { exact: true }).fill('Globex Web');
    await page.getByLabel('Default country').fill('SE');
    await page.getByLabel('User limit').fill('250');
    await page.getByRole('button', { name: 'Create tenant' }).click();
    expect(await textOf(page.getByRole('status'))).toMatch(/Tenant “globex-web” was created/);
    const row = page.getByRole('row', { name: /Globex Web/ });
    expect(await textOf(row)).toContain('0 / 250');
    await screenshot(page, 'console-operator-tenant-created');
    await context.close();
  });

  it('lets the tenant admin sign in, build a two-rule chain and send a test passcode to the modem', async () => {
    tenantAdmin = await browser.newContext();
    adminPage = await signIn(tenantAdmin, stack.json.console.tenantAdmin);
    const page = adminPage;
    expect(new URL(page.url()).pathname).toBe('/admin/users');

    await page.goto(`${base}/admin/policies/lb/new`);
    await page.getByLabel('Name', { exact: true }).fill('Primary then secondary');
    await page.getByLabel('Route').first().selectOption('default');
    await page.getByRole('button', { name: 'Add a rule' }).click();
    const second = page.locator('.chain > li').nth(1);
    await second.getByLabel('Send to').selectOption('secondary');
    await second.getByLabel('Route').selectOption('default');
    await second.getByLabel('Channel').selectOption('sms_web');
    await second.getByLabel('Timeout (seconds)').fill('45');
    await page.getByRole('button', { name: 'Save policy' }).click();
    // The service's message stands beside the route it is about: a modem group is no web SMS provider.
    expect(await textOf(page.locator('#f-rules-1-route-error'))).toMatch(
      /Rule 2 \(sms_web\) names the provider "default"/,
    );
    await screenshot(page, 'console-rule-chain-error');
    await page.locator('.chain > li').nth(1).getByLabel('Channel').selectOption('sms_modem');
    // Reorder with the page script, then back: the chain keeps its rules.
    await second.getByRole('button', { name: 'Move up' }).click();
    expect(await page.locator('.chain > li').first().getByLabel('Send to').inputValue()).toBe('secondary');
    await page.locator('.chain > li').first().getByRole('button', { name: 'Move down' }).click();
    await page.getByRole('button', { name: 'Save policy' }).click();
    expect((await textOf(page.getByRole('status'))).trim()).toBe('Saved.');
    expect(await page.locator('.chain > li').count()).toBe(2);
    expect(await page.locator('.chain > li').nth(1).getByLabel('Send to').inputValue()).toBe('secondary');
    await screenshot(page, 'console-rule-chain');

    const outbox = stack.json.simulator.outbox;
    const before = readLines(outbox).length;
    await page.goto(`${base}/admin/users/alice`);
    await page.getByRole('button', { name: 'Send a test passcode' }).click();
    expect(await textOf(page.getByRole('status'))).toContain('Test passcode sent by sms');
    const line = await until('the test passcode at the simulated modem', () =>
      readLines(outbox)
        .slice(before)
        .find((l) => JSON.parse(l).to === '+4520123456'),
    );
    expect(JSON.parse(line).text).toMatch(/console test passcode/);
    await screenshot(page, 'console-user-test-passcode');
  });

  it('answers 404 when a tenant admin puts another tenant’s ids in the URL', async () => {
    const other = await fetchJson(`${base}/v1/operator/tenants`, stack.json.operatorKey, {
      id: 'initech',
      name: 'Initech',
      defaultCountry: 'DK',
      userLimit: 5,
    });
    const policy = await fetchJson(`${base}/v1/load-balancing-policies`, other.adminKey, {
      name: 'Initech chain',
      rules: [{ channel: 'sms_modem', target: 'primary', route: 'default', timeoutSeconds: 30 }],
    });
    const response = await adminPage.goto(`${base}/admin/policies/lb/${policy.id}`);
    expect(response?.status()).toBe(404);
    expect((await textOf(adminPage.getByRole('heading', { level: 1 }))).trim()).toBe('Page not found');
    expect(await adminPage.content()).not.toContain('Initech chain');
    await screenshot(adminPage, 'console-other-tenant-404');
    // Nor may a tenant admin reach the operator's pages.
    expect((await adminPage.goto(`${base}/admin/operator`))?.status()).toBe(404);
  });

  it('refuses a post without the CSRF token, or from another origin', async () => {
    await adminPage.goto(`${base}/admin/users/alice`);
    const withoutToken = await adminPage.evaluate(async () => {
      const r = await fetch('/admin/users/alice/lock', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: '',
      });
      return r.status;
    });
    expect(withoutToken).toBe(403);
    const token = await adminPage.locator('input[name="_csrf"]').first().inputValue();
    const wrongToken = await adminPage.evaluate(async () => {
      const r = await fetch('/admin/users/alice/lock', {
        method: 'POST',
        headers: { 'x-csrf-token': 'x'.repeat(43) },
      });
      return r.status;
    });
    expect(wrongToken).toBe(403);
    // The right token from another origin: the browser sends Origin, and it is not ours.
    const cookies = await tenantAdmin.cookies();
    const crossSite = await fetch(`${base}/admin/users/alice/lock`, {
      method: 'POST',
      headers: {
        cookie: cookies.map((c) => `${c.name}=${c.value}`).join('; '),
        origin: 'https://evil.example',
        'x-csrf-token': token,
      },
    });
    expect(crossSite.status).toBe(403);
    // Alice is still not locked.
    await adminPage.goto(`${base}/admin/users/alice`);
    expect(await adminPage.getByRole('button', { name: 'Lock', exact: true }).isVisible()).toBe(true);
  });

  it('lets a read-only auditor look but not change anything', async () => {
    const accounts = adminAccounts({
      dynamo: localDynamo(stack.dynamoEndpoint),
      table: TABLE_NAME,
      log: createLogger({}, { level: 'error' }),
      cipher: stack.cipher,
    });
    const made = await accounts.create('test', {
      email: 'auditor@demo.example.test',
      role: 'auditor',
      tenantId: 'demo',
    });
    const auditor = await browser.newContext();
    const page = await signIn(auditor, {
      email: made.account.email,
      password: made.password,
      totpSecret: made.totp.secret,
    });
    await page.goto(`${base}/admin/users/alice`);
    expect((await textOf(page.getByRole('heading', { level: 1 }))).trim()).toBe('User alice');
    expect(await page.getByRole('button', { name: 'Lock', exact: true }).count()).toBe(0);
    await page.goto(`${base}/admin/policies/lb/new`);
    expect(await page.getByRole('button', { name: 'Save policy' }).count()).toBe(0);
    await screenshot(page, 'console-auditor-read-only');
    const token = await page.locator('input[name="_csrf"]').first().inputValue();
    const status = await page.evaluate(async (csrf) => {
      const r = await fetch('/admin/users/alice/lock', { method: 'POST', headers: { 'x-csrf-token': csrf } });
      return r.status;
    }, token);
    expect(status).toBe(403);
    await page.goto(`${base}/admin/users/alice`);
    expect(await page.getByText('locked by an admin').count()).toBe(0);
    await auditor.close();
  });
});

/** A locator's text once it is there (pages render on the server: it is there after the load). */
async function textOf(locator: import('playwright-core').Locator): Promise<string> {
  await locator.first().waitFor({ timeout: 10_000 });
  return (await locator.first().textContent()) ?? '';
}

function readLines(file: string): string[] {
  try {
    return readFileSync(file, 'utf8').split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

// biome-ignore lint/suspicious/noExplicitAny: replies are read field by field
async function fetchJson(url: string, key: string, body: unknown): Promise<any> {
  const r = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!r.ok) throw new Error(`${url}: ${r.status}`);
  return r.json();
}
