/**
 * Console accounts in a real browser (Debian's chromium) against the local stack: the operator creates a
 * tenant admin whose second factor is SMS; the new admin opens the set-up link, chooses a password and signs
 * in with the code the simulated modem sent; the tenant admin then sees their tenant's accounts, and cannot
 * make an operator. Screenshots go to test-artifacts/.
 */
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../functions/adapters/log.ts';
import { base32Decode, totp } from '../../functions/core/channels/totp.ts';
import type { ConsoleLogin } from '../../functions/local/seed-console.ts';
import { type LocalStack, startLocalStack } from '../../functions/local/stack.ts';
import {
  browserAvailability,
  launchBrowser,
  type RunningBrowser,
  reportMissingBrowser,
  screenshot,
} from '../support/browser.ts';
import { until } from '../support/wait.ts';

const chromium = browserAvailability();
if (!chromium.available) reportMissingBrowser(chromium.reason);

let stack: LocalStack;
let browser: RunningBrowser;
let base: string;
const NEW_ADMIN = 'new.admin@demo.example.test';
const NEW_PASSWORD = 'a long passphrase for the console';

async function signInWithTotp(page: Page, login: ConsoleLogin) {
  await page.goto(`${base}/admin`);
  await page.getByLabel('E-mail address').fill(login.email);
  await page.getByLabel('Password').fill(login.password);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByLabel('Code').fill(totp(base32Decode(login.totpSecret), Date.now()));
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForLoadState('load');
}

describe.skipIf(!chromium.available)('console accounts in chromium', () => {
  let setUpLink: string;

  beforeAll(async () => {
    stack = await startLocalStack({ log: createLogger({}, { level: 'error' }) });
    base = stack.json.apiUrl;
    browser = await launchBrowser();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('lets the operator create a tenant admin with SMS codes, and shows the set-up link once', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await signInWithTotp(page, stack.json.console.operator);
    await page.getByRole('link', { name: 'Admins' }).click();
    expect(new URL(page.url()).pathname).toBe('/admin/operator/accounts');
    await page.getByLabel('E-mail address').fill(NEW_ADMIN);
    await page.getByLabel('Role').selectOption('tenant_admin');
    await page.getByLabel('Tenant', { exact: true }).selectOption(stack.json.tenantId);
    await page.getByLabel('Second factor').selectOption('sms');
    await page.getByLabel('SMS codes go to user').fill('alice');
    await page.getByRole('button', { name: 'Create account' }).click();
    const notice = (await page.getByRole('status').first().textContent()) ?? '';
    expect(notice).toContain(`Account created for ${NEW_ADMIN}`);
    setUpLink = (await page.locator('.setup-link').textContent()) ?? '';
    expect(setUpLink).toMatch(/\/admin\/set-up\?token=[\w-]{43}$/);
    const row = page.getByRole('row', { name: new RegExp(NEW_ADMIN) });
    expect(await row.textContent()).toMatch(/Tenant admin.*SMS code.*alice.*waiting for set-up/);
    await screenshot(page, 'console-accounts-created');
    // Shown once: the list page on its own holds no link.
    await page.goto(`${base}/admin/operator/accounts?tenant=${stack.json.tenantId}`);
    expect(await page.locator('.setup-link').count()).toBe(0);
    await context.close();
  });

  it('lets the new admin set a password through the link and sign in with an SMS code', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(setUpLink);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Set up your account');
    await page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
    await page.getByLabel('New password again').fill('not the same one at all');
    await page.getByRole('button', { name: 'Set password' }).click();
    expect(await page.locator('#f-confirm-error').textContent()).toMatch(/does not match/);
    await screenshot(page, 'console-accounts-set-up-error');
    await page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
    await page.getByLabel('New password again').fill(NEW_PASSWORD);
    await page.getByRole('button', { name: 'Set password' }).click();
    expect(await page.getByRole('status').textContent()).toMatch(/Your account is ready/);
    await screenshot(page, 'console-accounts-set-up-done');

    // The link is spent.
    const again = await context.newPage();
    expect((await again.goto(setUpLink))?.status()).toBe(410);
    await again.close();

    const outbox = stack.json.simulator.outbox;
    const before = readLines(outbox).length;
    expect(await page.getByLabel('E-mail address').inputValue()).toBe(NEW_ADMIN);
    await page.getByLabel('Password').fill(NEW_PASSWORD);
    await page.getByRole('button', { name: 'Continue' }).click();
    expect(await page.locator('main p').first().textContent()).toMatch(
      /We sent a sign-in code by SMS to \+45/,
    );
    await screenshot(page, 'console-accounts-sms-code');
    const line = await until('the sign-in code at the simulated modem', () =>
      readLines(outbox)
        .slice(before)
        .find((l) => JSON.parse(l).to === '+4520123456'),
    );
    const code = /code is (\d+)/.exec(JSON.parse(line).text)![1]!;
    await page.getByLabel('Code').fill(code);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForLoadState('load');
    expect(new URL(page.url()).pathname).toBe('/admin/users');

    await page.getByRole('link', { name: 'Admins' }).click();
    const mine = page.getByRole('row', { name: new RegExp(NEW_ADMIN) });
    expect(await mine.textContent()).toMatch(/active/);
    // Their own row has no buttons (nobody disables or resets themselves), and the roles stop at tenant admin.
    expect(await mine.getByRole('button').count()).toBe(0);
    const roles = await page.getByLabel('Role').locator('option').allTextContents();
    expect(roles).toEqual(['Tenant admin', 'Auditor (read only)']);
    await screenshot(page, 'console-accounts-tenant-list');

    // A hand-made post for an operator account is refused by the service, and says why.
    await page.getByLabel('E-mail address').fill('sneaky@ops.example.test');
    await page.getByLabel('Role').evaluate((el) => {
      const option = document.createElement('option');
      option.value = 'operator';
      (el as HTMLSelectElement).append(option);
      (el as HTMLSelectElement).value = 'operator';
    });
    await page.getByRole('button', { name: 'Create account' }).click();
    expect(await page.getByRole('alert').textContent()).toMatch(/cannot create an operator account/);
    await context.close();
  });
});

function readLines(file: string): string[] {
  try {
    return readFileSync(file, 'utf8').split('\n').filter(Boolean);
  } catch {
    return [];
  }
}
