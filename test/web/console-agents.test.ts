/**
 * The console's agents, modem groups, logs and AD sync pages in a real browser (Debian's chromium) against the
 * local stack. A tenant admin registers an agent and sees its enrolment command once; the agent enrols with
 * that token, connects over TLS and reports its modem through the broker, the events bridge, the queue and the
 * events function, and its page charts the signal; its disconnect lands in the service-status log. The logs
 * filter and page, a sync run shows its rejected user, another tenant's agent answers 404, and an auditor can
 * neither register nor delete. Every flow leaves a screenshot in test-artifacts/.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeKeyAndCsr } from '../../edge-agent/enroll/csr.ts';
import { createLogger } from '../../functions/adapters/log.ts';
import type { ModemStatusEvent } from '../../functions/contracts/index.ts';
import { eventsTopic } from '../../functions/contracts/topics.ts';
import { base32Decode, totp } from '../../functions/core/channels/totp.ts';
import { localDynamo } from '../../functions/local/aws-local.ts';
import type { ConsoleLogin } from '../../functions/local/seed-console.ts';
import { type LocalStack, startLocalStack, TABLE_NAME } from '../../functions/local/stack.ts';
import { adminAccounts } from '../../functions/web-deps.ts';
import {
  ARTIFACTS,
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
let admin: BrowserContext;
let page: Page;
const clients: MqttClient[] = [];

const codeOf = (login: ConsoleLogin) => totp(base32Decode(login.totpSecret), Date.now());

async function signIn(context: BrowserContext, login: ConsoleLogin): Promise<Page> {
  const p = await context.newPage();
  await p.goto(`${base}/admin`);
  await p.getByLabel('E-mail address').fill(login.email);
  await p.getByLabel('Password').fill(login.password);
  await p.getByRole('button', { name: 'Continue' }).click();
  await p.getByLabel('Code').fill(codeOf(login));
  await p.getByRole('button', { name: 'Sign in' }).click();
  await p.waitForLoadState('load');
  return p;
}

// biome-ignore lint/suspicious/noExplicitAny: replies are read field by field
type Reply = { status: number; body: any };

async function api(route: string, key: string, method = 'GET', body?: unknown): Promise<Reply> {
  const r = await fetch(`${base}${route}`, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : undefined };
}

async function textOf(locator: Locator): Promise<string> {
  await locator.first().waitFor({ timeout: 10_000 });
  return (await locator.first().textContent()) ?? '';
}

/** The HTML of the page just loaded plus the stylesheet and script it links: what a first visit transfers. */
async function pageBytes(p: Page, html: string): Promise<number> {
  const assets = await p.$$eval('link[rel=stylesheet], script[src]', (els) =>
    els.map((e) => (e as HTMLLinkElement).href || (e as HTMLScriptElement).src),
  );
  let total = Buffer.byteLength(html);
  for (const url of assets) total += (await (await fetch(url)).arrayBuffer()).byteLength;
  return total;
}

const report = (
  signal: number | null,
  healthy: boolean,
  lastError: string | null = null,
): ModemStatusEvent => ({
  v: 1,
  type: 'modem.status',
  at: new Date().toISOString(),
  modem: 'usb-1',
  group: 'default',
  healthy,
  signal,
  registration: healthy ? 'home' : 'searching',
  operator: 'TDC',
  queue: healthy ? 1 : 4,
  sent: 10,
  failed: healthy ? 0 : 1,
  retries: healthy ? 2 : 5,
  errors: healthy ? 0 : 1,
  lastError,
});

