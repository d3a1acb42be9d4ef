/**
 * `edge-agent run|check|send --config FILE`: the daemon and its two operator tools; `edge-agent enroll` makes
 * the box's key and configuration from a one-time token; `edge-agent ad-test` tries the AD section.
 * Exit codes: 0 fine, 1 a modem or send failed or the enrolment was refused, 2 bad usage or a bad
 * configuration (each bad field named).
 */
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { STOP_DEADLINE_MS, startAgent } from './agent.ts';
import { type AgentConfig, ConfigError, loadConfig, type ModemConfig } from './config.ts';
import { EnrolmentRefusedError, enroll } from './enroll/enroll.ts';
import { createLogger, type Logger, maskPhone } from './log.ts';
import type { SendOutcome, SmsSender } from './ports.ts';

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Resolves when the process is asked to stop (SIGTERM/SIGINT); `run` waits on it. */
  stopSignal?: Promise<string>;
}

const DEFAULT_CONFIG = '/etc/smspass-edge-agent/config.yaml';

const USAGE = `usage:
  edge-agent enroll --url API_URL --token TOKEN [--config FILE] [--modem GROUP=URL ...] [--state-dir DIR]
  edge-agent run   --config FILE
  edge-agent check --config FILE
  edge-agent send  --config FILE --modem ID --to +45... --text "..." [--flash]
  edge-agent ad-test --config FILE
`;

const E164 = /^\+[1-9]\d{6,14}$/;

class UsageError extends Error {
  override name = 'UsageError';
}

/**
 * A pool of the configured modems, started; `edge-agent/modem/pool/pool.ts` is loaded only when modems are
 * used.
 */
interface StartedPool extends SmsSender {
  start(): Promise<void>;
}

/**
 * The seam to the modem pool (edge-agent/modem/pool/pool.ts). Kept in one place so `check` and `send` probe
 * real modems through the same code the daemon uses.
 */
async function createModemPool(modems: ModemConfig[], log: Logger): Promise<StartedPool> {
  const { ModemPool } = await import('./modem/pool/pool.ts');
  return new ModemPool(
    modems.map((m) => ({
      id: m.id,
      group: m.group,
      url: m.url,
      pin: m.pin,
      smsc: m.smsc,
      mode: m.mode,
      profile: m.profile,
    })),
    { logger: log.child({ component: 'modem' }) },
  );
}

function processStopSignal(): Promise<string> {
  return new Promise((resolve) => {
    const on = (signal: string) => {
      process.removeListener('SIGTERM', on);
      process.removeListener('SIGINT', on);
      // a second signal while draining means "now"
      process.once('SIGTERM', () => process.exit(1));
      process.once('SIGINT', () => process.exit(1));
      resolve(signal);
    };
    process.once('SIGTERM', on);
    process.once('SIGINT', on);
  });
}

async function run(config: AgentConfig, log: Logger, io: CliIo): Promise<number> {
  const pool = await createModemPool(config.modems, log);
  // sends queue on the pool while the modems are still being probed
  pool.start().catch((err: unknown) => log.error('modem pool start failed', { err }));
  const agent = await startAgent({ config, sender: pool, log });
  const signal = await (io.stopSignal ?? processStopSignal());
  log.info('stop requested', { signal });
  // systemd kills at TimeoutStopSec; leaving by the deadline ourselves ends with the journal in order
  const late = new Promise<'late'>((resolve) => setTimeout(() => resolve('late'), STOP_DEADLINE_MS).unref());
  const stopped = (async () => {
    await agent.stop();
    await pool.close();
    return 'stopped' as const;
  })();
  if ((await Promise.race([stopped, late])) === 'late') {
    log.warn('stop deadline passed; leaving with sends unfinished, the next start reports them', {
      deadlineMs: STOP_DEADLINE_MS,
    });
  }
  return 0;
}

async function check(config: AgentConfig, log: Logger, io: CliIo): Promise<number> {
  io.stdout(
    `configuration ok: tenant ${config.tenantId}, agent ${config.agentId}, ${config.modems.length} modem(s)\n`,
  );
  const pool = await createModemPool(config.modems, log);
  try {
    await pool.start();
    let healthy = true;
    for (const s of pool.statuses()) {
      healthy &&= s.healthy;
      io.stdout(
        `${s.modem} (group ${s.group}): ${s.healthy ? 'healthy' : 'NOT HEALTHY'}, signal ${s.signal ?? '?'}, ` +
          `registration ${s.registration}, operator ${s.operator ?? '?'}` +
          `${s.lastError ? `, last error: ${maskPhone(s.lastError)}` : ''}\n`,
      );
    }
    return healthy ? 0 : 1;
  } finally {
    await pool.close();
  }
}

