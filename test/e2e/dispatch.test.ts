/**
 * Rule chains on the local stack, every hop real: HTTP → DynamoDB → SQS (with delayed timers) → dispatch →
 * MQTT → edge agents → AT over TCP → simulated modems, and back through the events topic and queue; web SMS
 * providers are HTTP servers started here, e-mail goes to an in-process SMTP server.
 */

import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { SQSEvent } from 'aws-lambda';
import mqtt from 'mqtt';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { userItem } from '../../functions/adapters/dynamo/keys.ts';
import { createLogger } from '../../functions/adapters/log.ts';
import { localDynamo, localSqs } from '../../functions/local/aws-local.ts';
import { type LocalStack, startLocalStack, TABLE_NAME } from '../../functions/local/stack.ts';

let stack: LocalStack;
let peer: Server;
let peerUrl = '';
let smtp: SMTPServer;
let smtpPort = 0;
const webRequests: Array<{ path: string; body: { to: string; text: string } }> = [];
const mails: string[] = [];
const dispatched: SQSEvent[] = [];
const jobs: Array<{ topic: string; id: string }> = [];
let watcher: mqtt.MqttClient;

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms = 20_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const call = (path: string, key: string, init: RequestInit = {}) =>
  fetch(`${stack.json.apiUrl}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
  });
const admin = async (path: string, body: unknown) => {
  const res = await call(path, stack.json.adminKey, { method: 'POST', body: JSON.stringify(body) });
  const json = (await res.json()) as { id?: string };
  if (res.status !== 201) throw new Error(`${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
};

type RuleInput = {
  channel: string;
  target: string;
  route: string | null;
  timeoutSeconds: number;
  requireDeliveryReport?: boolean;
};
let users = 0;
/** A user whose group policy runs `rules`, with numbers of their own (rate limits count per number). */
async function userWith(rules: RuleInput[], email = 'someone@corp.example.test', withMobile = true) {
  const n = ++users;
  const lb = await admin('/v1/load-balancing-policies', { name: `chain ${n}`, rules });
  const group = await admin('/v1/group-policies', {
    name: `group ${n}`,
    loadBalancingPolicyId: lb.id,
    channels: [...new Set(rules.map((r) => r.channel))],
    selfService: { enabled: false, fields: [] },
    secondaryPhone: true,
  });
  const username = `user${n}`;
  const user = {
    tenantId: stack.json.tenantId,
    username,
    mobile: withMobile ? `+452012${String(n).padStart(4, '0')}` : null,
    mobileType: 'mobile',
    secondaryMobile: `+453012${String(n).padStart(4, '0')}`,
    secondaryMobileType: 'mobile',
    email,
    groupPolicyId: group.id,
  };
  const dynamo = localDynamo(stack.dynamoEndpoint);
  await dynamo.send(
    new PutItemCommand({
      TableName: TABLE_NAME,
      Item: marshall({ ...userItem(user.tenantId, username), ...user }),
    }),
  );
  dynamo.destroy();
  return user;
}

async function login(username: string) {
  const res = await call('/v1/challenges', stack.json.authKey, {
    method: 'POST',
    body: JSON.stringify({ username, client: { ip: '203.0.113.7', name: 'vpn-gw-1' } }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { challengeId: string }).challengeId;
}

const view = async (id: string) =>
  (await (await call(`/v1/challenges/${id}`, stack.json.authKey)).json()) as {
    status: string;
    deliveries: Array<{ step: number; channel: string; status: string; at: string }>;
  };
const verify = async (id: string, passcode: string) =>
  (await (
    await call(`/v1/challenges/${id}/verify`, stack.json.authKey, {
      method: 'POST',
      body: JSON.stringify({ passcode }),
    })
  ).json()) as { result: string };

function outbox(): Array<{ modem: string; to: string; text: string }> {
  try {
    return readFileSync(stack.json.simulator.outbox, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
  } catch {
    return [];
  }
}
const codeIn = (text: string) => /code is (\d{6})/.exec(text)?.[1];
const sim = (name: string) =>
  [...stack.edges.values()].flatMap((e) => e.simulators).find((s) => s.name === name)!;

beforeAll(async () => {
  peer = createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => {
      raw += c;
    });
    req.on('end', () => {
      const body = JSON.parse(raw) as { to: string; text: string };
      webRequests.push({ path: req.url ?? '', body });
      // The picky gateway refuses primary numbers (+452012…): "this number cannot receive SMS".
      const refuse = req.url === '/picky' && body.to.startsWith('+452012');
      res.writeHead(refuse ? 400 : 200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(refuse ? { status: 'rejected' } : { status: 'ok', id: 'm1' }));
    });
  });
  await new Promise<void>((r) => peer.listen(0, '127.0.0.1', () => r()));
  peerUrl = `http://127.0.0.1:${(peer.address() as AddressInfo).port}`;

  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onData(stream, _session, done) {
      let data = '';
      stream.on('data', (c: Buffer) => {
        data += c.toString();
      });
      stream.on('end', () => {
        mails.push(data);
        done();
      });
    },
  });
  await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', () => r()));
  smtpPort = (smtp.server.address() as AddressInfo).port;

  stack = await startLocalStack({
    log: createLogger({}, { level: 'error' }),
    modemGroups: ['carrier-a', 'carrier-b'],
    extraAgents: [{ agentId: 'edge-2', groups: ['carrier-c'] }],
    queues: { visibilityTimeoutSeconds: 1, maxReceiveCount: 3 },
    tap: { dispatchBatch: (event) => dispatched.push(event) },
  });
  for (const name of ['carrier-a', 'carrier-b', 'carrier-c']) await admin('/v1/modem-groups', { name });
  await admin('/v1/providers', {
    name: 'web-ok',
    kind: 'sms_web',
    params: { url: `${peerUrl}/sms`, body: '{"to":"{{to}}","text":"{{text}}"}' },
  });
  await admin('/v1/providers', {
    name: 'web-picky',
    kind: 'sms_web',
    params: { url: `${peerUrl}/picky`, body: '{"to":"{{to}}","text":"{{text}}"}' },
  });
  await admin('/v1/providers', {
    name: 'mail',
    kind: 'email',
    params: {
      transport: 'smtp',
      host: '127.0.0.1',
      port: smtpPort,
      security: 'none',
      from: 'login@corp.example.test',
    },
  });

  watcher = await mqtt.connectAsync(stack.json.mqttUrl, {
    ...stack.serviceCredentials,
    clientId: 'dispatch-watcher',
    protocolVersion: 4,
  });
  watcher.on('message', (topic, payload) =>
    jobs.push({ topic, id: (JSON.parse(payload.toString()) as { id: string }).id }),
  );
  await watcher.subscribeAsync('s/local/t/+/a/+/jobs', { qos: 1 });
}, 60_000);

