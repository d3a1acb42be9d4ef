/**
 * A real agent process for the crash test: its sender never finishes, and the test kills it with SIGKILL
 * while a job is mid-send. Prints CONNECTED, and SENDING once the job is journalled as handed to the modem.
 */
import { startAgent } from '../../../edge-agent/agent.ts';
import { parseConfig } from '../../../edge-agent/config.ts';
import { FakeSender } from './fake-sender.ts';
import { AGENT, agentPassword, TENANT } from './helpers.ts';

const sender = new FakeSender();
sender.hold();
const send = sender.send.bind(sender);
sender.send = (job, signal, hooks) =>
  send(job, signal, {
    onHandedToModem: async (modem) => {
      await hooks?.onHandedToModem?.(modem);
      process.stdout.write('SENDING\n');
    },
  });

const agent = await startAgent({
  config: parseConfig({
    tenantId: TENANT,
    agentId: AGENT,
    mqtt: {
      url: process.env.BROKER_URL,
      username: `${TENANT}.${AGENT}`,
      password: agentPassword(TENANT, AGENT),
    },
    stateDir: process.env.STATE_DIR,
    statusIntervalSeconds: 3600,
    modems: [{ id: 'm1', group: 'g1', url: 'tcp://127.0.0.1:4001' }],
  }),
  sender,
});
await agent.link.waitConnected();
process.stdout.write('CONNECTED\n');
