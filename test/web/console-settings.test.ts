/**
 * The tenant console's settings pages in a real browser (Debian's chromium) against the local stack: keys
 * (shown once, working until revoked), tokens (an authenticator app's QR code, a PSKC import, assignment),
 * providers (a secret that is never shown back), security settings within the operator's ceilings, and the
 * group and integration policy forms, each checked against what the admin API then says and does. Then what
 * the pages must refuse: an auditor's changes and posts without the CSRF token. Screenshots go to
 * test-artifacts/, and every page's transferred bytes are measured against the 100 KB budget.
 */
import { readFileSync } from 'node:fs';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../functions/adapters/log.ts';
import { base32Decode, totp } from '../../functions/core/channels/totp.ts';
import { localDynamo } from '../../functions/local/aws-local.ts';
import type { ConsoleLogin } from '../../functions/local/seed-console.ts';
import { type LocalStack, startLocalStack, TABLE_NAME } from '../../functions/local/stack.ts';
import { adminAccounts } from '../../functions/web-deps.ts';
import { FIGURE_6, pskcDocument } from '../functions/tokens/pskc-fixtures.ts';
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

const codeOf = (login: ConsoleLogin) => totp(base32Decode(login.totpSecret), Date.now());

async function signIn(context: BrowserContext, login: ConsoleLogin): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${base}/admin`);
  await page.getByLabel('E-mail address').fill(login.email);
  await page.getByLabel('Password').fill(login.password);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByLabel('Code').fill(codeOf(login));
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForLoadState('load');
  // The pages ask before destructive posts (revoke, delete): the admin says yes.
  page.on('dialog', (dialog) => void dialog.accept());
  return page;
}

async function textOf(locator: Locator): Promise<string> {
  await locator.first().waitFor({ timeout: 10_000 });
  return (await locator.first().textContent()) ?? '';
}

// biome-ignore lint/suspicious/noExplicitAny: replies are read field by field
async function api(method: string, path: string, body?: unknown, key = stack.json.adminKey): Promise<any> {
  const r = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const text = await r.text();
  return { ...(text ? JSON.parse(text) : {}), httpStatus: r.status };
}

function outbox(): Array<{ to: string; text: string }> {
  try {
    return readFileSync(stack.json.simulator.outbox, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
  } catch {
    return [];
  }
}

describe.skipIf(!chromium.available)('the console settings pages in chromium', () => {
  let admin: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    stack = await startLocalStack({ log: createLogger({}, { level: 'error' }) });
    base = stack.json.apiUrl;
    browser = await launchBrowser();
    admin = await browser.newContext();
    page = await signIn(admin, stack.json.console.tenantAdmin);
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('shows a new key once; the key works against the API until it is revoked', async () => {
    await page.goto(`${base}/admin/keys`);
    await page.getByLabel('Kind').selectOption('admin');
    await page.getByRole('button', { name: 'Create key' }).click();
    const key = (await textOf(page.locator('#new-key'))).trim();
    expect(key).toMatch(/^sp\.admin\.demo\./);
    await screenshot(page, 'console-key-created');

    const listed = await api('GET', '/v1/keys', undefined, key);
    expect(listed.httpStatus).toBe(200);
    const prefix = listed.keys
      .map((k: { prefix: string }) => k.prefix)
      .find((p: string) => key.startsWith(p));
    expect(prefix).toBeDefined();

    // Reload: the key is gone, and no second one was minted.
    await page.reload();
    expect(await page.locator('#new-key').count()).toBe(0);
    expect(await page.content()).not.toContain(key);
    expect(
      (await api('GET', '/v1/keys', undefined, key)).keys.filter((k: { kind: string }) => k.kind === 'admin'),
    ).toHaveLength(listed.keys.filter((k: { kind: string }) => k.kind === 'admin').length);

    // A key cookie planted by someone else (not a live key of this tenant) shows nothing.
    await admin.addCookies([
      {
        name: '__Secure-smspass-new-key',
        value: `sp.admin.demo.${'A'.repeat(32)}`,
        domain: new URL(base).hostname,
        path: '/admin/keys',
        secure: true,
        httpOnly: true,
        sameSite: 'Strict',
      },
    ]);
    await page.goto(`${base}/admin/keys`);
    expect(await page.locator('#new-key').count()).toBe(0);
    expect(await page.content()).not.toContain('A'.repeat(32));

    await page.getByRole('button', { name: `Revoke ${prefix}` }).click();
    expect(await textOf(page.getByRole('status'))).toContain('is revoked');
    expect((await api('GET', '/v1/keys', undefined, key)).httpStatus).toBe(401);
    expect(await page.getByRole('button', { name: `Revoke ${prefix}` }).count()).toBe(0);
  });

  it('enrols an authenticator app for a user: the QR code shows, and the first code confirms it', async () => {
    await page.goto(`${base}/admin/tokens`);
    await screenshot(page, 'console-tokens-empty');
    await page.getByLabel('Username').fill('alice');
    await page.getByRole('button', { name: 'Open' }).click();
    expect(new URL(page.url()).pathname).toBe('/admin/tokens/users/alice');
    await page.getByRole('button', { name: 'Enrol authenticator app' }).click();
    const qr = page.locator('.qr svg');
    await qr.waitFor();
    const box = await qr.boundingBox();
    expect(box?.width).toBeGreaterThan(100);
    const secret = (await textOf(page.locator('code.secret'))).trim();
    await screenshot(page, 'console-token-totp-qr');
    await page.getByLabel('The first code the app shows').fill(totp(base32Decode(secret), Date.now()));
    await page.getByRole('button', { name: 'Confirm app' }).click();
    expect(await textOf(page.getByRole('status'))).toContain('authenticator app of alice is active');
    const tokens = await api('GET', '/v1/users/alice/tokens');
    expect(tokens.items.map((t: { state: string; source: string }) => `${t.source}:${t.state}`)).toEqual([
      'app:active',
    ]);
  });

  it('imports a PSKC file, says why an encrypted one needs its key, assigns and revokes a token', async () => {
    await page.goto(`${base}/admin/tokens`);
    await page.getByLabel('PSKC file').setInputFiles({
      name: 'vendor.pskc.xml',
      mimeType: 'application/pskc+xml',
      buffer: Buffer.from(FIGURE_6),
    });
    await page.getByRole('button', { name: 'Import tokens' }).click();
    expect(await textOf(page.locator('#f-transportKey-error'))).toMatch(/transport key/i);
    await screenshot(page, 'console-tokens-pskc-needs-key');

    await page.getByLabel('PSKC file').setInputFiles({
      name: 'vendor.pskc.xml',
      mimeType: 'application/pskc+xml',
      buffer: Buffer.from(pskcDocument([{ serial: 'WEB-0001' }, { serial: 'WEB-0002', kind: 'totp' }])),
    });
    await page.getByRole('button', { name: 'Import tokens' }).click();
    expect(await textOf(page.getByRole('status'))).toContain('Imported 2 tokens: WEB-0001, WEB-0002');
    expect(await textOf(page.getByRole('row', { name: /WEB-0001/ }))).toContain('unassigned');
    await screenshot(page, 'console-tokens-imported');

    await page.goto(`${base}/admin/tokens/users/bob`);
    await page.getByLabel('Serial number').fill('WEB-0001');
    await page.getByRole('button', { name: 'Assign token' }).click();
    expect(await textOf(page.getByRole('status'))).toContain('WEB-0001 is assigned to bob');
    // The same serial again: the service's reason, beside the field.
    await page.getByLabel('Serial number').fill('WEB-0001');
    await page.getByRole('button', { name: 'Assign token' }).click();
    expect(await textOf(page.locator('#f-serial-error'))).toContain('assigned already');
    expect((await api('GET', '/v1/users/bob/tokens')).items[0].serial).toBe('WEB-0001');

    await page.getByRole('button', { name: 'Revoke WEB-0001' }).click();
    expect(await textOf(page.getByRole('status'))).toContain('revoked');
    expect((await api('GET', '/v1/users/bob/tokens')).items).toEqual([]);
  });

  it('adds an SMS provider whose secret is never shown back, and checks SMTP settings', async () => {
    const secret = 'tok-DO-NOT-SHOW-8f3a';
    await page.goto(`${base}/admin/providers`);
    await screenshot(page, 'console-providers-empty');
    await page.getByRole('link', { name: 'Add an SMS provider' }).click();
    await page.getByLabel('Name', { exact: true }).fill('web-gw');
    await page.getByLabel('url', { exact: true }).fill('not a url');
    await page.getByLabel('token (secret)').fill(secret);
    await page.getByRole('button', { name: 'Save provider' }).click();
    expect(await textOf(page.locator('#f-params-url-error'))).toContain('is not a URL');
    // A failed save does not show the secret back either: it is typed again.
    expect(await page.content()).not.toContain(secret);
    await page.getByLabel('url', { exact: true }).fill('https://sms.example.test/send?to={{to}}');
    await page.getByLabel('token (secret)').fill(secret);
    await page.getByRole('button', { name: 'Save provider' }).click();
    expect(await textOf(page.getByRole('status'))).toContain('Saved');
    expect(await page.content()).not.toContain(secret);
    expect(await page.getByLabel('token (secret)').inputValue()).toBe('');
    await screenshot(page, 'console-provider-saved');

    const shown = await api('GET', '/v1/providers/web-gw');
    expect(shown.params.token).toBe('••••••••');
    // An edit that leaves the secret empty keeps it; the page still never holds it.
    await page.goto(`${base}/admin/providers/web-gw`);
    expect(await page.content()).not.toContain(secret);
    await page.getByLabel('Description (optional)').fill('Primary web gateway');
    await page.getByRole('button', { name: 'Save provider' }).click();
    expect(await textOf(page.getByRole('status'))).toContain('Saved');
    const edited = await api('GET', '/v1/providers/web-gw');
    expect(edited.description).toBe('Primary web gateway');
    expect(edited.params.token).toBe('••••••••');

    await page.goto(`${base}/admin/providers/new/email`);
    await page.getByLabel('Name', { exact: true }).fill('mail');
    await page.getByLabel('from', { exact: true }).fill('Demo login <no-reply@demo.example.test>');
    await page.getByLabel('host (optional)').fill('127.0.0.1');
    await page.getByLabel('password (secret)').fill('smtp-pass');
    await page.getByRole('button', { name: 'Save provider' }).click();
    expect(await textOf(page.locator('#f-params-username-error'))).toContain(
      'username is required with a password',
    );
    await screenshot(page, 'console-provider-smtp-error');
    await page.getByLabel('username (optional)').fill('mailer');
    await page.getByLabel('password (secret)').fill('smtp-pass');
    await page.getByRole('button', { name: 'Save provider' }).click();
    expect(await textOf(page.getByRole('status'))).toContain('Saved');
    expect(await page.content()).not.toContain('smtp-pass');
    expect((await api('GET', '/v1/providers/mail')).params.password).toBe('••••••••');
  });

  it('shows the ceiling message beside a security setting above it, and saves one within', async () => {
    const ceiling = await api(
      'PATCH',
      '/v1/operator/tenants/demo',
      { ceilings: { limits: { perUser: 20 } } },
      stack.json.operatorKey,
    );
    expect(ceiling.httpStatus).toBe(200);
    await page.goto(`${base}/admin/security`);
    const perUser = page.getByLabel('Passcodes per user in a window');
    await perUser.fill('50');
    await page.getByRole('button', { name: 'Save settings' }).click();
    expect(await textOf(page.locator('#f-security-limits-perUser-error'))).toContain(
      "limits.perUser 50 is over the operator's maximum of 20",
    );
    expect(await perUser.inputValue()).toBe('50');
    await screenshot(page, 'console-security-above-ceiling');

    await page.getByLabel('Passcodes per user in a window').fill('7');
    await page.getByRole('button', { name: 'Save settings' }).click();
    expect(await textOf(page.getByRole('status'))).toContain('Saved');
    const settings = await api('GET', '/v1/settings');
    expect(settings.settings['limits.perUser']).toEqual({ value: 7, from: 'tenant' });
    // What was not touched stays a default.
    expect(settings.settings['lockout.maxFailures'].from).toBe('default');
    await screenshot(page, 'console-security-saved');
  });

  it('saves a group policy from its form, and logins follow it as they would after the API', async () => {
    await page.goto(`${base}/admin/policies/groups/new`);
    await page.getByLabel('Name', { exact: true }).fill('Long codes');
    await page.getByLabel('Passcode length').fill('8');
    await page.getByLabel('Message').fill('Your code, no placeholder');
    await page.getByRole('button', { name: 'Save group policy' }).click();
    expect(await textOf(page.locator('#f-passcode-messageTemplate-error'))).toContain('must contain {code}');
    await screenshot(page, 'console-group-policy-error');
    await page.getByLabel('Message').fill('');
    await page.getByRole('button', { name: 'Save group policy' }).click();
    expect(await textOf(page.getByRole('status'))).toContain('Saved');
    const id = new URL(page.url()).pathname.split('/').pop();
    expect(id).toMatch(/^[A-Za-z0-9_-]+$/);
    await screenshot(page, 'console-group-policy-saved');

    const assigned = await api('PATCH', '/v1/users/alice', { groupPolicyId: id });
    expect(assigned.httpStatus, JSON.stringify(assigned)).toBe(200);
    const effective = await api('GET', '/v1/users/alice/effective-settings');
    expect(effective.settings['passcode.length']).toEqual({ value: 8, from: 'group' });
    const before = outbox().length;
    const challenge = await api(
      'POST',
      '/v1/challenges',
      { username: 'alice', client: { name: 'console-settings test' } },
      stack.json.authKey,
    );
    expect(challenge.challengeId).toBeDefined();
    const sms = await until('the login SMS of alice', () =>
      outbox()
        .slice(before)
        .find((m) => m.to === '+4520123456'),
    );
    expect(/code is (\w+)/.exec(sms.text)?.[1]).toHaveLength(8);

    await page.goto(`${base}/admin/policies/integration/new`);
    await page.getByLabel('AD domain').fill('corp.example.test');
    await page.getByLabel('AD group (distinguished name)').fill('CN=VPN Users,DC=corp,DC=example,DC=test');
    await page.getByLabel('User group policy of its members').selectOption(id!);
    await page.getByRole('button', { name: 'Save integration policy' }).click();
    expect(await textOf(page.getByRole('status'))).toContain('Saved');
    await page.goto(`${base}/admin/policies/integration/new`);
    await page.getByLabel('AD domain').fill('corp.example.test');
    await page.getByLabel('AD group (distinguished name)').fill('CN=VPN Users,DC=corp,DC=example,DC=test');
    await page.getByRole('button', { name: 'Save integration policy' }).click();
    expect(await textOf(page.locator('#f-groupDn-error'))).toContain('already exists');
    const mappings = await api('GET', '/v1/integration-policies');
    expect(mappings.items).toHaveLength(1);
    await page.goto(`${base}/admin/policies`);
    await screenshot(page, 'console-policies');
  });

  it('answers 404 to another tenant’s provider, group and integration policy', async () => {
    const made = await api(
      'POST',
      '/v1/operator/tenants',
      { id: 'initech', name: 'Initech', defaultCountry: 'DK', userLimit: 5 },
      stack.json.operatorKey,
    );
    const theirs = (method: string, path: string, body?: unknown) => api(method, path, body, made.adminKey);
    await theirs('POST', '/v1/providers', {
      name: 'initech-gw',
      kind: 'sms_web',
      params: { url: 'https://sms.initech.test/send', token: 'initech-secret' },
    });
    const group = await theirs('POST', '/v1/group-policies', {
      name: 'Initech group',
      loadBalancingPolicyId: null,
      channels: ['sms_modem'],
      secondaryPhone: false,
      selfService: { enabled: false, fields: [] },
    });
    const mapping = await theirs('POST', '/v1/integration-policies', {
      domain: 'initech.test',
      groupDn: 'CN=Initech,DC=initech,DC=test',
      groupPolicyId: group.id,
      priority: 1,
    });
    expect([group.id, mapping.id].every(Boolean)).toBe(true);
    for (const path of [
      '/admin/providers/initech-gw',
      `/admin/policies/groups/${group.id}`,
      `/admin/policies/integration/${mapping.id}`,
    ]) {
      const response = await page.goto(`${base}${path}`);
      expect(response?.status(), path).toBe(404);
      expect(await page.content()).not.toMatch(/Initech|initech-secret/);
    }
    // A post naming their ids changes nothing of theirs either.
    await page.goto(`${base}/admin/keys`);
    const token = await page.locator('input[name="_csrf"]').first().inputValue();
    const statuses = await page.evaluate(
      async ({ csrf, id }) =>
        Promise.all(
          [`/admin/policies/groups/${id}/delete`, '/admin/providers/initech-gw/delete'].map((path) =>
            fetch(path, { method: 'POST', headers: { 'x-csrf-token': csrf } }).then((r) => r.status),
          ),
        ),
      { csrf: token, id: group.id },
    );
    expect(statuses).toEqual([404, 404]);
    expect((await theirs('GET', `/v1/group-policies/${group.id}`)).httpStatus).toBe(200);
    expect((await theirs('GET', '/v1/providers/initech-gw')).httpStatus).toBe(200);
  });

  it('refuses every settings post without the CSRF token', async () => {
    await page.goto(`${base}/admin/keys`);
    const before = (await api('GET', '/v1/keys')).keys.length;
    const statuses = await page.evaluate(async () => {
      const post = (path: string, body: string) =>
        fetch(path, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body,
        }).then((r) => r.status);
      return Promise.all([
        post('/admin/keys', 'kind=admin'),
        post('/admin/security', 'security.limits.perUser=5'),
        post('/admin/providers/new/sms_web', 'name=evil&params.url=https%3A%2F%2Fevil.example'),
        post('/admin/tokens/users/alice/totp', ''),
        post('/admin/policies/groups/new', 'name=evil&channels=sms_modem'),
        post('/admin/policies/integration/new', 'domain=x.test'),
      ]);
    });
    expect(statuses).toEqual([403, 403, 403, 403, 403, 403]);
    expect((await api('GET', '/v1/keys')).keys.length).toBe(before);
    expect((await api('GET', '/v1/providers')).items.map((p: { name: string }) => p.name)).not.toContain(
      'evil',
    );
  });

  it('lets an auditor see the settings pages but change none of it', async () => {
    const accounts = adminAccounts({
      dynamo: localDynamo(stack.dynamoEndpoint),
      table: TABLE_NAME,
      log: createLogger({}, { level: 'error' }),
      cipher: stack.cipher,
    });
    const made = await accounts.create('test', {
      email: 'auditor-settings@demo.example.test',
      role: 'auditor',
      tenantId: 'demo',
    });
    const context = await browser.newContext();
    const auditor = await signIn(context, {
      email: made.account.email,
      password: made.password,
      totpSecret: made.totp.secret,
    });
    const buttons = {
      '/admin/keys': 'Create key',
      '/admin/tokens': 'Import tokens',
      '/admin/tokens/users/alice': 'Enrol authenticator app',
      '/admin/providers/web-gw': 'Save provider',
      '/admin/security': 'Save settings',
      '/admin/policies/groups/new': 'Save group policy',
      '/admin/policies/integration/new': 'Save integration policy',
    };
    for (const [path, button] of Object.entries(buttons)) {
      const response = await auditor.goto(`${base}${path}`);
      expect(response?.status(), path).toBe(200);
      expect(await auditor.getByRole('button', { name: button }).count(), path).toBe(0);
    }
    await auditor.goto(`${base}/admin/keys`);
    expect(await auditor.getByRole('button', { name: /^Revoke/ }).count()).toBe(0);
    await screenshot(auditor, 'console-auditor-keys');
    const token = await auditor.locator('input[name="_csrf"]').first().inputValue();
    const statuses = await auditor.evaluate(async (csrf) => {
      const post = (path: string, body: string) =>
        fetch(path, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-csrf-token': csrf },
          body,
        }).then((r) => r.status);
      return Promise.all([
        post('/admin/keys', 'kind=admin'),
        post('/admin/security', 'security.limits.perUser=5'),
        post('/admin/providers/web-gw/delete', ''),
        post('/admin/tokens/users/alice/totp', ''),
        post('/admin/policies/groups/new', 'name=evil&channels=sms_modem'),
      ]);
    }, token);
    expect(statuses).toEqual([403, 403, 403, 403, 403]);
    expect((await api('GET', '/v1/providers/web-gw')).httpStatus).toBe(200);
    expect((await api('GET', '/v1/settings')).settings['limits.perUser'].value).toBe(7);
    await context.close();
  });

  it('keeps every settings page well under 100 KB transferred', async () => {
    const sizes: Record<string, number> = {};
    for (const path of [
      '/admin/keys',
      '/admin/tokens',
      '/admin/providers',
      '/admin/providers/new/sms_web',
      '/admin/security',
      '/admin/policies',
      '/admin/policies/groups/new',
    ]) {
      const fresh = await admin.newPage();
      const bodies: Array<Promise<number>> = [];
      fresh.on('response', (r) => bodies.push(r.body().then((b) => b.length)));
      const response = await fresh.goto(`${base}${path}`, { waitUntil: 'networkidle' });
      expect(response?.status(), path).toBe(200);
      sizes[path] = (await Promise.all(bodies)).reduce((a, b) => a + b, 0);
      await fresh.close();
    }
    console.info('console settings pages, bytes (HTML, script and style):', sizes);
    for (const [path, bytes] of Object.entries(sizes)) expect(bytes, path).toBeLessThan(100 * 1024);
  });
});
