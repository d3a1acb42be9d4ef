/** `npm start`: the local stack with data under `.local/`, fixed ports, and a summary for a newcomer. */
import { resolve } from 'node:path';
import { createLogger } from '../adapters/log.ts';
import { startLocalStack } from './stack.ts';

const port = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const dataDir = resolve(process.env.SMSPASS_DATA_DIR ?? '.local');
const log = createLogger(
  { app: 'local-stack' },
  { level: (process.env.LOG_LEVEL as 'info' | undefined) ?? 'warn' },
);

const listen = process.env.SMSPASS_LISTEN;
const stack = await startLocalStack({
  dataDir,
  log,
  listen,
  standInsInWorker: true,
  // A slower simulated modem, to watch a backlog (and what a restart does to it).
  modemSendMs: Number(process.env.MODEM_SEND_MS ?? 0),
  ports: {
    api: port('API_PORT', 8787),
    dynamo: port('DYNAMO_PORT', 8000),
    sqs: port('SQS_PORT', 9324),
    mqtt: port('MQTT_PORT', 1883),
    mqtts: port('MQTTS_PORT', 8883),
    modems: [port('MODEM1_PORT', 7001), port('MODEM2_PORT', 7002)],
    radius: port('RADIUS_PORT', 1812),
  },
}).catch((error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  console.error(`Could not start the local stack: ${message}`);
  if (/EADDRINUSE/.test(message))
    console.error(
      'A port is taken; set API_PORT, DYNAMO_PORT, SQS_PORT, MQTT_PORT, MQTTS_PORT, MODEM1_PORT, MODEM2_PORT or RADIUS_PORT.',
    );
  process.exit(1);
});

const j = stack.json;
const r = stack.recovery;
const recovered =
  r && r.waiting > 0
    ? `\n  Restart      ${r.resent} waiting steps sent again, ${r.failed} failed (lost_in_restart)\n`
    : '';
console.log(`
SMS passcode service: local stack is up (data in ${dataDir})

  API          ${j.apiUrl}
  MQTT broker  ${j.mqttUrl}   over TLS (enrolled agents)  ${stack.broker.tlsUrl}
  DynamoDB     ${stack.dynamoEndpoint}   SQS  ${stack.sqsEndpoint}
  Tenant       ${j.tenantId}   users: ${j.demoUsers.join(', ')}
  Edge agent   ${stack.seed.agent.agentId} with ${stack.edge?.modems.length ?? 0} simulated modems
  SMS outbox   ${j.simulator.outbox}
  RADIUS       127.0.0.1:${j.radius?.port ?? '-'} (for radtest; its shared secret is in stack.json)
  Keys         ${resolve(dataDir, 'stack.json')}
${recovered}
Try a login:
  KEY=$(node -p "require('./.local/stack.json').authKey")
  curl -s -X POST ${j.apiUrl}/v1/challenges -H "Authorization: Bearer $KEY" \\
       -H 'Content-Type: application/json' -d '{"username":"alice","client":{"ip":"203.0.113.7","name":"vpn-gw-1"}}'
  tail -n1 ${j.simulator.outbox}

Ctrl-C stops everything.
`);
if (listen && !/^(127\.|::1$|localhost$)/.test(listen))
  console.warn(`WARNING: SMSPASS_LISTEN=${listen}: the API is served on the network over plain HTTP. Keys and
passcodes would cross the network in clear: put a TLS proxy in front of it, and use this only on a trusted
LAN. Edge boxes connect over TLS with their enrolled certificates (${stack.broker.tlsUrl?.replace(/\/\/[^:]+:/, `//${listen}:`)});
plain MQTT and the stand-ins stay on 127.0.0.1.`);

let stopping = false;
const shutdown = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  console.log(`\n${signal}: stopping…`);
  await stack.stop();
  process.exit(0);
};
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