async function send(
  config: AgentConfig,
  args: { modem?: string | undefined; to?: string; text?: string; flash?: boolean },
  log: Logger,
  io: CliIo,
): Promise<number> {
  if (!args.modem || !args.to || !args.text) throw new UsageError('send needs --modem, --to and --text');
  const modem = config.modems.find((m) => m.id === args.modem);
  if (!modem) {
    throw new ConfigError('unknown modem', [
      `--modem: no modem with id ${JSON.stringify(args.modem)} in modems[] (${config.modems.map((m) => m.id).join(', ')})`,
    ]);
  }
  if (!E164.test(args.to)) throw new UsageError('--to must be an E.164 number such as +4520123456');
  const pool = await createModemPool([modem], log);
  let outcome: SendOutcome;
  try {
    await pool.start();
    outcome = await pool.send({
      to: args.to,
      text: args.text,
      flash: args.flash ?? false,
      modemGroup: modem.group,
    });
  } finally {
    await pool.close();
  }
  // the text is never echoed: it may be a passcode
  if (outcome.ok) {
    io.stdout(
      `sent to ${maskPhone(args.to)} on ${outcome.modem}, message refs ${outcome.messageRefs.join(',')}\n`,
    );
    return 0;
  }
  io.stderr(`not sent (${outcome.reason}): ${maskPhone(outcome.detail)}\n`);
  return 1;
}

export async function main(argv: string[], io: CliIo): Promise<number> {
  let parsed: ReturnType<typeof parseCli>;
  try {
    parsed = parseCli(argv);
  } catch (err) {
    io.stderr(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  const { command, values } = parsed;
  try {
    if (command === 'enroll') return await enrollCommand(values, io);
    const config = await loadConfig(values.config);
    const log = createLogger({ level: config.log.level });
    switch (command) {
      case 'run':
        return await run(config, log, io);
      case 'check':
        return await check(config, log, io);
      case 'send':
        return await send(config, { ...values, modem: oneModem(values.modem) }, log, io);
      case 'ad-test':
        return await (await import('./ad/ad-test.ts')).adTest(config, io);
      default:
        throw new UsageError(`unknown command ${JSON.stringify(command satisfies never)}`);
    }
  } catch (err) {
    if (err instanceof ConfigError) {
      io.stderr(`${values.config}: invalid configuration\n${err.issues.map((i) => `  ${i}\n`).join('')}`);
      return 2;
    }
    if (err instanceof UsageError) {
      io.stderr(`${err.message}\n${USAGE}`);
      return 2;
    }
    if (err instanceof EnrolmentRefusedError) {
      io.stderr(`enrolment refused (${err.status} ${err.code}): ${err.message}\n`);
      return 1;
    }
    io.stderr(
      `edge-agent ${command} failed: ${maskPhone(err instanceof Error ? err.message : String(err))}\n`,
    );
    return 1;
  }
}

type Command = 'run' | 'check' | 'send' | 'enroll' | 'ad-test';
const isCommand = (value: string | undefined): value is Command =>
  value === 'run' || value === 'check' || value === 'send' || value === 'enroll' || value === 'ad-test';

function oneModem(modems: string[] | undefined): string | undefined {
  if (modems && modems.length > 1) throw new UsageError('send takes one --modem');
  return modems?.[0];
}

async function enrollCommand(
  values: { url?: string; token?: string; config: string; modem?: string[]; 'state-dir'?: string },
  io: CliIo,
): Promise<number> {
  if (!values.url || !values.token) throw new UsageError('enroll needs --url and --token');
  const done = await enroll({
    url: values.url,
    token: values.token,
    config: values.config,
    modems: values.modem ?? [],
    stateDir: values['state-dir'],
  });
  io.stdout(
    `enrolled as ${done.thingName}\n` +
      `  key (private, never sent)  ${done.files.key}\n` +
      `  certificate                ${done.files.certificate}\n` +
      (done.files.ca ? `  broker CA                  ${done.files.ca}\n` : '') +
      `  configuration              ${done.config}\n` +
      `start it with: edge-agent run --config ${done.config}\n`,
  );
  return 0;
}

function parseCli(argv: string[]) {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c' },
      modem: { type: 'string', multiple: true },
      url: { type: 'string' },
      token: { type: 'string' },
      'state-dir': { type: 'string' },
      to: { type: 'string' },
      text: { type: 'string' },
      flash: { type: 'boolean' },
    },
  });
  const [command] = positionals;
  if (!isCommand(command)) {
    throw new UsageError(command ? `unknown command ${JSON.stringify(command)}` : 'no command given');
  }
  if (positionals.length > 1) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[1])}`);
  if (command === 'enroll')
    return { command, values: { ...values, config: values.config ?? DEFAULT_CONFIG } };
  if (!values.config) throw new UsageError('--config FILE is required');
  return { command, values: { ...values, config: values.config } };
}

function invokedDirectly(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(script)).href;
  } catch {
    return false;
  }
}

if (invokedDirectly()) {
  main(process.argv.slice(2), {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
  }).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`edge-agent: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
