/**
 * The portal's PIN form in a real browser (Debian's chromium, phone width) against the local stack: a user
 * whose group policy requires a PIN sees why they cannot log in elsewhere, a PIN too easy to guess is refused
 * with the reason, a good one is saved, and from then an auth client's login takes PIN + passcode and not the
 * passcode alone. Changing it needs the current PIN. Screenshots go to test-artifacts/.
 */
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
const ALICE = '+4520123456';

async function call(key: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${stack.json.apiUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** A login through the auth API: its challenge id and the passcode the simulated modem sent. */
async function startLogin() {
  const before = smsCountTo(stack.json.simulator.outbox, ALICE);
  const created = await call(stack.json.authKey, 'POST', '/v1/challenges', { username: 'alice' });
  expect(created.status).toBe(201);
  const sms = await nextSmsTo(stack.json.simulator.outbox, ALICE, before);
  return { id: created.body.challengeId as string, code: passcodeIn(sms.text) };
}
const verify = (id: string, passcode: string) =>
  call(stack.json.authKey, 'POST', `/v1/challenges/${id}/verify`, { passcode });

describe.skipIf(!chromium.available)('the portal PIN form in a browser', () => {
  beforeAll(async () => {
    stack = await startLocalStack({ log: createLogger({}, { level: 'error' }), secureCookies: false });
    const group = await call(stack.json.adminKey, 'POST', '/v1/group-policies', {
      name: 'PIN users',
      loadBalancingPolicyId: null,
      channels: ['sms_modem'],
      secondaryPhone: true,
      selfService: { enabled: true, fields: ['pin'] },
      pin: { required: true, minLength: 6 },
    });
    expect(group.status).toBe(201);
    await call(stack.json.adminKey, 'PATCH', '/v1/users/alice', { groupPolicyId: group.body.id });
    browser = await launchBrowser();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('sets a PIN that logins then need before the passcode', async () => {
    // Without a PIN, a login sends nothing and is answered like an unknown name.
    const before = smsCountTo(stack.json.simulator.outbox, ALICE);
    const refused = await call(stack.json.authKey, 'POST', '/v1/challenges', { username: 'alice' });
    expect(refused.status).toBe(201);

    const context = await browser.newContext({ viewport: PHONE });
    const page = await context.newPage();
    await signInToPortal(page, stack.json, 'alice', ALICE);
    // The portal's own passcode is the only SMS since: the refused login sent none.
    expect(smsCountTo(stack.json.simulator.outbox, ALICE)).toBe(before + 1);
    await page.getByText('Your organisation requires a PIN before your passcode').waitFor();
    await screenshot(page, 'portal-pin-required');

    await page.locator('input[name=pin]').fill('123456');
    await page.locator('form[action="/portal/pin"] button[type=submit]').click();
    await page.getByText('too easy to guess').waitFor();
    await screenshot(page, 'portal-pin-weak');

    // Only the keyboard from here: focus the field, type, and submit with Enter.
    await page.locator('input[name=pin]').focus();
    await page.keyboard.type('739146');
    await page.keyboard.press('Enter');
    await page.getByText('Your PIN was saved').waitFor();
    expect(await page.locator('dl.facts').textContent()).toMatch(/PIN\s*Set/);
    await screenshot(page, 'portal-pin-saved');

    const login = await startLogin();
    expect((await verify(login.id, login.code)).body).toMatchObject({ result: 'reject' });
    expect((await verify(login.id, `739146${login.code}`)).body).toEqual({ result: 'accept' });

    // A change needs the current PIN: a wrong one is refused, the right one saves the new PIN.
    await page.locator('input[name=currentPin]').fill('111999');
    await page.locator('input[name=pin]').fill('582017');
    await page.locator('form[action="/portal/pin"] button[type=submit]').click();
    await page.getByText('The current PIN is not right').waitFor();
    await screenshot(page, 'portal-pin-wrong-current');
    await page.locator('input[name=currentPin]').fill('739146');
    await page.locator('input[name=pin]').fill('582017');
    await page.locator('form[action="/portal/pin"] button[type=submit]').click();
    await page.getByText('Your PIN was saved').waitFor();

    const next = await startLogin();
    expect((await verify(next.id, `582017${next.code}`)).body).toEqual({ result: 'accept' });
    await context.close();
  }, 180_000);
});
