import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MqttLink } from '../../../edge-agent/mqtt/link.ts';
import { type AgentEvent, eventsTopic, jobsTopic } from '../../../functions/contracts/index.ts';
import { agentSuite } from './agent-suite.ts';
import { AGENT, agentPassword, OTHER_TENANT, observe, SERVICE, TENANT } from './helpers.ts';
import { haveMosquitto, MOSQUITTO, type RunningMosquitto, startMosquitto } from './mosquitto.ts';

const A1 = { stage: 'local', tenantId: TENANT, agentId: AGENT };
const A2 = { stage: 'local', tenantId: TENANT, agentId: 'agent2' };
const B1 = { stage: 'local', tenantId: OTHER_TENANT, agentId: AGENT };
const AGENTS = [A1, A2, B1];

if (!haveMosquitto) {
  const reason = `${MOSQUITTO} not found: install it with "apt-get install -y mosquitto" to run the mosquitto suite`;
  if (process.env.REQUIRE_PEERS === '1') {
    it('has mosquitto installed (REQUIRE_PEERS=1)', () => {
      throw new Error(reason);
    });
  } else {
    console.warn(`skipping mosquitto tests: ${reason}`);
  }
}

describe.skipIf(!haveMosquitto)('mosquitto peer', () => {
  agentSuite('mosquitto', () => startMosquitto(AGENTS));

  describe('per-agent ACL', () => {
    let broker: RunningMosquitto;
    beforeAll(async () => {
      broker = await startMosquitto(AGENTS);
    });
    afterAll(() => broker.close());

    const asAgent = (a: { tenantId: string; agentId: string }) =>
      observe(broker.url, [], {
        username: `${a.tenantId}.${a.agentId}`,
        password: agentPassword(a.tenantId, a.agentId),
        clientId: `${a.tenantId}.${a.agentId}`,
      });

    it("never delivers another tenant's or agent's jobs to an agent, whatever it subscribes to", async () => {
      const agent = await asAgent(A1);
      // mosquitto's acl_file checks read access at delivery, so it may grant these subscriptions (aedes
      // answers 0x80); either way nothing of B or of a sibling agent may arrive
      const topics = [jobsTopic(A1), jobsTopic(B1), jobsTopic(A2), 's/local/t/tenantB/#', '#'];
      await agent.client.subscribeAsync(topics, { qos: 1 }).catch(() => {});
      const service = await observe(broker.url, []);
      await service.client.publishAsync(jobsTopic(B1), 'job-for-b', { qos: 1 });
      await service.client.publishAsync(jobsTopic(A2), 'job-for-sibling', { qos: 1 });
      await service.client.publishAsync(jobsTopic(A1), 'marker', { qos: 1 });
      // one publisher's messages reach a subscriber in order: once the marker is in, the others were judged
      await agent.waitFor((seen) => seen.some((m) => m.payload === 'marker'));
      expect(agent.seen.map((m) => m.payload)).toEqual(['marker']);
      await Promise.all([agent.close(), service.close()]);
    });

    it("drops an agent's publishes on another tenant's topics", async () => {
      const service = await observe(broker.url, ['#']);
      const agent = await asAgent(A1);
      await agent.client.publishAsync(eventsTopic(B1), 'forged', { qos: 1 });
      await agent.client.publishAsync(jobsTopic(B1), 'forged-job', { qos: 1 });
      await agent.client.publishAsync(eventsTopic(A2), 'forged-sibling', { qos: 1 });
      await agent.client.publishAsync(eventsTopic(A1), 'marker', { qos: 1 });
      // one client's publishes are delivered in order: once the marker is in, the forged ones were judged
      await service.waitFor((seen) => seen.some((m) => m.payload === 'marker'));
      expect(service.seen.map((m) => m.payload)).toEqual(['marker']);
      await Promise.all([agent.close(), service.close()]);
    });

    it('carries jobs and events over MQTT 5 too', async () => {
      const jobs: string[] = [];
      let gotJob!: () => void;
      const job = new Promise<void>((r) => {
        gotJob = r;
      });
      const link = new MqttLink({
        url: broker.url,
        stage: A2.stage,
        tenantId: A2.tenantId,
        agentId: A2.agentId,
        username: `${A2.tenantId}.${A2.agentId}`,
        password: agentPassword(A2.tenantId, A2.agentId),
        protocolVersion: 5,
        onJob: async (payload) => {
          jobs.push(payload.toString());
          gotJob();
        },
      });
      link.start();
      await link.waitConnected();
      const service = await observe(broker.url, [eventsTopic(A2)], { ...SERVICE, protocolVersion: 5 });
      await service.client.publishAsync(jobsTopic(A2), 'v5-job', { qos: 1 });
      await job;
      const event: AgentEvent = {
        v: 1,
        at: new Date().toISOString(),
        type: 'job.sent',
        jobId: 'v5-job',
        modem: 'm1',
        messageRefs: [3],
      };
      expect(await link.publishEvent(event)).toBe(true);
      await service.waitFor((seen) => seen.length > 0);
      expect(service.json(eventsTopic(A2))).toEqual([event]);
      expect(jobs).toEqual(['v5-job']);
      await link.close();
      await service.close();
    });

    it('refuses a wrong password', async () => {
      await expect(
        observe(broker.url, [], { username: `${TENANT}.${AGENT}`, password: 'wrong', clientId: 'x' }),
      ).rejects.toThrow();
    });
  });
});
