/**
 * `npm run sim -- --port N [--name X] [--outbox path] [--send-ms N] [--fault JSON]`: each SMS sent is appended to
 * the outbox file as a JSON line, or printed when no --outbox is given.
 * Runs one simulated modem on 127.0.0.1 until Ctrl-C.
 */
import { parseArgs } from 'node:util';
import { parseFault } from './faults.ts';
import { isSimulatorProfile, SIMULATOR_PROFILES } from './profiles.ts';
import { startSimulator } from './server.ts';

function fail(message: string): never {
  process.stderr.write(`sim: ${message}\n`);
  process.exit(2);
}

function intOption(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0)
    fail(`--${name} must be a non-negative integer, not ${JSON.stringify(value)}`);
  return n;
}

async function main(): Promise<void> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      options: {
        port: { type: 'string' },
        name: { type: 'string' },
        outbox: { type: 'string' },
        'send-ms': { type: 'string' },
        fault: { type: 'string' },
        'text-only': { type: 'boolean' },
        profile: { type: 'string' },
        help: { type: 'boolean' },
      },
      strict: true,
    }));
  } catch (err) {
    fail(err instanceof Error ? err.message : String(err));
  }
  if (values.help) {
    process.stdout.write(
      'usage: npm run sim -- --port N [--name X] [--outbox path] [--send-ms N] [--fault JSON] [--text-only] [--profile NAME]\n',
    );
    return;
  }
  let fault = null;
  if (typeof values.fault === 'string') {
    let raw: unknown;
    try {
      raw = JSON.parse(values.fault);
    } catch {
      fail('--fault must be JSON, e.g. {"kind":"cms_error","code":500}');
    }
    const parsed = parseFault(raw);
    if (parsed === undefined) fail(`--fault ${values.fault} is not a known fault`);
    fault = parsed;
  }
  const profile = (values.profile as string | undefined) ?? 'generic';
  if (!isSimulatorProfile(profile)) {
    fail(
      `--profile must be one of ${Object.keys(SIMULATOR_PROFILES).join(', ')}, not ${JSON.stringify(profile)}`,
    );
  }
  const sim = await startSimulator({
    profile,
    port: intOption(values.port as string | undefined, 'port', 0),
    name: (values.name as string | undefined) ?? 'sim0',
    // Without --outbox each SMS is printed, so that a first run shows what the modem "sent".
    outboxPath: (values.outbox as string | undefined) ?? '/dev/stdout',
    sendDelayMs: intOption(values['send-ms'] as string | undefined, 'send-ms', 10),
    textModeOnly: values['text-only'] === true,
    transcriptLimit: 1000,
  });
  sim.setFault(fault);
  process.stdout.write(`modem simulator ${sim.name} listening on ${sim.url}\n`);
  const stop = () => {
    void sim.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

void main();
