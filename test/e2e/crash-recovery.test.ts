/**
 * `kill -9` of the whole local stack (`npm start`, run here as a child process) in the middle of a burst of
 * logins, then a restart on the same data folder. A `201` is a promise: every challenge that got one must end
 * with exactly one SMS at the simulator, or `failed` with a reason on its step. None lost, none sent twice.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { DynamoChallengeStore } from '../../functions/adapters/dynamo/challenge-store.ts';
import { userItem } from '../../functions/adapters/dynamo/keys.ts';
import { OUTCOME_UNKNOWN } from '../../functions/core/challenge-transitions.ts';
import { localDynamo } from '../../functions/local/aws-local.ts';
import type { StackJson } from '../../functions/local/stack.ts';
import { TABLE_NAME } from '../../functions/local/stack.ts';

const LOGINS = 200;
const KILL_AFTER = 60;
const root = resolve(import.meta.dirname, '../..');
const dataDir = mkdtempSync(join(tmpdir(), 'smspass-crash-'));
const children = new Set<ChildProcess>();

afterAll(() => {
  for (const child of children) {
    try {
      if (child.exitCode === null && child.signalCode === null && child.pid)
        process.kill(child.pid, 'SIGKILL');
    } catch {
      // it exited on its own meanwhile
    }
  }
  rmSync(dataDir, { recursive: true, force: true });
});

/** `npm start` on ephemeral ports; resolves once it printed its summary. */
async function startStack(): Promise<{
  child: ChildProcess;
  exited: Promise<void>;
  json: StackJson;
  dynamoEndpoint: string;
  summary: string;
}> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'functions/local/main.ts'], {
    cwd: root,
    env: {
      ...process.env,
      SMSPASS_DATA_DIR: dataDir,
      API_PORT: '0',
      DYNAMO_PORT: '0',
      SQS_PORT: '0',
      MQTT_PORT: '0',
      MQTTS_PORT: '0',
      MODEM1_PORT: '0',
      MODEM2_PORT: '0',
      // A modem that takes a moment per SMS, so a backlog is in flight when the stack dies.
      MODEM_SEND_MS: '10',
      LOG_LEVEL: 'error',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const dynamoEndpoint = await new Promise<string>((ok, fail) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /DynamoDB\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m && out.includes('Try a login')) ok(m[1]!);
    });
    child.once('exit', (code) => fail(new Error(`the stack exited (${code}): ${err.slice(-2000)}`)));
  });
  const json = JSON.parse(readFileSync(join(dataDir, 'stack.json'), 'utf8')) as StackJson;
  return { child, exited, json, dynamoEndpoint, summary: out };
}

const mobileOf = (n: number) => `+4521${String(n).padStart(6, '0')}`;

function outboxCounts(path: string): Map<string, number> {
  const counts = new Map<string, number>();
  if (!existsSync(path)) return counts;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line) continue;
    try {
      const { to } = JSON.parse(line) as { to: string };
      counts.set(to, (counts.get(to) ?? 0) + 1);
    } catch {
      // a line torn by the kill is not a whole SMS
    }
  }
  return counts;
}

describe('kill -9 of the local stack mid-burst', () => {
  it('keeps every 201: one SMS each, or failed with a reason', { timeout: 240_000 }, async () => {
    const first = await startStack();
    const dynamo = localDynamo(first.dynamoEndpoint);
    // One user per login, each with a number of their own, so every SMS in the outbox names its challenge.
    for (let n = 1; n <= LOGINS; n++) {
      await dynamo.send(
        new PutItemCommand({
          TableName: TABLE_NAME,
          Item: marshall({
            ...userItem(first.json.tenantId, `crash${n}`),
            tenantId: first.json.tenantId,
            username: `crash${n}`,
            mobile: mobileOf(n),
            mobileType: 'mobile',
            secondaryMobile: null,
            email: null,
          }),
        }),
      );
    }
    dynamo.destroy();

    const answered = new Map<string, number>();
    let killed = false;
    const kill = () => {
      if (killed) return;
      killed = true;
      process.kill(first.child.pid!, 'SIGKILL');
    };
    await Promise.allSettled(
      Array.from({ length: LOGINS }, async (_, i) => {
        const n = i + 1;
        const res = await fetch(`${first.json.apiUrl}/v1/challenges`, {
          method: 'POST',
          headers: { authorization: `Bearer ${first.json.authKey}`, 'content-type': 'application/json' },
          body: JSON.stringify({ username: `crash${n}` }),
          // A request the kill cut off is not answered; it must not hold the test.
          signal: AbortSignal.timeout(20_000),
        });
        if (res.status !== 201) return;
        const { challengeId } = (await res.json()) as { challengeId: string };
        if (killed) return;
        answered.set(challengeId, n);
        if (answered.size >= KILL_AFTER) kill();
      }),
    );
    kill();
    await first.exited;

    const second = await startStack();
    const store = new DynamoChallengeStore(localDynamo(second.dynamoEndpoint), TABLE_NAME);
    const outbox = second.json.simulator.outbox;
    const settled = async () => {
      const counts = outboxCounts(outbox);
      const states = await Promise.all(
        [...answered].map(async ([id, n]) => {
          const challenge = await store.get(second.json.tenantId, id, true);
          const step = challenge?.deliveries.at(-1);
          return {
            lines: counts.get(mobileOf(n)) ?? 0,
            // a job that was at the modem is reported unknown, never sent twice; it reads failed after a wait
            failed:
              (challenge?.status === 'failed' && typeof step?.reason === 'string') ||
              step?.reason === OUTCOME_UNKNOWN,
          };
        }),
      );
      return states;
    };
    let states = await settled();
    const deadline = Date.now() + 120_000;
    while (states.some((s) => s.lines === 0 && !s.failed) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      states = await settled();
    }

    const restart = /Restart\s+(\d+) waiting steps sent again, (\d+) failed/.exec(second.summary);
    const figures = {
      answered201: answered.size,
      resentAtRestart: Number(restart?.[1] ?? 0),
      failedAtRestart: Number(restart?.[2] ?? 0),
      sentOnce: states.filter((s) => s.lines === 1).length,
      clearlyFailed: states.filter((s) => s.lines === 0 && s.failed).length,
      lost: states.filter((s) => s.lines === 0 && !s.failed).length,
      duplicates: states.filter((s) => s.lines > 1).length,
    };
    console.log('crash recovery:', JSON.stringify(figures));
    expect(figures.answered201).toBeGreaterThanOrEqual(KILL_AFTER);
    expect(figures.lost).toBe(0);
    expect(figures.duplicates).toBe(0);
    expect(figures.sentOnce + figures.clearlyFailed).toBe(figures.answered201);
    process.kill(second.child.pid!, 'SIGTERM');
    await second.exited;
  });
});
