/**
 * How the README test runs a block (readme-runner.ts), against a small HTTP server on loopback instead of the
 * whole stack: variables carry over, an HTTP error fails a command that shows no sample, a failure names its
 * command, and a block that hangs is stopped.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ShellBlock, splitCommands } from './readme-blocks.ts';
import { BlockRunner, findCurl, redact } from './readme-runner.ts';

const curl = findCurl();
let blockIndex = 0;
const block = (...lines: string[]): ShellBlock => ({
  index: ++blockIndex,
  line: 1,
  skip: undefined,
  commands: splitCommands(lines, 2),
});

describe.skipIf(!curl)('BlockRunner', () => {
  let server: Server;
  let home: string;
  let runner: BlockRunner;

  beforeAll(async () => {
    server = createServer((req, res) => {
      const status = req.url === '/missing' ? 404 : 200;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(status === 404 ? { error: { code: 'not_found' } } : { ok: true }));
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    home = mkdtempSync(join(tmpdir(), 'readme-runner-test-'));
    runner = new BlockRunner(home, curl!);
  });

  afterAll(async () => {
    runner.close();
    rmSync(home, { recursive: true, force: true });
    await new Promise((done) => server.close(done));
  });

  const url = () => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  it('carries the variables of one block into the next, as one terminal would', async () => {
    const first = await runner.run(
      block(`API=${url()}`, 'N=$((40 + 2))', "J='Content-Type: application/json'"),
      10_000,
    );
    expect(first.commands.map((c) => c.status)).toEqual([0, 0, 0]);
    const second = await runner.run(block('echo "$N $J"', 'curl -s $API/ok'), 10_000);
    expect(second.commands.map((c) => [c.status, c.stdout])).toEqual([
      [0, '42 Content-Type: application/json\n'],
      [0, '{"ok":true}'],
    ]);
  });

  it('runs in the folder it was given, whose .local is the stack’s', async () => {
    const result = await runner.run(block('pwd'), 10_000);
    expect(result.commands[0]!.stdout.trim()).toBe(home);
  });

  it('fails a command that shows no sample on an HTTP error, keeping the body to show', async () => {
    const result = await runner.run(block(`curl -s ${url()}/missing`, 'echo never'), 10_000);
    expect(result.commands).toHaveLength(1);
    expect(result.commands[0]!.status).toBe(22);
    expect(result.commands[0]!.stdout).toBe('{"error":{"code":"not_found"}}');
  });

  it('fails on an HTTP error inside a substitution or a pipe too', async () => {
    const sub = await runner.run(block(`X=$(curl -s ${url()}/missing)`), 10_000);
    expect(sub.commands[0]!.status).not.toBe(0);
    const piped = await runner.run(block(`curl -s ${url()}/missing | cat`), 10_000);
    expect(piped.commands[0]!.status).not.toBe(0);
  });

  it('leaves a command that shows a sample to its sample, so an error reply can be shown', async () => {
    const result = await runner.run(
      block(`curl -s ${url()}/missing`, '# {"error":{"code":"not_found"}}'),
      10_000,
    );
    expect(result.commands[0]!.status).toBe(0);
  });

  it('does not add --fail-with-body when the command asks for -f itself', async () => {
    const result = await runner.run(block(`curl -sf ${url()}/missing`), 10_000);
    expect(result.commands[0]!.status).toBe(22);
    expect(result.commands[0]!.stdout).toBe('');
  });

  it('names the command that failed, with its exit status and output, and runs nothing after it', async () => {
    const result = await runner.run(
      block('echo one', 'echo out; echo err >&2; exit 3', 'echo three'),
      10_000,
    );
    expect(result.commands.map((c) => [c.command.line, c.status, c.stdout, c.stderr])).toEqual([
      [2, 0, 'one\n', ''],
      [3, 3, 'out\n', 'err\n'],
    ]);
  });

  it('runs with -u and pipefail', async () => {
    const unset = await runner.run(block('echo $NOT_SET_ANYWHERE'), 10_000);
    expect(unset.commands[0]!.status).not.toBe(0);
    expect(unset.commands[0]!.stderr).toMatch(/unbound variable/);
    const pipe = await runner.run(block('false | cat'), 10_000);
    expect(pipe.commands[0]!.status).not.toBe(0);
  });

  it('stops a block that does not finish in time, and says which command was running', async () => {
    const result = await runner.run(block('echo started', 'sleep 30', 'echo never'), 500);
    expect(result.timedOut).toBe(true);
    expect(result.commands.map((c) => c.status)).toEqual([0, undefined]);
  });
});

describe('redact', () => {
  it('hides keys and passcodes from a failure message', () => {
    const key = `sp.auth.demo.${'A'.repeat(32)}`;
    expect(redact(`{"key":"${key}","text":"Your login code is 482913. It expires"}`)).toBe(
      '{"key":"sp.auth.demo.[key]","text":"Your login code is [code]. It expires"}',
    );
  });
});
