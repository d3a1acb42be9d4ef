/**
 * A provider's secret, end to end on the local stack: the admin API seals it (key file, tenant + provider
 * bound), shows it only masked and stores no plain copy; dispatch opens it with the same key and sends it to a
 * real HTTP server on 127.0.0.1; an edit that sends the mask back keeps the secret working.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PutItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { userItem } from '../../functions/adapters/dynamo/keys.ts';
import { createLogger } from '../../functions/adapters/log.ts';
import { SECRET_MASK } from '../../functions/core/channels/provider-params.ts';
import { localDynamo } from '../../functions/local/aws-local.ts';
import { type LocalStack, startLocalStack, TABLE_NAME } from '../../functions/local/stack.ts';

const TOKEN = 'tok-e2e-7f3a9c';
let stack: LocalStack;
let peer: Server;
let peerUrl = '';
const received: Array<{ path: string; headers: IncomingHttpHeaders; body: { to: string; text: string } }> =
  [];

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms = 20_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function call(method: string, path: string, key: string, body?: unknown) {
  const res = await fetch(`${stack.json.apiUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  // biome-ignore lint/suspicious/noExplicitAny: replies are asserted field by field
  return { status: res.status, body: (await res.json()) as any };
}
const admin = (method: string, path: string, body?: unknown) => call(method, path, stack.json.adminKey, body);

async function tableText() {
  const dynamo = localDynamo(stack.dynamoEndpoint);
  try {
    return JSON.stringify((await dynamo.send(new ScanCommand({ TableName: TABLE_NAME }))).Items);
  } finally {
    dynamo.destroy();
  }
}

/** A user whose group policy sends through the one web provider. */
async function userOf(provider: string) {
  const lb = await admin('POST', '/v1/load-balancing-policies', {
    name: `via ${provider}`,
    rules: [{ channel: 'sms_web', target: 'primary', route: provider, timeoutSeconds: 30 }],
  });
  expect(lb.status, JSON.stringify(lb.body)).toBe(201);
  const group = await admin('POST', '/v1/group-policies', {
    name: `group ${provider}`,
    loadBalancingPolicyId: lb.body.id,
    channels: ['sms_web'],
    selfService: { enabled: false, fields: [] },
    secondaryPhone: false,
  });
  expect(group.status, JSON.stringify(group.body)).toBe(201);
  const user = {
    tenantId: stack.json.tenantId,
    username: `web-${provider}`,
    mobile: '+4520778899',
    mobileType: 'mobile',
    secondaryMobile: null,
    email: null,
    groupPolicyId: group.body.id,
  };
  const dynamo = localDynamo(stack.dynamoEndpoint);
  await dynamo.send(
    new PutItemCommand({
      TableName: TABLE_NAME,
      Item: marshall({ ...userItem(user.tenantId, user.username), ...user }),
    }),
  );
  dynamo.destroy();
  return user;
}

/** A whole login through the provider: the request the server got, and the verify result of its code. */
async function loginThrough(username: string) {
  const before = received.length;
  const challenge = await call('POST', '/v1/challenges', stack.json.authKey, {
    username,
    client: { ip: '203.0.113.7', name: 'vpn-gw-1' },
  });
  expect(challenge.status, JSON.stringify(challenge.body)).toBe(201);
  const request = await until('the web provider request', () => received[before]);
  const code = /(\d{6})/.exec(request.body.text)?.[1];
  const verify = await call(
    'POST',
    `/v1/challenges/${challenge.body.challengeId}/verify`,
    stack.json.authKey,
    {
      passcode: code,
    },
  );
  return { request, result: verify.body.result as string };
}

beforeAll(async () => {
  peer = createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => {
      raw += c;
    });
    req.on('end', () => {
      received.push({ path: req.url ?? '', headers: req.headers, body: JSON.parse(raw) });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: 'ok' }));
    });
  });
  await new Promise<void>((r) => peer.listen(0, '127.0.0.1', () => r()));
  peerUrl = `http://127.0.0.1:${(peer.address() as AddressInfo).port}`;
  stack = await startLocalStack({ log: createLogger({}, { level: 'error' }) });
});

afterAll(async () => {
  await stack?.stop();
  await new Promise<void>((r) => (peer ? peer.close(() => r()) : r()));
});

describe('a web SMS provider with a secret token', () => {
  it('is sealed by the admin API, shown masked, and opened by dispatch to send the right token', async () => {
    const created = await admin('POST', '/v1/providers', {
      name: 'web-secret',
      kind: 'sms_web',
      params: {
        url: `${peerUrl}/sms`,
        body: '{"to":"{{to}}","text":"{{text}}"}',
        headers: 'Authorization: Bearer {{param.token}}',
        token: TOKEN,
      },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const shown = await admin('GET', '/v1/providers/web-secret');
    expect(shown.status).toBe(200);
    expect(shown.body.params.token).toBe(SECRET_MASK);
    expect(JSON.stringify(shown.body)).not.toContain(TOKEN);
    // Neither the provider item nor its audit entry holds the plain token.
    const table = await tableText();
    expect(table).toContain('web-secret');
    expect(table).not.toContain(TOKEN);

    const user = await userOf('web-secret');
    const first = await loginThrough(user.username);
    expect(first.request.path).toBe('/sms');
    expect(first.request.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(first.request.body.to).toBe(user.mobile);
    expect(first.result).toBe('accept');

    // The console sends back what it was shown (the mask) with a new URL: the token stays and still works.
    const updated = await admin('PUT', '/v1/providers/web-secret', {
      params: { ...shown.body.params, url: `${peerUrl}/sms2` },
    });
    expect(updated.status, JSON.stringify(updated.body)).toBe(200);
    expect(updated.body.params.token).toBe(SECRET_MASK);
    expect(await tableText()).not.toContain(TOKEN);
    const second = await loginThrough(user.username);
    expect(second.request.path).toBe('/sms2');
    expect(second.request.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(second.result).toBe('accept');
  });
});
