/** `edge-agent ad-test --config FILE` against Samba: binds, counts, shows what a sync would send, sends nothing. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../../edge-agent/cli.ts';
import { type SambaDc, sambaAvailable, startSambaDc } from '../../support/samba.ts';
import { domainConfig } from './support.ts';

const runs = sambaAvailable(it);

describe.skipIf(!runs)('edge-agent ad-test', () => {
  let dc: SambaDc;
  let dir: string;
  let api: http.Server;
  let requests = 0;
  let groups: string[];

  beforeAll(async () => {
    dc = await startSambaDc({
      users: [
        { name: 'frank', mobile: '+4520555666' },
        { name: 'gina' },
        { name: 'hal', mobile: '+4520555777', disabled: true },
      ],
      groups: [
        { name: 'VPN Users', members: ['frank', 'hal', 'Staff'] },
        { name: 'Staff', members: ['gina'] },
      ],
    });
    groups = [dc.groupDn('VPN Users'), dc.groupDn('Staff')];
    api = http.createServer((_req, res) => {
      requests++;
      res.writeHead(500).end();
    });
    await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
    dir = await mkdtemp(path.join(tmpdir(), 'smspass-ad-test-'));
  });
  afterAll(async () => {
    await dc?.stop();
    api?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const configFile = async (domain: Record<string, unknown>) => {
    const file = path.join(dir, `config-${Math.random().toString(36).slice(2)}.json`);
    await writeFile(
      file,
      JSON.stringify({
        tenantId: 'acme',
        agentId: 'edge-1',
        mqtt: { url: 'mqtt://127.0.0.1:1883', username: 'acme.edge-1', password: 'x' },
        stateDir: 'state',
        modems: [{ id: 'm1', group: 'g1', url: 'tcp://127.0.0.1:4001' }],
        ad: {
          domains: [domain],
          sync: {
            apiUrl: `http://127.0.0.1:${(api.address() as AddressInfo).port}`,
            key: 'sp.sync.acme.not-a-real-key',
          },
        },
      }),
    );
    return file;
  };
  const run = async (file: string) => {
    let stdout = '';
    let stderr = '';
    const code = await main(['ad-test', '--config', file], {
      stdout: (t) => {
        stdout += t;
      },
      stderr: (t) => {
        stderr += t;
      },
    });
    return { code, stdout, stderr };
  };

  it('binds, counts the users per group and prints what it would send, masked', async () => {
    const { code, stdout } = await run(await configFile(domainConfig(dc, groups)));
    expect(code).toBe(0);
    expect(stdout).toContain(`corp.example.test: bound as ${dc.adminDn} on ${dc.ldapsUrl} (LDAPS)`);
    expect(stdout).toContain(`${groups[0]}: 2 enabled user(s)`);
    expect(stdout).toContain(`${groups[1]}: 1 enabled user(s)`);
    expect(stdout).toContain('2 user(s) would be sent (1 with a mobile number)');
    expect(stdout).toContain('"username":"frank"');
    expect(stdout).not.toContain('hal');
    expect(stdout).not.toContain('+4520555666');
    expect(stdout).toContain('+45••••••66');
    expect(stdout).toContain('nothing was sent');
    expect(requests).toBe(0);
  });

  it('says which domain could not be reached, and fails', async () => {
    const { code, stderr } = await run(await configFile(domainConfig(dc, groups, { bindPassword: 'wrong' })));
    expect(code).toBe(1);
    expect(stderr).toMatch(/corp.example.test: the service account of corp.example.test was refused/);
  });
});