describe.skipIf(!chromium.available)('the agents, logs and AD sync pages in chromium', () => {
  const sizes: Record<string, number> = {};

  beforeAll(async () => {
    stack = await startLocalStack({ log: createLogger({}, { level: 'error' }) });
    base = stack.json.apiUrl;
    browser = await launchBrowser();
    admin = await browser.newContext();
    page = await signIn(admin, stack.json.console.tenantAdmin);
  }, 120_000);
  afterAll(async () => {
    writeFileSync(join(ARTIFACTS, 'console-agents-page-bytes.json'), `${JSON.stringify(sizes, null, 2)}\n`);
    await Promise.all(clients.map((c) => c.endAsync(true)));
    await browser?.close();
    await stack?.stop();
  });

  let token = '';

  it('registers an agent and shows its enrolment command once', async () => {
    const listed = await page.goto(`${base}/admin/agents`);
    sizes.agents = await pageBytes(page, await listed!.text());
    await page.getByLabel('Agent id').fill('branch-7');
    await page.getByLabel('Display name (optional)').fill('Branch seven');
    await page.getByRole('button', { name: 'Register agent' }).click();
    const command = await textOf(page.locator('#enrol-command'));
    expect(command).toMatch(
      /^node \/opt\/smspass-edge-agent\/index\.mjs enroll --url http:\/\/127\.0\.0\.1:\d+ --token sp\.enrol\.local\.demo\.branch-7\.[A-Za-z0-9_-]{32} --config /,
    );
    token = /--token (\S+)/.exec(command)![1]!;
    expect(await textOf(page.getByRole('row', { name: /Branch seven/ }))).toContain('waiting for enrolment');
    await screenshot(page, 'console-agents-registered');
    // Shown once: the list shows no token when loaded again.
    await page.goto(`${base}/admin/agents`);
    expect(await page.content()).not.toContain(token);
    // A taken id is refused beside the field.
    await page.getByLabel('Agent id').fill('branch-7');
    await page.getByRole('button', { name: 'Register agent' }).click();
    expect(await textOf(page.locator('#f-agentId-error'))).toMatch(/exists already/);
  });

  it("charts a modem's signal from reports that come through the broker and the events function", async () => {
    const thingName = 'local:demo:branch-7';
    const { keyPem, csrPem } = makeKeyAndCsr(thingName);
    const enrolled = await fetch(`${base}/v1/enrolments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token, csr: csrPem }),
    });
    expect(enrolled.status).toBe(201);
    const reply = (await enrolled.json()) as { mqtt: { certificatePem: string; caPem: string } };
    const agent = await mqtt.connectAsync(stack.broker.tlsUrl!, {
      clientId: thingName,
      key: keyPem,
      cert: reply.mqtt.certificatePem,
      ca: reply.mqtt.caPem,
      protocolVersion: 4,
      reconnectPeriod: 0,
    });
    clients.push(agent);
    const topic = eventsTopic({ stage: 'local', tenantId: 'demo', agentId: 'branch-7' });
    const reports = [
      report(14, true),
      report(18, true),
      report(22, true),
      report(null, false, '+CMS ERROR: 38'),
      report(9, true),
      report(16, true),
      report(25, true),
      report(21, true),
    ];
    const history = async () =>
      ((await api('/v1/agents/branch-7', stack.json.adminKey)).body.modems?.[0]?.history ?? []) as unknown[];
    for (const [i, r] of reports.entries()) {
      await agent.publishAsync(topic, JSON.stringify({ ...r, at: new Date().toISOString() }), { qos: 1 });
      // one report at a time: each is its own point, heard at its own time
      await until(`report ${i + 1} in the history`, async () =>
        (await history()).length > i ? true : undefined,
      );
    }

    const shown = await page.goto(`${base}/admin/agents/branch-7`);
    sizes.agentDetail = await pageBytes(page, await shown!.text());
    const chart = page.getByRole('img', { name: /Signal strength of usb-1/ });
    expect(await chart.getAttribute('data-points')).toBe('8');
    expect(await page.locator('svg.chart polyline').count()).toBe(2);
    const facts = await textOf(page.locator('section.modem dl'));
    expect(facts).toContain('21 (-71 dBm, excellent)');
    expect(facts).toContain('TDC');
    expect(facts).toContain('home');
    expect(await textOf(page.locator('figure.signal figcaption'))).toMatch(
      /8 reports .* lowest 9, highest 25/,
    );
    await screenshot(page, 'console-agent-signal-chart');

    // Rename, through the same service as PATCH /v1/agents/{id}.
    await page.getByLabel('Display name', { exact: true }).fill('Branch 7, Aarhus');
    await page.getByRole('button', { name: 'Rename' }).click();
    expect(await textOf(page.getByRole('status'))).toContain('Renamed to “Branch 7, Aarhus”');

    // The agent goes away: the lifecycle event marks it offline and logs why.
    await agent.endAsync();
    await until('the disconnect in the service-status log', async () => {
      const events = (await api('/v1/service-events?agentId=branch-7', stack.json.adminKey)).body
        .events as Array<{
        type: string;
      }>;
      return events.some((e) => e.type === 'agent.disconnected') ? true : undefined;
    });
    await page.goto(`${base}/admin/agents`);
    const first = page.locator('tbody tr').first();
    expect(await first.getAttribute('class')).toBe('offline');
    expect(await textOf(first)).toContain('offline');
    expect(await textOf(page.getByRole('alert'))).toMatch(/1 agent is offline: Branch 7, Aarhus/);
    await screenshot(page, 'console-agents-offline-first');
  });

  it('shows the service-status log with reasons, filtered to what went down', async () => {
    const shown = await page.goto(`${base}/admin/logs/service-status`);
    sizes.serviceStatus = await pageBytes(page, await shown!.text());
    const rows = page.locator('tbody tr');
    const all = (await rows.allTextContents()).join('\n');
    for (const what of [
      'agent connected',
      'agent disconnected',
      'modem up',
      'modem blocked',
      'modem recovered',
    ])
      expect(all).toContain(what);
    expect(all).toContain('+CMS ERROR: 38');
    expect(all).toContain('CLIENT_INITIATED_DISCONNECT');
    await page.getByLabel('Agent').selectOption('branch-7');
    await page.getByLabel('Event').selectOption('down');
    await page.getByRole('button', { name: 'Filter' }).click();
    const down = await page.locator('tbody tr').allTextContents();
    expect(down).toHaveLength(2);
    for (const row of down) expect(row).toMatch(/agent disconnected|modem blocked/);
    expect(new URL(page.url()).searchParams.get('type')).toBe('down');
    await screenshot(page, 'console-service-status-down');
  });

  it('filters the message log, with masked numbers', async () => {
    for (let i = 0; i < 2; i++)
      expect(
        (
          await api('/v1/challenges', stack.json.authKey, 'POST', {
            username: 'alice',
            client: { ip: '203.0.113.7', name: 'vpn-gw-1' },
          })
        ).status,
      ).toBe(201);
    await until('the messages in the log', async () => {
      const got = await api('/v1/message-log?username=alice', stack.json.adminKey);
      return got.body.messages.length >= 2 ? true : undefined;
    });
    const shown = await page.goto(`${base}/admin/logs/messages`);
    sizes.messages = await pageBytes(page, await shown!.text());
    await page.getByLabel('Username starts with').fill('ali');
    await page.getByRole('button', { name: 'Filter' }).click();
    const rows = await page.locator('tbody tr').allTextContents();
    expect(rows.length).toBeGreaterThanOrEqual(2);
    for (const row of rows) expect(row).toContain('alice');
    expect(rows.join('\n')).toContain('+45 •• •• •• 56');
    expect(await page.content()).not.toContain('+4520123456');
    await screenshot(page, 'console-logs-messages');
    // A range that ended before anything was sent: the empty state says the filters found nothing.
    await page.getByLabel('From (UTC)').fill('2020-01-01');
    await page.getByLabel('To (UTC)').fill('2020-01-31');
    await page.getByRole('button', { name: 'Filter' }).click();
    expect(await textOf(page.locator('.empty'))).toMatch(/No messages match these filters/);
    // A range that ends before it starts is refused beside the field.
    await page.getByLabel('From (UTC)').fill('2020-02-01');
    await page.getByRole('button', { name: 'Filter' }).click();
    expect(await textOf(page.locator('#f-to-error'))).toMatch(/on or after/);
  });

  it('pages the audit log with its cursor, keeping the filter', async () => {
    for (let i = 0; i < 30; i++)
      expect(
        (
          await api('/v1/modem-groups', stack.json.adminKey, 'POST', {
            name: `bulk-${String(i).padStart(2, '0')}`,
          })
        ).status,
      ).toBe(201);
    const shown = await page.goto(`${base}/admin/logs/audit`);
    sizes.audit = await pageBytes(page, await shown!.text());
    await page.getByLabel('Action starts with').fill('modem_group.created');
    await page.getByRole('button', { name: 'Filter' }).click();
    const seen = new Set<string>();
    let pages = 0;
    for (;;) {
      pages++;
      const rows = await page.locator('tbody tr').allTextContents();
      for (const row of rows) {
        expect(row).toContain('modem_group.created');
        seen.add(/bulk-\d\d/.exec(row)?.[0] ?? row);
      }
      const next = page.getByRole('link', { name: 'Next page →' });
      if ((await next.count()) === 0) break;
      expect(new URL((await next.getAttribute('href'))!, base).searchParams.get('action')).toBe(
        'modem_group.created',
      );
      if (pages === 1) await screenshot(page, 'console-logs-audit-page-1');
      await next.click();
      await page.waitForLoadState('load');
    }
    expect(pages).toBeGreaterThanOrEqual(2);
    expect(await page.getByRole('link', { name: '← Newest' }).count()).toBe(1);
    expect([...seen].filter((s) => /bulk-\d\d/.test(s))).toHaveLength(30);
    await screenshot(page, 'console-logs-audit-last-page');

    // A cursor no service handed out (an old or edited link): the newest entries, and a word why.
    for (const log of ['messages', 'service-status', 'audit']) {
      const stale = await page.goto(`${base}/admin/logs/${log}?cursor=bm90LWEtY3Vyc29y`);
      expect(stale?.status(), log).toBe(200);
      expect(await textOf(page.getByRole('status')), log).toMatch(/no longer valid/);
    }

    // The groups' page: each group with the agents serving it and their modems' health.
    await page.goto(`${base}/admin/modem-groups`);
    expect(await textOf(page.getByRole('row', { name: /^default/ }))).toMatch(/edge-1.*online/);
    await page.getByLabel('Name', { exact: true }).fill('bulk-00');
    await page.getByRole('button', { name: 'Create modem group' }).click();
    expect(await textOf(page.locator('#f-name-error'))).toMatch(/exists already/);
    await screenshot(page, 'console-modem-groups');
  });

  it('shows a sync run with its rejected user and why', async () => {
    const sync = stack.json.syncKey;
    const run = (await api('/v1/sync/runs', sync, 'POST', { mode: 'delta' })).body.runId as string;
    const batch = await api(`/v1/sync/runs/${run}/users`, sync, 'PUT', {
      users: [
        {
          id: '0b7c1e2d-3f4a-4b5c-8d6e-7f8091a2b3c4',
          username: 'dora',
          domain: 'corp.example.test',
          mobile: '+999',
        },
        {
          id: '1b7c1e2d-3f4a-4b5c-8d6e-7f8091a2b3c5',
          username: 'erin',
          domain: 'corp.example.test',
          mobile: '+4520998877',
        },
      ],
    });
    expect(batch.body.rejected).toEqual([
      { id: '0b7c1e2d-3f4a-4b5c-8d6e-7f8091a2b3c4', reason: 'invalid_phone' },
    ]);
    expect((await api(`/v1/sync/runs/${run}/complete`, sync, 'POST')).status).toBe(200);

    const shown = await page.goto(`${base}/admin/sync-runs`);
    sizes.syncRuns = await pageBytes(page, await shown!.text());
    const row = page.locator('tbody tr').first();
    expect((await row.locator('td').allTextContents()).slice(1)).toEqual([
      'delta',
      'completed',
      '1',
      '0',
      '0',
      '1',
    ]);
    await screenshot(page, 'console-sync-runs');
    await row.getByRole('link').click();
    await page.waitForLoadState('load');
    const rejected = await textOf(page.getByRole('row', { name: /dora/ }));
    expect(rejected).toContain('invalid_phone');
    expect(rejected).toContain('not a valid number');
    await screenshot(page, 'console-sync-run-rejected');
    expect((await page.goto(`${base}/admin/sync-runs/${'x'.repeat(20)}`))?.status()).toBe(404);
  });

  it("answers 404 for another tenant's agent, to look at or to delete", async () => {
    const other = await api('/v1/operator/tenants', stack.json.operatorKey, 'POST', {
      id: 'initech',
      name: 'Initech',
      defaultCountry: 'DK',
      userLimit: 5,
    });
    expect(
      (
        await api('/v1/agents', other.body.adminKey, 'POST', {
          agentId: 'initech-box',
          modemGroups: ['default'],
        })
      ).status,
    ).toBe(201);
    const response = await page.goto(`${base}/admin/agents/initech-box`);
    expect(response?.status()).toBe(404);
    expect(await page.content()).not.toContain('initech');
    await screenshot(page, 'console-agent-other-tenant-404');
    await page.goto(`${base}/admin/agents`);
    const csrf = await page.locator('input[name="_csrf"]').first().inputValue();
    const status = await page.evaluate(async (token) => {
      const r = await fetch('/admin/agents/initech-box/delete', {
        method: 'POST',
        headers: { 'x-csrf-token': token },
      });
      return r.status;
    }, csrf);
    expect(status).toBe(404);
    expect((await api('/v1/agents/initech-box', other.body.adminKey)).status).toBe(200);
  });

  it('lets a tenant admin delete an agent after confirming', async () => {
    expect(
      (
        await api('/v1/agents', stack.json.adminKey, 'POST', {
          agentId: 'branch-8',
          modemGroups: ['default'],
        })
      ).status,
    ).toBe(201);
    await page.goto(`${base}/admin/agents/branch-8`);
    page.once('dialog', (dialog) => {
      expect(dialog.message()).toMatch(/Delete agent branch-8\?/);
      void dialog.accept();
    });
    await page.getByRole('button', { name: 'Delete agent' }).click();
    await page.waitForURL(/\/admin\/agents\?deleted=branch-8$/);
    expect(await textOf(page.getByRole('status'))).toMatch(/Agent “branch-8” was deleted/);
    expect((await api('/v1/agents/branch-8', stack.json.adminKey)).status).toBe(404);
  });

  it('lets an auditor see agents but neither register nor delete one', async () => {
    const accounts = adminAccounts({
      dynamo: localDynamo(stack.dynamoEndpoint),
      table: TABLE_NAME,
      log: createLogger({}, { level: 'error' }),
      cipher: stack.cipher,
    });
    const made = await accounts.create('test', {
      email: 'auditor-agents@demo.example.test',
      role: 'auditor',
      tenantId: 'demo',
    });
    const context = await browser.newContext();
    const auditor = await signIn(context, {
      email: made.account.email,
      password: made.password,
      totpSecret: made.totp.secret,
    });
    await auditor.goto(`${base}/admin/agents`);
    expect(await auditor.getByRole('link', { name: 'Branch 7, Aarhus' }).count()).toBe(1);
    expect(await auditor.getByRole('button', { name: 'Register agent' }).count()).toBe(0);
    await auditor.goto(`${base}/admin/agents/branch-7`);
    expect(await auditor.getByRole('img', { name: /Signal strength of usb-1/ }).count()).toBe(1);
    expect(await auditor.getByRole('button', { name: 'Delete agent' }).count()).toBe(0);
    expect(await auditor.getByRole('button', { name: 'Rename' }).count()).toBe(0);
    await screenshot(auditor, 'console-agent-auditor-read-only');
    const csrf = await auditor.locator('input[name="_csrf"]').first().inputValue();
    const statuses = await auditor.evaluate(async (token) => {
      const post = (url: string, body: string) =>
        fetch(url, {
          method: 'POST',
          headers: { 'x-csrf-token': token, 'content-type': 'application/x-www-form-urlencoded' },
          body,
        }).then((r) => r.status);
      return [
        await post('/admin/agents', 'agentId=sneaky&modemGroups=default'),
        await post('/admin/agents/branch-7/delete', ''),
        await post('/admin/modem-groups', 'name=sneaky'),
      ];
    }, csrf);
    expect(statuses).toEqual([403, 403, 403]);
    expect((await api('/v1/agents/branch-7', stack.json.adminKey)).status).toBe(200);
    expect((await api('/v1/agents/sneaky', stack.json.adminKey)).status).toBe(404);
    await context.close();
  });

  it('keeps every page well under 100 KB, stylesheet and script included', () => {
    expect(Object.keys(sizes).length).toBeGreaterThanOrEqual(6);
    for (const [name, bytes] of Object.entries(sizes)) expect(bytes, name).toBeLessThan(100_000);
  });
});