afterAll(async () => {
  await watcher?.endAsync();
  await stack?.stop();
  await new Promise((r) => peer?.close(r));
  await new Promise((r) => smtp?.close(() => r(undefined)));
});

describe('rule chains with failover', () => {
  it('moves from modem group A, whose modem answers +CMS ERROR, to group B, which delivers', async () => {
    const user = await userWith([
      { channel: 'sms_modem', target: 'primary', route: 'carrier-a', timeoutSeconds: 60 },
      { channel: 'sms_modem', target: 'primary', route: 'carrier-b', timeoutSeconds: 60 },
    ]);
    sim('modem-1').setFault({ kind: 'cms_error', code: 21 });
    try {
      const id = await login(user.username);
      const line = await until('the SMS from group B', () => outbox().find((l) => l.to === user.mobile));
      expect(line.modem).toBe('modem-2');
      const done = await until('both steps in the status', async () => {
        const v = await view(id);
        // sent, or already delivered when the status report came back first
        return v.deliveries.length === 2 && /sent|delivered/.test(v.deliveries[1]?.status ?? '')
          ? v
          : undefined;
      });
      expect(done.deliveries.map((d) => [d.step, d.channel, d.status])).toEqual([
        [0, 'sms', 'failed'],
        [1, 'sms', expect.stringMatching(/^(sent|delivered)$/)],
      ]);
      expect(outbox().filter((l) => l.to === user.mobile)).toHaveLength(1);
      expect(await verify(id, codeIn(line.text)!)).toEqual({ result: 'accept' });
    } finally {
      sim('modem-1').setFault(null);
    }
  });

  it('sends to the secondary number when the primary one is refused', async () => {
    const user = await userWith([
      { channel: 'sms_web', target: 'primary', route: 'web-picky', timeoutSeconds: 10 },
      { channel: 'sms_web', target: 'secondary', route: 'web-picky', timeoutSeconds: 10 },
    ]);
    const id = await login(user.username);
    const second = await until('the request for the secondary number', () =>
      webRequests.find((r) => r.body.to === user.secondaryMobile),
    );
    expect(webRequests.filter((r) => r.body.to === user.mobile)).toHaveLength(1);
    const v = await until('the status', async () => {
      const s = await view(id);
      return s.status === 'sent' ? s : undefined;
    });
    expect(v.deliveries.map((d) => [d.step, d.status])).toEqual([
      [0, 'failed'],
      [1, 'sent'],
    ]);
    expect(await verify(id, codeIn(second.body.text)!)).toEqual({ result: 'accept' });
  });

  it('fails over to the web provider when the agent dies mid-send and its step times out', async () => {
    const user = await userWith([
      { channel: 'sms_modem', target: 'primary', route: 'carrier-c', timeoutSeconds: 5 },
      { channel: 'sms_web', target: 'primary', route: 'web-ok', timeoutSeconds: 10 },
    ]);
    const modem = sim('edge-2-modem-1');
    const edge2 = stack.edges.get('edge-2')!;
    modem.setFault({ kind: 'hang' });
    const id = await login(user.username);
    // The agent has started the send (AT+CMGS is on the wire), then it dies: no event will ever come.
    await until('AT+CMGS at the modem', () =>
      modem.transcript.some((t) => t.dir === 'in' && t.data.includes('AT+CMGS')) ? true : undefined,
    );
    await edge2.agent.link.close(0);
    const request = await until(
      'the web provider request',
      () => webRequests.find((r) => r.path === '/sms' && r.body.to === user.mobile),
      30_000,
    );
    const v = await until('the status', async () => {
      const s = await view(id);
      return s.status === 'sent' ? s : undefined;
    });
    expect(v.deliveries.map((d) => [d.step, d.channel, d.status])).toEqual([
      [0, 'sms', 'failed'],
      [1, 'sms', 'sent'],
    ]);
    expect(outbox().filter((l) => l.to === user.mobile)).toHaveLength(0);
    expect(await verify(id, codeIn(request.body.text)!)).toEqual({ result: 'accept' });
    // Free the hung send so the agent can stop.
    await modem.close();
  }, 60_000);

  it('delivers an e-mail rule through SMTP, and the mail holds the code', async () => {
    const user = await userWith(
      [{ channel: 'email', target: 'email', route: 'mail', timeoutSeconds: 10 }],
      'mailuser@corp.example.test',
    );
    const id = await login(user.username);
    const mail = await until('the mail', () => mails.find((m) => m.includes('mailuser@corp.example.test')));
    const code = /code is (\d{6})/.exec(mail)?.[1];
    expect(code).toBeDefined();
    const v = await until('the status', async () => {
      const s = await view(id);
      return s.status === 'sent' ? s : undefined;
    });
    expect(v.deliveries).toEqual([{ step: 0, channel: 'email', status: 'sent', at: expect.any(String) }]);
    expect(await verify(id, code!)).toEqual({ result: 'accept' });
  });
});

