/**
 * What `npm start` leaves on disk: private files, and one working set of demo keys however it is restarted.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DynamoKeyStore } from '../../functions/adapters/dynamo/key-store.ts';
import { createLogger } from '../../functions/adapters/log.ts';
import { localDynamo } from '../../functions/local/aws-local.ts';
import { type LocalStack, startLocalStack, TABLE_NAME } from '../../functions/local/stack.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'smspass-files-'));
const log = createLogger({}, { level: 'error' });
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

function everything(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    return e.isDirectory() ? [path, ...everything(path)] : [path];
  });
}

async function liveKeys(stack: LocalStack): Promise<number> {
  const dynamo = localDynamo(stack.dynamoEndpoint);
  try {
    const store = new DynamoKeyStore(dynamo, TABLE_NAME);
    const keys = [...(await store.list(stack.json.tenantId)), ...(await store.list(''))];
    return keys.filter((k) => !k.revokedAt).length;
  } finally {
    dynamo.destroy();
  }
}

const login = (stack: LocalStack, key: string) =>
  fetch(`${stack.json.apiUrl}/v1/challenges`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'alice' }),
  });

describe('the local data folder', () => {
  it('holds only owner-only files and folders after a start', async () => {
    const stack = await startLocalStack({ dataDir, log });
    // A login, so that the database, the queue copy, the agent's journal and the SMS outbox all have data.
    expect((await login(stack, stack.json.authKey)).status).toBe(201);
    while (!existsSync(stack.json.simulator.outbox)) await new Promise((r) => setTimeout(r, 25));
    await stack.stop();

    const paths = everything(dataDir);
    for (const name of ['stack.json', 'deployment.key', 'agent-credentials.json', 'sim/outbox.jsonl'])
      expect(paths).toContain(join(dataDir, name));
    expect(paths.some((p) => p.startsWith(join(dataDir, 'dynamo')))).toBe(true);
    const loose = [dataDir, ...paths]
      .map((p) => ({ p, st: statSync(p) }))
      .filter(({ st }) => (st.mode & 0o777) !== (st.isDirectory() ? 0o700 : 0o600))
      .map(({ p, st }) => `${p.slice(dataDir.length)} ${(st.mode & 0o777).toString(8)}`);
    expect(loose).toEqual([]);
  });

  it('keeps one set of demo keys when stack.json is lost: the replaced keys stop working', async () => {
    const first = await startLocalStack({ dataDir, log });
    const before = await liveKeys(first);
    const old = first.json;
    await first.stop();

    for (let restart = 0; restart < 3; restart++) {
      unlinkSync(join(dataDir, 'stack.json'));
      const again = await startLocalStack({ dataDir, log });
      try {
        expect(again.json.authKey).not.toBe(old.authKey);
        expect((await login(again, old.authKey)).status).toBe(401);
        expect((await login(again, again.json.authKey)).status).toBe(201);
        const admin = await fetch(`${again.json.apiUrl}/v1/keys`, {
          headers: { authorization: `Bearer ${old.adminKey}` },
        });
        expect(admin.status).toBe(401);
        expect(await liveKeys(again)).toBe(before);
      } finally {
        await again.stop();
      }
    }
  });

  it('keeps the same keys across a restart that has its stack.json', async () => {
    const first = await startLocalStack({ dataDir, log });
    const keys = first.json;
    const count = await liveKeys(first);
    await first.stop();
    const again = await startLocalStack({ dataDir, log });
    try {
      expect(again.json.authKey).toBe(keys.authKey);
      expect((await login(again, keys.authKey)).status).toBe(201);
      expect(await liveKeys(again)).toBe(count);
    } finally {
      await again.stop();
    }
  });
});
