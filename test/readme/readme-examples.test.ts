/**
 * README.md's shell examples run as written, in order, against one fresh local stack: a block that fails, or
 * a command whose output no longer matches the sample the README shows, fails here with the block, the line,
 * the command, the sample and the output. Blocks marked `<!-- readme-test: skip (reason) -->` are skipped
 * with their reason. How blocks are read: readme-blocks.ts; how they run: readme-runner.ts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { firstMismatch, matchesSample, shellBlocks } from './readme-blocks.ts';
import {
  type BlockResult,
  BlockRunner,
  type CommandResult,
  findCurl,
  REPO,
  type RunningStack,
  redact,
  startStack,
} from './readme-runner.ts';

const BLOCK_TIMEOUT_MS = 45_000;
const blocks = shellBlocks(readFileSync(join(REPO, 'README.md'), 'utf8'));
const curl = findCurl();

if (!curl) {
  const reason = 'curl not found: install it with "apt-get install -y curl" to run the README examples';
  if (process.env.REQUIRE_PEERS === '1') {
    it('has curl installed (REQUIRE_PEERS=1)', () => {
      throw new Error(reason);
    });
  } else {
    console.warn(`skipping the README examples: ${reason}`);
  }
}

describe.skipIf(!curl)('README.md shell examples', () => {
  let stack: RunningStack;
  let runner: BlockRunner;

  beforeAll(async () => {
    stack = await startStack(120_000);
    runner = new BlockRunner(stack.home, curl!);
  }, 150_000);

  afterAll(async () => {
    runner?.close();
    await stack?.stop();
  }, 30_000);

  it('has runnable examples', () => {
    expect(blocks.filter((b) => !b.skip).length).toBeGreaterThan(0);
  });

  for (const block of blocks) {
    const name = `block ${block.index} (README line ${block.line})`;
    if (block.skip) {
      console.info(`README ${name}: skipped, ${block.skip}`);
      it.skip(`${name}: ${block.skip}`, () => {});
      continue;
    }
    it(
      name,
      async () => {
        const result = await runner.run(block, BLOCK_TIMEOUT_MS);
        const problem = findProblem(result);
        if (problem) throw new Error(redact(`README ${name}: ${problem}`));
      },
      BLOCK_TIMEOUT_MS + 15_000,
    );
  }
});

function findProblem(result: BlockResult): string | undefined {
  for (const ran of result.commands) {
    const where = describeCommand(ran);
    if (ran.status === undefined)
      return `did not finish within ${BLOCK_TIMEOUT_MS / 1000} s, in\n${where}${output(ran)}`;
    if (ran.status !== 0) return `a command failed (exit status ${ran.status})\n${where}${output(ran)}`;
    const sample = ran.command.sample;
    if (sample !== undefined && !matchesSample(sample, ran.stdout))
      return [
        `the output does not match the sample (${firstMismatch(sample, ran.stdout)})`,
        where.trimEnd(),
        `  expected (… is any text, whitespace ignored):\n${indent(sample)}`,
        `  actual output:\n${indent(ran.stdout || '(nothing)')}`,
      ].join('\n');
  }
  if (result.timedOut) return `did not finish within ${BLOCK_TIMEOUT_MS / 1000} s`;
  return undefined;
}

function describeCommand(ran: CommandResult): string {
  return `  line ${ran.command.line}:\n${indent(ran.command.text)}\n`;
}

function output(ran: CommandResult): string {
  const parts = [`  stdout:\n${indent(ran.stdout || '(nothing)')}`];
  if (ran.stderr) parts.push(`  stderr:\n${indent(ran.stderr)}`);
  return parts.join('\n');
}

const indent = (s: string) =>
  s
    .trimEnd()
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
