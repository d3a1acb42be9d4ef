/**
 * The self-service portal in a real browser (Debian's chromium) against the local stack: a user signs in
 * with the passcode the simulated modem sent, changes their mobile (passcode to the old number, notice to
 * it after), and sets a personal passcode. Attacks: a post without the CSRF token, and user B acting on
 * user A's number change. Screenshots go to test-artifacts/.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../functions/adapters/log.ts';
import { type LocalStack, startLocalStack } from '../../functions/local/stack.ts';
import {
  browserAvailability,
  launchBrowser,
  nextSmsTo,
  passcodeIn,
  type RunningBrowser,
  reportMissingBrowser,
  screenshot,
  signInToPortal,
  smsCountTo,
} from '../support/browser.ts';

const chromium = browserAvailability();
if (!chromium.available) reportMissingBrowser(chromium.reason);

let stack: LocalStack;
let browser: RunningBrowser;
const PHONE = { width: 390, height: 844 };

const countTo = (to: string) => smsCountTo(stack.json.simulator.outbox, to);
const nextSms = (to: string, before: number) => nextSmsTo(stack.json.simulator.outbox, to, before);
const codeIn = passcodeIn;

async function api(method: string, path: string, body?: unknown) {
  const res = await fetch(`${stack.json.apiUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${stack.json.adminKey}`, 'content-type': 'application/json' },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  return (await res.json()) as Record<string, unknown>;
}

const signIn = (page: Page, username: string, mobile: string) =>
  signInToPortal(page, stack.json, username, mobile);

describe.skipIf(!chromium.available)('the self-service portal in a browser', () => {
  beforeAll(async () => {
    stack = await startLocalStack({ log: createLogger({}, { level: 'error' }), secureCookies: false });
    const group = await api('POST', '/v1/group-policies', {
      name: 'Portal users',
      loadBalancingPolicyId: null,
      channels: ['sms_modem'],
      secondaryPhone: true,
      selfService: { enabled: true, fields: ['smsType', 'mobile', 'secondaryMobile', 'personalPasscode'] },
    });
    for (const u of ['alice', 'bob']) await api('PATCH', `/v1/users/${u}`, { groupPolicyId: group.id });
    await api('PATCH', '/v1/settings', { security: { allowPersonalPasscode: true } });
    browser = await launchBrowser();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('signs alice in, changes her mobile via the old number, and sets a personal passcode', async () => {
    const context = await browser.newContext({ viewport: PHONE });
    const page = await context.newPage();
    await page.goto(`${stack.json.apiUrl}/portal/sign-in?tenant=${stack.json.tenantId}`);
    await screenshot(page, 'portal-sign-in');
    await signIn(page, 'alice', '+4520123456');
    await screenshot(page, 'portal-profile');

    await page.getByLabel('Which number').selectOption('mobile');
    await page.getByLabel('New number').fill('20 12 34 99');
    const before = countTo('+4520123456');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('heading', { name: 'Confirm the change' }).waitFor();
    const check = await nextSms('+4520123456', before);
    await page.getByLabel('Passcode').fill(codeIn(check.text));
    await screenshot(page, 'portal-confirm-number');
    await page.getByRole('button', { name: 'Change number' }).click();
    await page.getByText('Your number was saved').waitFor();
    const notice = await nextSms('+4520123456', before + 1);
    expect(notice.text).toContain('changed to a number ending in 99');
    expect(await page.locator('dl.facts').innerText()).toContain('99');
    await screenshot(page, 'portal-number-changed');

    await page.locator('input[name=passcode]').fill('Tr4velCode9');
    await page.getByRole('button', { name: 'Save' }).last().click();
    await page.getByText('Your personal passcode was saved').waitFor();
    await screenshot(page, 'portal-personal-passcode');
    const size = (await page.content()).length;
    console.log(`portal profile page: ${size} bytes of HTML`);
    expect(size).toBeLessThan(100_000);

    // A post without the CSRF token is refused, though the session cookie goes with it.
    const forged = await context.request.post(`${stack.json.apiUrl}/portal/sms-type`, {
      form: { smsType: 'flash' },
    });
    expect(forged.status()).toBe(403);
    await page.reload();
    expect(await page.locator('dl.facts').innerText()).toContain('Normal');
    await context.close();
  }, 120_000);

  it('does not let bob confirm a number change of alice’s', async () => {
    const alice = await (await browser.newContext({ viewport: PHONE })).newPage();
    await signIn(alice, 'alice', '+4520123499');
    await alice.getByLabel('New number').fill('+4520123477');
    const before = countTo('+4520123499');
    await alice.getByRole('button', { name: 'Continue' }).click();
    await alice.getByRole('heading', { name: 'Confirm the change' }).waitFor();
    const changeId = await alice.locator('input[name=changeId]').inputValue();
    const code = codeIn((await nextSms('+4520123499', before)).text);

    const bobContext = await browser.newContext({ viewport: PHONE });
    const bob = await bobContext.newPage();
    await signIn(bob, 'bob', '+4520654321');
    const csrf = await bob.locator('input[name=_csrf]').first().inputValue();
    const stolen = await bobContext.request.post(`${stack.json.apiUrl}/portal/numbers/confirm`, {
      form: { _csrf: csrf, changeId, passcode: code },
      maxRedirects: 0,
    });
    expect(stolen.status()).toBe(400);
    expect(await stolen.text()).toContain('was not found');
    const user = await api('GET', '/v1/users/alice');
    expect(user.mobile).toBe('+45 •• •• •• 99');
    await screenshot(bob, 'portal-bob-profile');
  }, 120_000);
});
