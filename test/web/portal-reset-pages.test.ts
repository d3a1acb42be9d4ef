/**
 * The portal's password reset pages over HTTP (form posts, no browser) on the local stack, with a real MQTT
 * client as the AD agent: what each refusal looks like and where it stands, that the pages tell a real user
 * from an unknown one no better than the API does, a cross-origin post, a forged reset id, and one password
 * set from hundreds of parallel posts of the last form.
 */
import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../functions/adapters/log.ts';
import {
  jobsTopic,
  LOCAL_STAGE,
  type RpcRequest,
  rpcFail,
  rpcOk,
  type Sealed,
} from '../../functions/contracts/index.ts';
import { RESET_REFUSALS } from '../../functions/contracts/password.ts';
import { localDynamo } from '../../functions/local/aws-local.ts';
import { type LocalStack, startLocalStack, TABLE_NAME } from '../../functions/local/stack.ts';
import { type RpcAgentPeer, startRpcAgent, until } from '../support/rpc-agent.ts';

const PERSONAL = 'Personal2026';
let stack: LocalStack;
let agent: RpcAgentPeer;
const codes: string[] = [];
const setCalls: string[] = [];
const logLines: string[] = [];

/** AD as the agent sees it: a minimum length of 8. */
function setPassword(r: RpcRequest, peer: RpcAgentPeer) {
  const params = r.params as { username: string; newPassword: Sealed };
  const pw = peer.openField(r, 'newPassword', params.newPassword);
  setCalls.push(params.username);
  if (pw.length < 8)
    return rpcFail(r.id, { code: 'password_policy', reason: 'too_short', message: 'too short' });
  return rpcOk<'ad.setPassword'>(r.id, { changed: true });
}

const post = async (path: string, form: Record<string, string>, headers: Record<string, string> = {}) => {
  const res = await fetch(`${stack.json.apiUrl}/portal/password-reset${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form).toString(),
    redirect: 'manual',
  });
  return { status: res.status, html: await res.text() };
};
const hidden = (html: string, name: string) =>
  new RegExp(`name="${name}" value="([^"]*)"`).exec(html)?.[1] ?? '';
/** The error shown beside a field, by the field's name. */
const errorBeside = (html: string, field: string) =>
  new RegExp(`id="f-${field}-error">([^<]*)<`).exec(html)?.[1];

const start = (username: string, personalPasscode = PERSONAL) =>
  post('', { tenant: stack.seed.tenantId, username, personalPasscode });

async function verified(): Promise<string> {
  const before = codes.length;
  const page = await start('alice');
  expect(page.status).toBe(200);
  const resetId = hidden(page.html, 'resetId');
  const code = await until('the SMS job', () => codes[before]);
  const next = await post('/verify', { tenant: stack.seed.tenantId, resetId, passcode: code });
  expect(next.html).toContain('Choose a new password');
  return resetId;
}

beforeAll(async () => {
  stack = await startLocalStack({
    edge: false,
    secureCookies: false,
    log: createLogger({}, { level: 'debug', write: (line) => logLines.push(line) }),
  });
  const dynamo = localDynamo(stack.dynamoEndpoint);
  try {
    await dynamo.send(
      new UpdateItemCommand({
        TableName: TABLE_NAME,
        Key: marshall({ pk: `TENANT#${stack.seed.tenantId}`, sk: 'TENANT' }),
        UpdateExpression: 'SET #s = :s',
        ExpressionAttributeNames: { '#s': 'security' },
        ExpressionAttributeValues: marshall({ ':s': { limits: { perUser: 1000, perClientIp: 1000 } } }),
      }),
    );
    // alice came from AD
    await dynamo.send(
      new UpdateItemCommand({
        TableName: TABLE_NAME,
        Key: marshall({ pk: `TENANT#${stack.seed.tenantId}`, sk: 'USER#alice' }),
        UpdateExpression: 'SET #d = :d',
        ExpressionAttributeNames: { '#d': 'domain' },
        ExpressionAttributeValues: marshall({ ':d': 'corp.example.test' }),
      }),
    );
  } finally {
    dynamo.destroy();
  }
  const res = await fetch(`${stack.json.apiUrl}/v1/personal-passcodes/alice`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${stack.json.adminKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      passcode: PERSONAL,
      validFrom: new Date(Date.now() - 60_000).toISOString(),
      validUntil: new Date(Date.now() + 3600_000).toISOString(),
    }),
  });
  expect(res.status).toBe(200);
  agent = await startRpcAgent(stack, {
    agentId: stack.seed.agent.agentId,
    secret: stack.seed.agent.secret,
    adDomains: ['corp.example.test'],
    handler: setPassword,
  });
  const address = { stage: LOCAL_STAGE, tenantId: stack.seed.tenantId, agentId: agent.agentId };
  agent.client.on('message', (topic, payload) => {
    if (topic !== jobsTopic(address)) return;
    const text = (JSON.parse(payload.toString('utf8')) as { text: string }).text;
    const code = /\b(\d{4,10})\b/.exec(text)?.[1];
    if (code) codes.push(code);
  });
  await agent.client.subscribeAsync(jobsTopic(address), { qos: 1 });
}, 60_000);
afterAll(async () => {
  await agent?.close();
  await stack?.stop();
});

