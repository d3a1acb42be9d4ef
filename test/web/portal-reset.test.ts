/**
 * The portal's AD password reset in a real browser (Debian's chromium), all the way down: the local stack's
 * pages and reset domain, a real edge agent enrolled with its own key and an AD section, and a real Samba AD
 * DC. The user's SMS goes out through the demo agent's simulated modem; the sealed password goes to the AD
 * agent, which sets it in Samba. Afterwards the new password binds in Samba and the old one does not. Samba's
 * "too short" comes back as the plain message beside the password field. Screenshots go to test-artifacts/.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from 'ldapts';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdConfig } from '../../edge-agent/ad/config.ts';
import { type Agent, startAgent } from '../../edge-agent/agent.ts';
import { loadConfig } from '../../edge-agent/config.ts';
import { enroll } from '../../edge-agent/enroll/enroll.ts';
import { createLogger as agentLogger } from '../../edge-agent/log.ts';
import { createLogger } from '../../functions/adapters/log.ts';
import { RESET_REFUSALS } from '../../functions/contracts/password.ts';
import { type LocalStack, startLocalStack } from '../../functions/local/stack.ts';
import { domainConfig } from '../edge-agent/ad/support.ts';
import { FakeSender } from '../edge-agent/agent/fake-sender.ts';
import {
  browserAvailability,
  launchBrowser,
  nextSmsTo,
  passcodeIn,
  type RunningBrowser,
  reportMissingBrowser,
  screenshot,
  smsCountTo,
} from '../support/browser.ts';
import { type SambaDc, sambaAvailable, startSambaDc } from '../support/samba.ts';
import { until } from '../support/wait.ts';

const chromium = browserAvailability();
if (!chromium.available) reportMissingBrowser(chromium.reason);
const samba = sambaAvailable(it);

const PHONE = { width: 390, height: 844 };
const OLD = 'Old-Pass-1!x';
const NEW = 'N3w-Pässword!2';
const PERSONAL = 'Personal2026';
const ERIN = '+4520333444';
const FRANK = '+4520333555';

let stack: LocalStack;
let dc: SambaDc;
let agent: Agent;
let browser: RunningBrowser;
let dir: string;
const agentLog: string[] = [];

async function api(method: string, route: string, body?: unknown, key = stack.json.adminKey) {
  const res = await fetch(`${stack.json.apiUrl}${route}`, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  // biome-ignore lint/suspicious/noExplicitAny: replies are read field by field
  const json = (text ? JSON.parse(text) : undefined) as any;
  if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${text}`);
  return json;
}

const countTo = (to: string) => smsCountTo(stack.json.simulator.outbox, to);
const nextCode = async (to: string, before: number) =>
  passcodeIn((await nextSmsTo(stack.json.simulator.outbox, to, before)).text);

/** Whether `password` binds as the user in Samba, over LDAPS with the DC's CA. */
async function binds(username: string, password: string): Promise<boolean> {
  const client = new Client({ url: dc.ldapsUrl, tlsOptions: { ca: [dc.caPem] } });
  try {
    await client.bind(dc.userDn(username), password);
    return true;
  } catch (error) {
    if ((error as { code?: number }).code === 49) return false;
    throw error;
  } finally {
    await client.unbind().catch(() => {});
  }
}

/** Steps 1 and 2 in the browser: the sign-in page's link, username and personal passcode, the SMS passcode. */
async function reachPasswordStep(page: Page, username: string, mobile: string, name: string) {
  await page.goto(`${stack.json.apiUrl}/portal/sign-in?tenant=${stack.json.tenantId}`);
  await page.getByRole('link', { name: 'Forgot your password?' }).click();
  await page.getByRole('heading', { name: 'Reset your password' }).waitFor();
  expect(await page.getByLabel('Organisation').inputValue()).toBe(stack.json.tenantId);
  // By keyboard: type, Tab to the next field, Enter sends the form.
  await page.getByLabel('Username').focus();
  await page.keyboard.type(username);
  await page.keyboard.press('Tab');
  await page.keyboard.type(PERSONAL);
  await screenshot(page, `${name}-start`);
  const before = countTo(mobile);
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'Enter the passcode' }).waitFor();
  expect(await page.locator('main').textContent()).toContain('•• •• ••');
  const code = await nextCode(mobile, before);
  await page.getByLabel('Passcode').fill(code);
  await screenshot(page, `${name}-code`);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByRole('heading', { name: 'Choose a new password' }).waitFor();
}

