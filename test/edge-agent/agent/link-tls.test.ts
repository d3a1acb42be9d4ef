import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { promisify } from 'node:util';
import { Aedes } from 'aedes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../edge-agent/log.ts';
import { MqttLink } from '../../../edge-agent/mqtt/link.ts';
import { jobsTopic } from '../../../functions/contracts/index.ts';
import { AGENT, TENANT } from './helpers.ts';

const OPENSSL = '/usr/bin/openssl';
const run = promisify(execFile);

/** A CA, a broker certificate for 127.0.0.1 and an agent client certificate, as AWS IoT Core would issue. */
async function makePki(dir: string) {
  const ssl = (...args: string[]) => run(OPENSSL, args, { cwd: dir });
  await ssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=test-ca',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
  );
  await writeFile(path.join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  for (const [name, subject, ext] of [
    ['server', '/CN=127.0.0.1', ['-extfile', 'san.ext']],
    ['agent', `/CN=${TENANT}.${AGENT}`, []],
  ] as const) {
    await ssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      subject,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
    );
    await ssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '1',
      '-out',
      `${name}.pem`,
      ...ext,
    );
  }
  const read = (f: string) => readFile(path.join(dir, f));
  return {
    ca: await read('ca.pem'),
    serverKey: await read('server.key'),
    serverCert: await read('server.pem'),
    agentKey: await read('agent.key'),
    agentCert: await read('agent.pem'),
  };
}

describe.skipIf(!existsSync(OPENSSL))('MqttLink over mqtts with a client certificate', () => {
  let dir: string;
  let pki: Awaited<ReturnType<typeof makePki>>;
  let aedes: Aedes;
  let server: tls.Server;
  let port: number;
  const peers: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'mqtts-'));
    pki = await makePki(dir);
    aedes = await Aedes.createBroker();
    // like AWS IoT Core: the TLS layer refuses any client without a certificate signed by the CA
    server = tls.createServer(
      { key: pki.serverKey, cert: pki.serverCert, ca: pki.ca, requestCert: true, rejectUnauthorized: true },
      (socket) => {
        peers.push(String(socket.getPeerCertificate().subject?.CN));
        aedes.handle(socket);
      },
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as { port: number }).port;
  });

  afterAll(async () => {
    await new Promise<void>((r) => aedes.close(() => r()));
    await new Promise<void>((r) => server.close(() => r()));
    await rm(dir, { recursive: true, force: true });
  });

  it('connects with the client certificate, verifies the broker against the CA and receives a job', async () => {
    let gotJob!: (payload: string) => void;
    const job = new Promise<string>((r) => {
      gotJob = r;
    });
    const link = new MqttLink({
      url: `mqtts://127.0.0.1:${port}`,
      stage: 'local',
      tenantId: TENANT,
      agentId: AGENT,
      tls: { cert: pki.agentCert, key: pki.agentKey, ca: pki.ca },
      onJob: async (payload) => gotJob(payload.toString()),
    });
    link.start();
    await link.waitConnected();
    expect(peers).toContain(`${TENANT}.${AGENT}`);
    aedes.publish(
      {
        cmd: 'publish',
        topic: jobsTopic({ stage: 'local', tenantId: TENANT, agentId: AGENT }),
        payload: Buffer.from('job'),
        qos: 1,
        retain: false,
        dup: false,
      },
      () => {},
    );
    expect(await job).toBe('job');
    await link.close();
  });

  it('does not connect to a broker whose certificate the CA did not sign', async () => {
    let refused!: () => void;
    const failed = new Promise<void>((r) => {
      refused = r;
    });
    const link = new MqttLink({
      url: `mqtts://127.0.0.1:${port}`,
      stage: 'local',
      tenantId: TENANT,
      agentId: AGENT,
      // trusting only the agent's own certificate: the broker's chain cannot verify
      tls: { cert: pki.agentCert, key: pki.agentKey, ca: pki.agentCert },
      backoff: { initialMs: 10_000, maxMs: 10_000 },
      log: createLogger({ write: (line) => line.includes('"mqtt error"') && refused() }),
      onJob: async () => {},
    });
    link.start();
    await failed;
    expect(link.connected).toBe(false);
    expect(link.stats.connects).toBe(0);
    await link.close();
  });
});