describe('the portal password reset pages', () => {
  it('offers the reset from the sign-in page', async () => {
    const page = await (await fetch(`${stack.json.apiUrl}/portal/sign-in?tenant=demo`)).text();
    expect(page).toContain('href="/portal/password-reset?tenant=demo"');
    const form = await (await fetch(`${stack.json.apiUrl}/portal/password-reset?tenant=demo`)).text();
    expect(form).toContain('<label for="f-personalPasscode">Personal passcode</label>');
    expect(form).toContain('value="demo"');
  });

  it('puts each refusal beside its field, and AD’s in its plain words', async () => {
    const empty = await post('', { tenant: stack.seed.tenantId, username: '', personalPasscode: '' });
    expect(empty.status).toBe(400);
    expect(errorBeside(empty.html, 'username')).toBe('Fill in your username.');
    expect(errorBeside(empty.html, 'personalPasscode')).toBe('Fill in your personal passcode.');

    const before = codes.length;
    const page = await start('alice');
    const resetId = hidden(page.html, 'resetId');
    const code = await until('the SMS job', () => codes[before]);
    const wrong = await post('/verify', {
      tenant: stack.seed.tenantId,
      resetId,
      passcode: code === '000000' ? '111111' : '000000',
    });
    expect(wrong.status).toBe(401);
    expect(errorBeside(wrong.html, 'passcode')).toMatch(
      /^That passcode is not right\. \d+ attempts? left\.$/,
    );
    expect(wrong.html).toContain('aria-invalid="true"');
    const right = await post('/verify', { tenant: stack.seed.tenantId, resetId, passcode: code });
    expect(right.html).toContain('Choose a new password');

    const form = { tenant: stack.seed.tenantId, resetId };
    const calls = setCalls.length;
    const mismatch = await post('/password', {
      ...form,
      newPassword: 'Long enough 1!',
      confirmPassword: 'Long enough 2!',
    });
    expect(mismatch.status).toBe(400);
    expect(errorBeside(mismatch.html, 'confirmPassword')).toMatch(/not the same/);
    expect(setCalls.length).toBe(calls);
    const short = await post('/password', { ...form, newPassword: 'short', confirmPassword: 'short' });
    expect(short.status).toBe(422);
    expect(errorBeside(short.html, 'newPassword')).toBe(RESET_REFUSALS.too_short);
    expect(short.html).not.toContain('value="short"');
    const good = await post('/password', {
      ...form,
      newPassword: 'Long enough 1!',
      confirmPassword: 'Long enough 1!',
    });
    expect(good.status).toBe(200);
    expect(good.html).toContain('Your password was changed');
    const again = await post('/password', {
      ...form,
      newPassword: 'Long enough 3!',
      confirmPassword: 'Long enough 3!',
    });
    expect(again.status).toBe(409);
    expect(again.html).toContain('Start again');
    expect(logLines.join('\n')).not.toContain('Long enough');
  }, 30_000);

  it('shows an unknown user and a wrong personal passcode the same page as a real start', async () => {
    const shape = (html: string) =>
      html
        .replace(/name="resetId" value="[^"]*"/, '')
        .replace(/\+45 [•\s\d]+/g, 'N')
        .replace(/name="destination" value="[^"]*"/, '');
    const real = await start('alice');
    const wrong = await start('alice', 'NotMyCode99');
    const unknown = await start('nobody-at-all');
    for (const page of [wrong, unknown]) {
      expect(page.status).toBe(real.status);
      expect(shape(page.html)).toBe(shape(real.html));
    }
    // every passcode on a decoy is wrong
    const code = await until('the real SMS', () => codes.at(-1));
    const onDecoy = await post('/verify', {
      tenant: stack.seed.tenantId,
      resetId: hidden(unknown.html, 'resetId'),
      passcode: code,
    });
    expect(errorBeside(onDecoy.html, 'passcode')).toMatch(/not right/);
  }, 30_000);

  it('refuses a post from another origin, and a forged reset id', async () => {
    const cross = await post(
      '',
      { tenant: stack.seed.tenantId, username: 'alice', personalPasscode: PERSONAL },
      { origin: 'https://evil.example' },
    );
    expect(cross.status).toBe(403);
    const forged = await post('/password', {
      tenant: stack.seed.tenantId,
      resetId: `${stack.seed.tenantId}.AAAAAAAAAAAAAAAAAAAAAA`,
      newPassword: 'Long enough 1!',
      confirmPassword: 'Long enough 1!',
    });
    expect(forged.status).toBe(404);
    expect(forged.html).toContain('expired or is not valid');
    const junk = await post('/verify', { tenant: stack.seed.tenantId, resetId: '../x', passcode: '1' });
    expect(junk.status).toBe(404);
  }, 30_000);

  it('sets one password from hundreds of parallel posts of the last form', async () => {
    const resetId = await verified();
    const before = setCalls.length;
    const pages = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        post('/password', {
          tenant: stack.seed.tenantId,
          resetId,
          newPassword: `Parallel-${i}-pw`,
          confirmPassword: `Parallel-${i}-pw`,
        }),
      ),
    );
    expect(pages.filter((p) => p.status === 200)).toHaveLength(1);
    expect(pages.filter((p) => p.status === 409)).toHaveLength(199);
    expect(setCalls.length - before).toBe(1);
  }, 60_000);
});