describe('users without a mobile number', () => {
  it('get their code by e-mail when their chain sends e-mail, and the reply shows the masked address', async () => {
    const user = await userWith(
      [{ channel: 'email', target: 'email', route: 'mail', timeoutSeconds: 10 }],
      'nomobile@corp.example.test',
      false,
    );
    const res = await call('/v1/challenges', stack.json.authKey, {
      method: 'POST',
      body: JSON.stringify({ username: user.username }),
    });
    expect(res.status).toBe(201);
    const created = (await res.json()) as { challengeId: string; destination: string };
    expect(created.destination).toBe('n••••@corp.example.test');
    const mail = await until('the mail', () => mails.find((m) => m.includes('nomobile@corp.example.test')));
    expect(await verify(created.challengeId, /code is (\d{6})/.exec(mail)![1]!)).toEqual({
      result: 'accept',
    });
  });

  it('are answered like an unknown name when their chain needs one, and the message log says why', async () => {
    const user = await userWith(
      [{ channel: 'sms_modem', target: 'primary', route: 'carrier-b', timeoutSeconds: 10 }],
      'x@corp.example.test',
      false,
    );
    const create = (username: string) =>
      call('/v1/challenges', stack.json.authKey, { method: 'POST', body: JSON.stringify({ username }) });
    const res = await create(user.username);
    const unknown = await create('nobody-at-all');
    expect(res.status).toBe(201);
    expect(unknown.status).toBe(201);
    const [known, stranger] = [await res.json(), await unknown.json()] as Array<Record<string, unknown>>;
    expect(Object.keys(known!).sort()).toEqual(Object.keys(stranger!).sort());
    const log = await call(`/v1/message-log?username=${user.username}`, stack.json.adminKey);
    const rows = ((await log.json()) as { messages: Array<Record<string, unknown>> }).messages;
    expect(rows).toEqual([
      expect.objectContaining({ challengeId: known!.challengeId, status: 'failed', reason: 'no_route' }),
    ]);
  });
});

