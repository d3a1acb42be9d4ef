/**
 * The agent answering AD RPCs over MQTT: requests on rpc/req, replies on rpc/res, the AD domains announced in
 * agent.online, and a sync-now that reaches the local stack.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Agent, startAgent } from '../../../edge-agent/agent.ts';
import { parseConfig } from '../../../edge-agent/config.ts';
import { createLogger } from '../../../edge-agent/log.ts';
import { eventsTopic, rpcRequestTopic, rpcResponseTopic } from '../../../functions/contracts/index.ts';
import { type RpcReply, rpcRequest, rpcSealContext } from '../../../functions/contracts/rpc.ts';
import { seal } from '../../../functions/contracts/sealed.ts';
import type { Broker } from '../../../functions/local/broker.ts';
import type { LocalStack } from '../../../functions/local/stack.ts';
import { type SambaDc, sambaAvailable, startSambaDc } from '../../support/samba.ts';
import { FakeSender } from '../agent/fake-sender.ts';
import { AGENT, agentPassword, type Observer, observe, startTestBroker, TENANT } from '../agent/helpers.ts';
import { domainConfig, newTenant, startStack, type TestTenant } from './support.ts';

const runs = sambaAvailable(it);
const address = { stage: 'local', tenantId: TENANT, agentId: AGENT };

describe.skipIf(!runs)('AD RPC over MQTT', () => {
  let dc: SambaDc;
  let stack: LocalStack;
  let broker: Broker;
  let cloud: Observer;
  let agent: Agent;
  let tenant: TestTenant;
  let dir: string;
  const key = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const logLines: string[] = [];
  let n = 0;

  const ask = async (req: ReturnType<typeof rpcRequest>): Promise<RpcReply> => {
    await cloud.client.publishAsync(rpcRequestTopic(address), JSON.stringify(req), { qos: 1 });
    await cloud.waitFor(() =>
      cloud.json(rpcResponseTopic(address)).some((r) => (r as RpcReply).id === req.id),
    );
    return cloud.json(rpcResponseTopic(address)).find((r) => (r as RpcReply).id === req.id) as RpcReply;
  };
  const id = () => `mqtt-${process.pid}-${++n}`;
  const soon = () => new Date(Date.now() + 30_000);

  beforeAll(async () => {
    [dc, stack, broker] = await Promise.all([
      startSambaDc({ users: [{ name: 'erin', password: 'Erin-Pass-1!', mobile: '+4520333444' }] }),
      startStack(),
      startTestBroker(),
    ]);
    const [group] = await dc.addGroups([{ name: 'VPN Users', members: ['erin'] }]);
    tenant = await newTenant(stack);
    await tenant.mapGroup(dc.dnsDomain, group!, 1);
    dir = await mkdtemp(path.join(tmpdir(), 'smspass-ad-agent-'));
    const keyFile = path.join(dir, 'rpc.key');
    await writeFile(keyFile, key.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    cloud = await observe(broker.url, [rpcResponseTopic(address), eventsTopic(address)]);
    const config = parseConfig({
      tenantId: TENANT,
      agentId: AGENT,
      mqtt: { url: broker.url, username: `${TENANT}.${AGENT}`, password: agentPassword(TENANT, AGENT) },
      stateDir: path.join(dir, 'state'),
      statusIntervalSeconds: 3600,
      modems: [{ id: 'm1', group: 'g1', url: 'tcp://127.0.0.1:4001' }],
      ad: {
        domains: [domainConfig(dc, [group!])],
        sync: { apiUrl: stack.json.apiUrl, key: tenant.syncKey, intervalMinutes: 0 },
        rpcKeyFile: keyFile,
      },
    });
    agent = await startAgent({
      config,
      sender: new FakeSender(),
      backoff: { initialMs: 10, maxMs: 100 },
      log: createLogger({ level: 'debug', write: (l) => logLines.push(l) }),
    });
    await agent.link.waitConnected();
  });
  afterAll(async () => {
    await agent?.stop();
    await cloud?.close();
    await Promise.all([broker?.close(), stack?.stop(), dc?.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
    expect(logLines.join('\n')).not.toContain('Erin-Pass');
  });

  it('announces the AD domains it serves in agent.online', async () => {
    await cloud.waitFor(() =>
      cloud.json(eventsTopic(address)).some((e) => (e as { type: string }).type === 'agent.online'),
    );
    const online = cloud
      .json(eventsTopic(address))
      .find((e) => (e as { type: string }).type === 'agent.online');
    expect(online).toMatchObject({ adDomains: ['corp.example.test'] });
  });

  it('starts a sync on ad.sync, and says so when one is already under way', async () => {
    const first = rpcRequest('ad.sync', id(), soon(), { mode: 'full' });
    const second = rpcRequest('ad.sync', id(), soon(), { mode: 'full' });
    const [a, b] = await Promise.all([ask(first), ask(second)]);
    expect(
      [a, b].map((r) => (r.ok ? (r.result as { started: boolean }).started : r.error.code)).sort(),
    ).toEqual([false, true]);
    const outcome = await agent.ad!.sync!.start('full').done;
    expect(outcome.error).toBeUndefined();
    expect((await tenant.users()).map((u) => u.username)).toEqual(['erin']);
  });

  it('checks and resets a password over MQTT', async () => {
    const checkId = id();
    const check = rpcRequest('ad.checkPassword', checkId, soon(), {
      username: 'erin',
      password: seal(key.publicKey, 'Erin-Pass-1!', rpcSealContext(checkId, 'ad.checkPassword', 'password')),
    });
    expect(await ask(check)).toMatchObject({ ok: true, result: { valid: true } });

    const resetId = id();
    const reset = rpcRequest('ad.setPassword', resetId, soon(), {
      domain: 'corp.example.test',
      username: 'erin',
      newPassword: seal(
        key.publicKey,
        'Erin-Pass-2!',
        rpcSealContext(resetId, 'ad.setPassword', 'newPassword'),
      ),
    });
    expect(await ask(reset)).toMatchObject({ ok: true, result: { changed: true } });
  });

  it('answers an expired request with expired', async () => {
    const req = {
      ...rpcRequest('ad.sync', id(), soon(), { mode: 'delta' }),
      expiresAt: new Date(Date.now() - 1).toISOString(),
    };
    expect(await ask(req)).toMatchObject({ ok: false, error: { code: 'expired' } });
  });
});
