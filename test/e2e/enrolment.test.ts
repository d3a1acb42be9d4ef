/**
 * Agent enrolment end to end on the local stack: an admin registers an agent, the real `edge-agent enroll`
 * (a child process) trades the token for a certificate and writes its configuration, `edge-agent run` connects
 * over TLS with that certificate, and a login's SMS goes out through the new agent's simulated modem. Deleting
 * the agent then ends its session and the broker refuses it from then on.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../edge-agent/config.ts';
import { type RunningSimulator, startSimulator } from '../../edge-agent/simulator/server.ts';
import { createLogger } from '../../functions/adapters/log.ts';
import { type LocalStack, startLocalStack } from '../../functions/local/stack.ts';

const CLI = path.join(import.meta.dirname, '..', '..', 'edge-agent', 'cli.ts');

let stack: LocalStack;
let sim: RunningSimulator;
let dir: string;
let outbox: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'enrol-e2e-'));
  outbox = path.join(dir, 'outbox.jsonl');
  // No demo agent: the only agent of the tenant is the one this test enrols.
  stack = await startLocalStack({ edge: false, log: createLogger({}, { level: 'error' }) });
  sim = await startSimulator({ name: 'branch-modem', outboxPath: outbox, sendDelayMs: 1 });
});
afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await sim?.close();
  await stack?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const api = (key: string, route: string, init: { method?: string; body?: unknown } = {}) =>
  fetch(`${stack.json.apiUrl}${route}`, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    ...(init.body !== undefined && { body: JSON.stringify(init.body) }),
  });

function cli(args: string[]): {
  child: ChildProcess;
  done: Promise<{ code: number | null; out: string; err: string }>;
} {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const done = new Promise<{ code: number | null; out: string; err: string }>((resolve) =>
    child.once('exit', (code) => resolve({ code, out, err })),
  );
  return { child, done };
}

describe('enrolling an edge agent on the local stack', () => {
  it('registers, enrols with the real CLI, runs, sends a login’s SMS, and is cut off when deleted', async () => {
    const { adminKey, authKey, tenantId } = stack.json;
    const registered = await api(adminKey, '/v1/agents', {
      method: 'POST',
      body: { agentId: 'branch-1', displayName: 'Branch 1', modemGroups: ['default'] },
    });
    expect(registered.status).toBe(201);
    const agent = (await registered.json()) as { thingName: string; enrolment: { token: string } };
    expect(agent.thingName).toBe(`local:${tenantId}:branch-1`);

    const config = path.join(dir, 'etc', 'config.yaml');
    const enrolled = await cli([
      'enroll',
      '--url',
      stack.json.apiUrl,
      '--token',
      agent.enrolment.token,
      '--config',
      config,
      '--modem',
      `default=${sim.url}`,
    ]).done;
    expect(enrolled, enrolled.err).toMatchObject({ code: 0 });
    expect(enrolled.out).toContain(`enrolled as local:${tenantId}:branch-1`);
    // The private key stays on the box, readable by its owner only.
    const key = path.join(dir, 'etc', 'agent.key');
    expect(statSync(key).mode & 0o777).toBe(0o600);
    expect(readFileSync(key, 'utf8')).toContain('PRIVATE KEY');
    const written = await loadConfig(config);
    expect(written).toMatchObject({
      stage: 'local',
      tenantId,
      agentId: 'branch-1',
      mqtt: { url: stack.broker.tlsUrl },
    });

    // The token was single use.
    const again = await cli([
      'enroll',
      '--url',
      stack.json.apiUrl,
      '--token',
      agent.enrolment.token,
      '--config',
      path.join(dir, 'again', 'config.yaml'),
      '--modem',
      `default=${sim.url}`,
    ]).done;
    expect(again.code).toBe(1);
    expect(again.err).toContain('token_used');

    const run = cli(['run', '--config', config]);
    await until('the enrolled agent online with a healthy modem', async () => {
      const shown = (await (await api(adminKey, '/v1/agents/branch-1')).json()) as {
        state: string;
        modems: Array<{ healthy: boolean; history: unknown[] }>;
      };
      return shown.state === 'online' && shown.modems.length === 1 && shown.modems[0]!.healthy;
    });

    const created = await api(authKey, '/v1/challenges', {
      method: 'POST',
      body: { username: 'alice', client: { ip: '203.0.113.7', name: 'vpn-gw-1' } },
    });
    expect(created.status).toBe(201);
    const { challengeId } = (await created.json()) as { challengeId: string };
    const sms = await until('the SMS at the new agent’s modem', () => {
      let lines: string[] = [];
      try {
        lines = readFileSync(outbox, 'utf8').trim().split('\n');
      } catch {
        return undefined;
      }
      return lines
        .map((l) => JSON.parse(l) as { modem: string; to: string; text: string })
        .find((m) => m.to === '+4520123456');
    });
    expect(sms.modem).toBe('branch-modem');
    const code = /code is (\w+)/.exec(sms.text)?.[1];
    const verified = await api(authKey, `/v1/challenges/${challengeId}/verify`, {
      method: 'POST',
      body: { passcode: code },
    });
    expect(await verified.json()).toEqual({ result: 'accept' });

    // Delete: the certificate is revoked, the live session ends, and reconnects are refused.
    const refusedBefore = stack.broker.stats.refusedConnects;
    expect((await api(adminKey, '/v1/agents/branch-1', { method: 'DELETE' })).status).toBe(200);
    await until('the broker to refuse the deleted agent’s reconnect', () =>
      stack.broker.stats.refusedConnects > refusedBefore ? true : undefined,
    );
    const clients = (stack.broker.aedes as unknown as { clients: Record<string, unknown> }).clients;
    expect(Object.keys(clients)).not.toContain(`local:${tenantId}:branch-1`);
    run.child.kill('SIGTERM');
    await run.done;

    const audit = (await (await api(adminKey, '/v1/audit?limit=50')).json()) as {
      entries: Array<{ action: string; target: string }>;
    };
    const actions = audit.entries.filter((e) => e.target === 'agent:branch-1').map((e) => e.action);
    expect(actions).toEqual(
      expect.arrayContaining([
        'agent.registered',
        'agent.enrolled',
        'agent.deleted',
        'agent.certificate_revoked',
      ]),
    );
  });
});
