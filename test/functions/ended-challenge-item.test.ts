/**
 * An accepted challenge is kept up to 400 days as the login's audit entry, so the accept drops what only a
 * live challenge needs (the code's hash, the personal passcode, the sealed text). The message log, the audit
 * log's `challenge.created` and `challenge.accepted` entries and the challenge's own view read the same as
 * before; a retried verify still learns it was the one that accepted. On dynalite.
 */
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoAuditLog } from '../../functions/adapters/dynamo/audit-store.ts';
import { challengeItem } from '../../functions/adapters/dynamo/keys.ts';
import { DynamoMessageLogStore } from '../../functions/adapters/dynamo/message-log-store.ts';
import type { SmsJob } from '../../functions/contracts/index.ts';
import { systemClock } from '../../functions/core/clock.ts';
import { MessageLogService } from '../../functions/core/message-log.ts';
import { buildAuthApp } from '../../functions/deps.ts';
import { type CloudFixture, jsonRequest, startCloud, TABLE } from '../support/cloud.ts';
import { itemSize } from '../support/dynamo-meter.ts';

let cloud: CloudFixture;
let app: ReturnType<typeof buildAuthApp>;
const published: SmsJob[] = [];

beforeAll(async () => {
  cloud = await startCloud();
  app = buildAuthApp({
    dynamo: cloud.dynamo,
    table: TABLE,
    keys: cloud.keys,
    log: cloud.log,
    sqs: cloud.sqs,
    dispatchQueueUrl: cloud.queueUrl,
    agentCacheMs: 0,
    publisher: {
      publishJob: async (_tenant, _agent, job) => {
        published.push(job);
      },
    },
  });
  await cloud.stores.directory.setAgentState(
    cloud.seed.tenantId,
    cloud.seed.agent.agentId,
    'online',
    new Date().toISOString(),
  );
  await cloud.stores.directory.setAgentJobVersions(cloud.seed.tenantId, cloud.seed.agent.agentId, [1, 2]);
});
afterAll(() => cloud?.close());

const tenantId = () => cloud.seed.tenantId;

async function rawItem(id: string) {
  const out = await cloud.dynamo.send(
    new GetItemCommand({
      TableName: TABLE,
      Key: marshall(challengeItem(tenantId(), id)),
      ConsistentRead: true,
    }),
  );
  if (!out.Item) throw new Error('no challenge item');
  return out.Item;
}

/** What every reader of the challenge item shows of it. */
async function views(id: string) {
  const log = new MessageLogService({
    store: new DynamoMessageLogStore(cloud.dynamo, TABLE),
    clock: systemClock,
  });
  const { messages } = await log.list(tenantId(), { username: 'alice' });
  const { entries } = await new DynamoAuditLog(cloud.dynamo, TABLE).list(tenantId(), { limit: 50 });
  const view = await app.request(`/v1/challenges/${id}`, {
    headers: { authorization: `Bearer ${cloud.seed.keys.auth}` },
  });
  return {
    messages: messages.filter((m) => m.challengeId === id),
    created: entries.filter((e) => e.target === `challenge:${id}` && e.action === 'challenge.created'),
    accepted: entries.filter((e) => e.target === `challenge:${id}` && e.action === 'challenge.accepted'),
    view: (await view.json()) as { status: string; deliveries: unknown[] },
  };
}

const verify = (id: string, passcode: string) =>
  app.request(
    `/v1/challenges/${id}/verify`,
    jsonRequest({ passcode, client: { ip: '203.0.113.9' } }, cloud.seed.keys.auth),
  );

describe('an ended challenge keeps only what its readers show', () => {
  it('drops the live-only fields at accept, and every reader shows the same entries', async () => {
    const res = await app.request(
      '/v1/challenges',
      jsonRequest(
        { username: 'alice', client: { ip: '203.0.113.9', name: 'vpn-gw-1' } },
        cloud.seed.keys.auth,
      ),
    );
    expect(res.status).toBe(201);
    const { challengeId: id } = (await res.json()) as { challengeId: string };
    const job = published.find((j) => j.id === `${id}.0`);
    const code = /code is (\d+)/.exec(job?.text ?? '')?.[1] ?? '';
    expect(code).not.toBe('');

    const live = await rawItem(id);
    expect(live.codeHash).toBeDefined();
    const before = await views(id);
    expect(before.created).toHaveLength(1);
    expect(before.messages).toHaveLength(1);

    expect(await (await verify(id, code)).json()).toEqual({ result: 'accept' });
    const kept = await rawItem(id);
    for (const field of ['codeHash', 'personal', 'sealed', 'alphabet', 'boundIp'])
      expect(kept, field).not.toHaveProperty(field);
    // what an accepted one-rule login leaves for 400 days: 841 bytes with the code's hash, 790 without
    expect(itemSize(kept)).toBeLessThanOrEqual(800);

    const after = await views(id);
    expect(after.messages).toEqual(before.messages);
    expect(after.created).toEqual(before.created);
    expect(after.created[0]).toMatchObject({
      details: { username: 'alice', clientIp: '203.0.113.9', clientName: 'vpn-gw-1', knownUser: true },
    });
    expect(after.accepted).toEqual([
      expect.objectContaining({
        action: 'challenge.accepted',
        details: { username: 'alice', passcode: 'sent', attempts: 1 },
      }),
    ]);
    expect(after.view).toEqual({ ...before.view, status: 'accepted' });

    // a second verify of the same code, and a wrong one, are both told the code is used
    expect(await (await verify(id, code)).json()).toMatchObject({ result: 'reject', reason: 'used' });
    expect(await (await verify(id, '000000')).json()).toMatchObject({ result: 'reject', reason: 'used' });
  });

  it('drops them when wrong codes lock the challenge and when a resend supersedes it', async () => {
    const create = async () => {
      const res = await app.request(
        '/v1/challenges',
        jsonRequest({ username: 'alice', client: { ip: '203.0.113.9' } }, cloud.seed.keys.auth),
      );
      return ((await res.json()) as { challengeId: string }).challengeId;
    };
    const locked = await create();
    const code = /code is (\d+)/.exec(published.find((j) => j.id === `${locked}.0`)?.text ?? '')?.[1] ?? '';
    const wrong = code === '000000' ? '111111' : '000000';
    for (let i = 0; i < 10; i++) {
      const verdict = (await (await verify(locked, wrong)).json()) as { reason?: string };
      if (verdict.reason === 'locked') break;
    }
    const lockedItem = await rawItem(locked);
    expect(lockedItem.status?.S).toBe('rejected');
    expect(lockedItem).not.toHaveProperty('codeHash');
    // the right code no longer opens it
    expect(await (await verify(locked, code)).json()).toMatchObject({ result: 'reject', reason: 'locked' });

    const old = await create();
    const res = await app.request(`/v1/challenges/${old}/resend`, jsonRequest({}, cloud.seed.keys.auth));
    expect(res.status).toBe(201);
    const superseded = await rawItem(old);
    expect(superseded.status?.S).toBe('rejected');
    expect(superseded).not.toHaveProperty('codeHash');
  });
});
