/**
 * The local stack (the same HTTP API an agent reaches) with a fresh tenant per test, and the agent-side AD
 * configuration that points a connector at a Samba DC and that tenant's sync key.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type AdConfig, AdConfig as AdConfigSchema } from '../../../edge-agent/ad/config.ts';
import { createLogger } from '../../../functions/adapters/log.ts';
import { type LocalStack, startLocalStack } from '../../../functions/local/stack.ts';
import type { SambaDc } from '../../support/samba.ts';

export async function startStack(): Promise<LocalStack> {
  return startLocalStack({ edge: false, log: createLogger({}, { level: 'error' }) });
}

export interface TestTenant {
  id: string;
  adminKey: string;
  syncKey: string;
  // biome-ignore lint/suspicious/noExplicitAny: replies are asserted field by field in the tests
  call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
  /** A group policy and the integration policy mapping `groupDn` to it. */
  mapGroup(domain: string, groupDn: string, priority: number, name?: string): Promise<string>;
  // biome-ignore lint/suspicious/noExplicitAny: the admin API's user view
  users(): Promise<any[]>;
}

let tenants = 0;
export async function newTenant(stack: LocalStack, userLimit = 50_000): Promise<TestTenant> {
  const api = stack.json.apiUrl;
  const id = `ad${process.pid}x${++tenants}`;
  const req = async (key: string, method: string, p: string, body?: unknown) => {
    const res = await fetch(`${api}${p}`, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body !== undefined && { 'content-type': 'application/json' }),
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
  const created = await req(stack.json.operatorKey, 'POST', '/v1/operator/tenants', {
    id,
    name: `AD test ${id}`,
    defaultCountry: 'DK',
    userLimit,
  });
  if (created.status !== 201) throw new Error(`tenant: ${created.status} ${JSON.stringify(created.body)}`);
  const adminKey = created.body.adminKey as string;
  const minted = await req(adminKey, 'POST', '/v1/keys', { kind: 'sync' });
  if (minted.status !== 201) throw new Error(`sync key: ${minted.status} ${JSON.stringify(minted.body)}`);
  const call = (method: string, p: string, body?: unknown) => req(adminKey, method, p, body);
  return {
    id,
    adminKey,
    syncKey: minted.body.key as string,
    call,
    async mapGroup(domain, groupDn, priority, name = groupDn.slice(3, 60)) {
      const gp = await call('POST', '/v1/group-policies', {
        name,
        loadBalancingPolicyId: null,
        channels: ['sms_modem'],
        selfService: { enabled: false, fields: [] },
        secondaryPhone: false,
      });
      if (gp.status !== 201) throw new Error(`group policy: ${gp.status} ${JSON.stringify(gp.body)}`);
      const ip = await call('POST', '/v1/integration-policies', {
        domain,
        groupDn,
        groupPolicyId: gp.body.id,
        priority,
      });
      if (ip.status !== 201) throw new Error(`integration policy: ${ip.status} ${JSON.stringify(ip.body)}`);
      return gp.body.id as string;
    },
    async users() {
      const all = [];
      let cursor: string | undefined;
      do {
        const page = await call(
          'GET',
          `/v1/users?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        );
        if (page.status !== 200) throw new Error(`users: ${page.status} ${JSON.stringify(page.body)}`);
        all.push(...page.body.users);
        cursor = page.body.cursor ?? undefined;
      } while (cursor);
      return all;
    },
  };
}

export function domainConfig(dc: SambaDc, groups: string[], extra: Record<string, unknown> = {}) {
  return {
    name: dc.dnsDomain,
    netbios: dc.netbios,
    dcs: [dc.ldapsUrl],
    caFile: dc.caFile,
    baseDn: dc.baseDn,
    bindDn: dc.adminDn,
    bindPassword: dc.adminPassword,
    groups,
    ...extra,
  };
}

export function adConfig(
  domains: ReturnType<typeof domainConfig>[],
  sync: { apiUrl: string; key: string; batchSize?: number } | undefined,
  extra: Record<string, unknown> = {},
): AdConfig {
  return AdConfigSchema.parse({
    domains,
    ...(sync && { sync: { ...sync, intervalMinutes: 0 } }),
    ...extra,
  });
}

const stateDirs: string[] = [];
process.once('exit', () => {
  for (const dir of stateDirs) rmSync(dir, { recursive: true, force: true });
});
/** A fresh agent state folder, removed when the test process ends. */
export const stateDir = () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'smspass-ad-state-'));
  stateDirs.push(dir);
  return dir;
};
