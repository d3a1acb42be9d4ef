import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { agentTopicPrefix } from '../../../functions/contracts/index.ts';
import { agentPassword, SERVICE } from './helpers.ts';

export const MOSQUITTO = '/usr/sbin/mosquitto';
export const MOSQUITTO_PASSWD = '/usr/bin/mosquitto_passwd';
export const haveMosquitto = existsSync(MOSQUITTO) && existsSync(MOSQUITTO_PASSWD);

export interface RunningMosquitto {
  url: string;
  port: number;
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/**
 * ACL entries per agent user. mosquitto's `pattern t/%u/…` cannot split `{tenant}.{agent}` into two topic
 * levels, so every agent gets its own `user` block, the way a provisioning script would write it.
 */
function aclFor(agents: Array<{ stage: string; tenantId: string; agentId: string }>): string {
  const blocks = agents.map((a) => {
    const prefix = agentTopicPrefix(a);
    return [
      `user ${a.tenantId}.${a.agentId}`,
      `topic write ${prefix}events`,
      `topic write ${prefix}status`,
      `topic write ${prefix}rpc/res`,
      `topic read ${prefix}jobs`,
      `topic read ${prefix}rpc/req`,
    ].join('\n');
  });
  return `${blocks.join('\n\n')}\n\nuser ${SERVICE.username}\ntopic readwrite #\n`;
}

/** Debian's mosquitto on a loopback port, with a password file and a per-agent ACL. */
export async function startMosquitto(
  agents: Array<{ stage: string; tenantId: string; agentId: string }>,
): Promise<RunningMosquitto> {
  const dir = await mkdtemp(path.join(tmpdir(), 'mosquitto-'));
  const passwd = path.join(dir, 'passwd');
  const run = promisify(execFile);
  await run(MOSQUITTO_PASSWD, ['-c', '-b', passwd, SERVICE.username, SERVICE.password]);
  for (const a of agents) {
    await run(MOSQUITTO_PASSWD, [
      '-b',
      passwd,
      `${a.tenantId}.${a.agentId}`,
      agentPassword(a.tenantId, a.agentId),
    ]);
  }
  const acl = path.join(dir, 'acl');
  await writeFile(acl, aclFor(agents));
  const port = await freePort();
  const conf = path.join(dir, 'mosquitto.conf');
  await writeFile(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous false',
      `password_file ${passwd}`,
      `acl_file ${acl}`,
      'persistence false',
      // as root mosquitto would switch to the "mosquitto" user, which cannot read this temp folder
      `user ${userInfo().username}`,
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      'log_type notice',
      'log_type information',
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn(MOSQUITTO, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  await new Promise<void>((resolve, reject) => {
    child.stderr?.on('data', (d: Buffer) => {
      log += d.toString();
      if (/mosquitto version \S+ running/.test(log)) resolve();
    });
    child.once('exit', (code) => reject(new Error(`mosquitto exited with ${code}:\n${log}`)));
    child.once('error', reject);
  });
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    async close() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