describe('the message log', () => {
  it('lists each step with time, channel, route, masked destination, status; searchable and paginated', async () => {
    const get = async (query: string) => {
      const res = await call(`/v1/message-log?${query}`, stack.json.adminKey);
      expect(res.status).toBe(200);
      return (await res.json()) as {
        messages: Array<Record<string, unknown>>;
        cursor?: string;
      };
    };
    // user1 is the first test's user: group A failed, group B sent.
    const page = await get('username=user1');
    expect(page.messages.filter((m) => m.username === 'user1')).toEqual([
      expect.objectContaining({
        step: 1,
        channel: 'sms_modem',
        route: 'carrier-b',
        status: expect.stringMatching(/^(sent|delivered)$/),
        destination: '+45 •• •• •• 01',
      }),
      expect.objectContaining({
        step: 0,
        channel: 'sms_modem',
        route: 'carrier-a',
        status: 'failed',
        reason: 'permanent',
      }),
    ]);
    expect(JSON.stringify(page)).not.toMatch(/\+45\d{8}/);
    const failed = await get('status=failed');
    expect(failed.messages.length).toBeGreaterThan(0);
    expect(failed.messages.every((m) => m.status === 'failed')).toBe(true);
    // One challenge per page, followed to the end: every challenge once.
    const ids: unknown[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 50; pages++) {
      const p = await get(`limit=1${cursor ? `&cursor=${cursor}` : ''}`);
      ids.push(...new Set(p.messages.map((m) => m.challengeId)));
      cursor = p.cursor;
      if (!cursor) break;
    }
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBeGreaterThanOrEqual(4);
    expect((await call('/v1/message-log?cursor=bm9wZQ', stack.json.adminKey)).status).toBe(400);
  });

  it('keeps what the tenant sets: the retention is stored and the listing honours it', async () => {
    const res = await call('/v1/message-log/retention', stack.json.adminKey, {
      method: 'PUT',
      body: JSON.stringify({ days: 7 }),
    });
    expect(await res.json()).toEqual({ days: 7 });
    const bad = await call('/v1/message-log/retention', stack.json.adminKey, {
      method: 'PUT',
      body: JSON.stringify({ days: 0 }),
    });
    expect(bad.status).toBe(400);
  });
});

describe('exactly once, and never late', () => {
  it('makes one SMS when SQS delivers the same step message three more times', async () => {
    const user = await userWith([
      { channel: 'sms_modem', target: 'primary', route: 'carrier-b', timeoutSeconds: 60 },
    ]);
    const id = await login(user.username);
    const record = await until('the step message', () =>
      dispatched.flatMap((e) => e.Records).find((r) => r.body.includes(id)),
    );
    await until('the SMS', () => outbox().find((l) => l.to === user.mobile));
    const sqs = localSqs(stack.sqsEndpoint);
    for (let i = 0; i < 3; i++)
      await sqs.send(new SendMessageCommand({ QueueUrl: stack.queues.dispatch, MessageBody: record.body }));
    await until('the three copies dispatched', () =>
      dispatched.flatMap((e) => e.Records).filter((r) => r.body === record.body).length >= 4
        ? true
        : undefined,
    );
    await until('the agent to see the copies', () =>
      jobs.filter((j) => j.id === `${id}.0`).length >= 4 ? true : undefined,
    );
    await new Promise((r) => setTimeout(r, 300));
    expect(outbox().filter((l) => l.to === user.mobile)).toHaveLength(1);
    sqs.destroy();
  });

  it('puts a poison message in the dead-letter queue', async () => {
    const sqs = localSqs(stack.sqsEndpoint);
    await sqs.send(
      new SendMessageCommand({ QueueUrl: stack.queues.dispatch, MessageBody: '{"v":1,"poison":true}' }),
    );
    const dead = await until(
      'the dead letter',
      async () => {
        const out = await sqs.send(
          new ReceiveMessageCommand({ QueueUrl: stack.queues.dispatchDlq, WaitTimeSeconds: 1 }),
        );
        return out.Messages?.find((m) => m.Body?.includes('poison'));
      },
      30_000,
    );
    expect(dead.Body).toBe('{"v":1,"poison":true}');
    sqs.destroy();
  }, 40_000);

  it('never sends the pending step of an expired challenge', async () => {
    const user = await userWith([
      { channel: 'sms_modem', target: 'primary', route: 'carrier-b', timeoutSeconds: 60 },
      { channel: 'sms_modem', target: 'secondary', route: 'carrier-b', timeoutSeconds: 60 },
    ]);
    const id = await login(user.username);
    const record = await until('the step message', () =>
      dispatched.flatMap((e) => e.Records).find((r) => r.body.includes(id)),
    );
    // Step 1 of the same challenge, come round after the challenge expired.
    const late = {
      ...JSON.parse(record.body),
      step: 1,
      expiresAt: new Date(Date.now() - 1000).toISOString(),
    };
    delete late.agentId;
    const body = JSON.stringify(late);
    const sqs = localSqs(stack.sqsEndpoint);
    await sqs.send(new SendMessageCommand({ QueueUrl: stack.queues.dispatch, MessageBody: body }));
    await until('the late message handled', () =>
      dispatched.flatMap((e) => e.Records).find((r) => r.body === body),
    );
    await new Promise((r) => setTimeout(r, 500));
    expect(jobs.filter((j) => j.id === `${id}.1`)).toEqual([]);
    expect(outbox().filter((l) => l.to === user.secondaryMobile)).toEqual([]);
    sqs.destroy();
  });
});