describe.skipIf(!chromium.available || !samba)('the portal password reset against Samba AD', () => {
  beforeAll(async () => {
    [dc, stack] = await Promise.all([
      startSambaDc({
        users: [
          { name: 'erin', password: OLD, mobile: ERIN },
          { name: 'frank', password: OLD, mobile: FRANK },
        ],
      }),
      startLocalStack({ log: createLogger({}, { level: 'error' }), secureCookies: false }),
    ]);
    const [group] = await dc.addGroups([{ name: 'VPN Users', members: ['erin', 'frank'] }]);
    const policy = await api('POST', '/v1/group-policies', {
      name: 'VPN users',
      loadBalancingPolicyId: null,
      channels: ['sms_modem'],
      selfService: { enabled: false, fields: [] },
      secondaryPhone: false,
    });
    await api('POST', '/v1/integration-policies', {
      domain: dc.dnsDomain,
      groupDn: group,
      groupPolicyId: policy.id,
      priority: 1,
    });

    // The AD agent: registered by the admin, enrolled with a key made here (the cloud seals for it), no modem
    // of the tenant's default group, so the SMS still goes by the demo agent's simulated modem.
    const registered = await api('POST', '/v1/agents', { agentId: 'ad-1', modemGroups: ['directory'] });
    dir = await mkdtemp(path.join(tmpdir(), 'portal-reset-'));
    const enrolled = await enroll({
      url: stack.json.apiUrl,
      token: registered.enrolment.token,
      config: path.join(dir, 'config.yaml'),
      modems: ['directory=tcp://127.0.0.1:9'],
      stateDir: path.join(dir, 'state'),
    });
    const config = await loadConfig(enrolled.config);
    agent = await startAgent({
      config: {
        ...config,
        ad: AdConfig.parse({
          domains: [domainConfig(dc, [group!])],
          sync: { apiUrl: stack.json.apiUrl, key: stack.json.syncKey, intervalMinutes: 0 },
        }),
      },
      sender: new FakeSender(),
      backoff: { initialMs: 10, maxMs: 200 },
      log: agentLogger({ level: 'debug', write: (l) => agentLog.push(l) }),
    });
    await agent.link.waitConnected();
    const synced = await agent.ad!.sync!.start('full').done;
    expect(synced.error).toBeUndefined();
    for (const username of ['erin', 'frank'])
      await api('PUT', `/v1/personal-passcodes/${username}`, {
        passcode: PERSONAL,
        validFrom: new Date(Date.now() - 60_000).toISOString(),
        validUntil: new Date(Date.now() + 3600_000).toISOString(),
      });
    await until('the AD agent online', async () => (await api('GET', '/v1/agents/ad-1')).state === 'online');
    browser = await launchBrowser();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await agent?.stop();
    await Promise.all([stack?.stop(), dc?.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
    // The agent handled the passwords: none of them may show in its log.
    for (const secret of [OLD, NEW, PERSONAL, 'Sh0rt!']) expect(agentLog.join('\n')).not.toContain(secret);
  });

  it('resets erin’s password: the new one binds in Samba and the old one does not', async () => {
    expect(await binds('erin', OLD)).toBe(true);
    const context = await browser.newContext({ viewport: PHONE });
    const page = await context.newPage();
    await page.goto(`${stack.json.apiUrl}/portal/sign-in?tenant=${stack.json.tenantId}`);
    await screenshot(page, 'portal-reset-sign-in');
    await reachPasswordStep(page, 'erin', ERIN, 'portal-reset');
    await page.getByLabel('New password', { exact: true }).fill(NEW);
    await page.getByLabel('New password again').fill(NEW);
    await screenshot(page, 'portal-reset-password');
    await page.getByRole('button', { name: 'Set password' }).click();
    await page.getByRole('heading', { name: 'Your password was changed' }).waitFor();
    await screenshot(page, 'portal-reset-done');
    // Nothing on the page is wider than the phone: no sideways scrolling.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);

    expect(await binds('erin', NEW)).toBe(true);
    expect(await binds('erin', OLD)).toBe(false);
    await context.close();
  }, 120_000);

  it('shows Samba’s "too short" beside the password field, and the same reset then takes a good one', async () => {
    const context = await browser.newContext({ viewport: PHONE });
    const page = await context.newPage();
    await reachPasswordStep(page, 'frank', FRANK, 'portal-reset-frank');

    // Typed differently twice: the page says so beside the second field, and nothing reaches AD.
    await page.getByLabel('New password', { exact: true }).fill('Sh0rt!');
    await page.getByLabel('New password again').fill('Sh0rt?');
    await page.getByRole('button', { name: 'Set password' }).click();
    const again = page.getByLabel('New password again');
    await expect.poll(() => again.getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('#f-confirmPassword-error').textContent()).toContain('not the same');

    await page.getByLabel('New password', { exact: true }).fill('Sh0rt!');
    await again.fill('Sh0rt!');
    await page.getByRole('button', { name: 'Set password' }).click();
    const field = page.getByLabel('New password', { exact: true });
    await expect.poll(() => field.getAttribute('aria-invalid')).toBe('true');
    const error = page.locator('#f-newPassword-error');
    expect(await error.textContent()).toBe(RESET_REFUSALS.too_short);
    // The message is tied to the field for screen readers.
    expect(await field.getAttribute('aria-describedby')).toContain('f-newPassword-error');
    expect(await page.locator('#f-confirmPassword-error').count()).toBe(0);
    await screenshot(page, 'portal-reset-too-short');
    expect(await binds('frank', OLD)).toBe(true);

    await field.fill(NEW);
    await again.fill(NEW);
    await page.getByRole('button', { name: 'Set password' }).click();
    await page.getByRole('heading', { name: 'Your password was changed' }).waitFor();
    expect(await binds('frank', NEW)).toBe(true);
    expect(await binds('frank', OLD)).toBe(false);
    await context.close();
  }, 120_000);
});
