/**
 * Runs README.md's shell examples: a fresh `npm start` (functions/local/main.ts) in a temporary data folder on
 * free ports, and each block with `bash -euo pipefail` in a folder whose `.local/` is that stack's, so the
 * examples read `.local/stack.json` and `.local/sim/outbox.jsonl` as a user's would.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command, ShellBlock } from './readme-blocks.ts';

export const REPO = resolve(import.meta.dirname, '../..');

/** The real curl, or undefined when it is not installed. */
export function findCurl(): string | undefined {
  const found = spawnSync('bash', ['-c', 'command -v curl'], { encoding: 'utf8' });
  return found.status === 0 ? found.stdout.trim() : undefined;
}

export interface RunningStack {
  /** The folder the examples run in: `.local` inside it is the stack's data folder. */
  home: string;
  pid: number;
  stop(): Promise<void>;
}

/** `npm start`, but with its data under a new temporary folder and every port picked by the system (0). */
export async function startStack(timeoutMs: number): Promise<RunningStack> {
  const home = mkdtempSync(join(tmpdir(), 'smspass-readme-'));
  // The folder looks like the repository (its top-level entries linked), so an example that runs a repository
  // file or `npx` a dependency works as in a user's checkout; only `.local` is the fresh stack's own.
  for (const entry of readdirSync(REPO))
    if (entry !== '.local' && entry !== '.git') symlinkSync(join(REPO, entry), join(home, entry));
  const ports = [
    'API_PORT',
    'DYNAMO_PORT',
    'SQS_PORT',
    'MQTT_PORT',
    'MQTTS_PORT',
    'MODEM1_PORT',
    'MODEM2_PORT',
    'RADIUS_PORT',
  ];
  const child = spawn(process.execPath, ['--import', 'tsx', 'functions/local/main.ts'], {
    cwd: REPO,
    env: {
      ...process.env,
      SMSPASS_DATA_DIR: join(home, '.local'),
      LOG_LEVEL: 'warn',
      ...Object.fromEntries(ports.map((p) => [p, '0'])),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  // The stack's own output is kept, not echoed: it is shown only if the start fails.
  child.stdout!.on('data', (d: Buffer) => {
    output += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    output += d.toString();
  });
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
    // The links go first, one by one, so that removing the folder can never reach into the repository.
    for (const entry of readdirSync(home))
      if (lstatSync(join(home, entry)).isSymbolicLink()) unlinkSync(join(home, entry));
    rmSync(home, { recursive: true, force: true });
  };
  const up = await Promise.race([
    waitFor(() => /local stack is up/.test(output), timeoutMs).then(() => true),
    exited.then(() => false),
  ]).catch(() => false);
  if (!up) {
    await stop();
    throw new Error(`the local stack did not start (functions/local/main.ts):\n${output}`);
  }
  return { home, pid: child.pid!, stop };
}

async function waitFor(check: () => boolean, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface CommandResult {
  command: Command;
  /** Exit status; undefined when the block stopped (a failure or the time limit) before the command ran. */
  status: number | undefined;
  stdout: string;
  stderr: string;
}

export interface BlockResult {
  commands: CommandResult[];
  timedOut: boolean;
}

/**
 * Runs one block's commands in `bash -euo pipefail`, each one's output in files of its own. The variables the
 * earlier blocks set are restored first, as if the blocks ran in one terminal.
 *
 * `curl` is a wrapper while a command that shows no sample runs: it adds `--fail-with-body`, so an HTTP status
 * of 400 or more fails the command and its body is still shown. A command with a sample is judged by the
 * sample (it may show an error reply).
 */
export class BlockRunner {
  private readonly dir: string;
  private readonly state: string;
  private readonly bin: string;

  constructor(
    private readonly home: string,
    realCurl: string,
  ) {
    this.dir = mkdtempSync(join(tmpdir(), 'smspass-readme-run-'));
    this.state = join(this.dir, 'variables.sh');
    writeFileSync(this.state, '');
    this.bin = join(this.dir, 'bin');
    mkdirSync(this.bin);
    const shim = join(this.bin, 'curl');
    writeFileSync(
      shim,
      [
        '#!/usr/bin/env bash',
        '# The README test: an HTTP error fails a command that shows no sample (unless it asks for -f itself).',
        `if [[ "\${__readme_strict:-}" == 1 ]] && ! printf '%s\\n' "$@" | grep -Eq -- '^(--fail(-with-body)?|-[a-zA-Z]*f[a-zA-Z]*)$'; then`,
        `  exec ${quote(realCurl)} --fail-with-body "$@"`,
        'fi',
        `exec ${quote(realCurl)} "$@"`,
        '',
      ].join('\n'),
    );
    chmodSync(shim, 0o755);
  }

  async run(block: ShellBlock, timeoutMs: number): Promise<BlockResult> {
    const base = join(this.dir, `block-${block.index}`);
    mkdirSync(base);
    const script: string[] = [
      'set -euo pipefail',
      `export PATH=${quote(this.bin)}:"$PATH"`,
      // Only what the README's blocks set is carried to the next block, not bash's own variables.
      `__readme_before=" $(compgen -v | tr '\\n' ' ') __readme_before __readme_strict __readme_n "`,
      `__readme_save() { local __readme_n; for __readme_n in $(compgen -v); do [[ "$__readme_before" == *" $__readme_n "* || "$__readme_n" == BASH* ]] || declare -p "$__readme_n"; done > ${quote(`${this.state}.new`)} 2>/dev/null; mv ${quote(`${this.state}.new`)} ${quote(this.state)}; }`,
      `source ${quote(this.state)} || true`,
      'trap __readme_save EXIT',
    ];
    block.commands.forEach((command, i) => {
      const file = `${base}/${i}`;
      writeFileSync(`${file}.sh`, `${command.text}\n`);
      script.push(
        `export __readme_strict=${command.sample === undefined ? 1 : 0}`,
        `source ${quote(`${file}.sh`)} > ${quote(`${file}.out`)} 2> ${quote(`${file}.err`)}`,
        `echo ${i} >> ${quote(`${base}/done`)}`,
      );
    });
    writeFileSync(`${base}/block.sh`, `${script.join('\n')}\n`);

    const { status, timedOut } = await runBash(`${base}/block.sh`, this.home, timeoutMs);
    const done = new Set(readOr(`${base}/done`).split('\n').filter(Boolean).map(Number));
    const results: CommandResult[] = [];
    for (const [i, command] of block.commands.entries()) {
      const ran = done.has(i);
      const started = ran || i === done.size;
      results.push({
        command,
        status: ran ? 0 : started && !timedOut ? (status ?? 1) : undefined,
        stdout: readOr(`${base}/${i}.out`),
        stderr: readOr(`${base}/${i}.err`),
      });
      if (!ran) break;
    }
    return { commands: results, timedOut };
  }

  close(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function runBash(file: string, cwd: string, timeoutMs: number) {
  return new Promise<{ status: number | null; timedOut: boolean }>((done) => {
    // Its own process group, so that a time limit stops what the block started too (and nothing else).
    const child: ChildProcess = spawn('bash', [file], { cwd, detached: true, stdio: 'ignore' });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
    }, timeoutMs);
    child.once('exit', (status) => {
      clearTimeout(timer);
      done({ status, timedOut });
    });
  });
}

function readOr(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

const KEY = /(sp\.(?:auth|sync|admin|operator)\.[A-Za-z0-9_-]{1,64}\.)[A-Za-z0-9_-]{32}/g;
const CODE = /(\bcode is )[A-Za-z0-9]{4,12}\b/gi;

/** Keys and passcodes never reach a log, not even a failing test's message (test/support/log-guard.ts). */
export function redact(text: string): string {
  return text.replace(KEY, '$1[key]').replace(CODE, '$1[code]');
}
