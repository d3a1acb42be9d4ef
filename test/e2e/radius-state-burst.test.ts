/**
 * A State replayed in a burst: hundreds of leg-2 Access-Requests carrying the same State, each a request of
 * its own (its own identifier and authenticator, so none is a retransmit), fired at once at the RADIUS front
 * of the local stack's real edge agent. A State is single use: exactly one of them may reach the auth API, so
 * at most one is accepted, and the burst spends one guess of the challenge, never hundreds.
 */
import { readFileSync } from 'node:fs';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Attr, attributes, Code, checkReply, text } from '../../edge-agent/radius/codec.ts';
import { userItem } from '../../functions/adapters/dynamo/keys.ts';
import { createLogger } from '../../functions/adapters/log.ts';
import { DEFAULT_PASSCODE } from '../../functions/core/passcode.ts';
import { localDynamo } from '../../functions/local/aws-local.ts';
import { type LocalStack, startLocalStack, TABLE_NAME } from '../../functions/local/stack.ts';
import { accessRequest, decodeReply, RawClient } from '../support/radius.ts';
import { until } from '../support/wait.ts';

const BURST = 300;
let stack: LocalStack;
let secret: string;
let port: number;
let serial = 0;
/** Challenge ids in the order their first step was queued. */
const dispatched: string[] = [];

beforeAll(async () => {
  stack = await startLocalStack({
    log: createLogger({}, { level: 'warn' }),
    // the demo agent's own RADIUS front (first factor off: the demo has no AD)
    ports: { radius: 0 },
    tap: {
      dispatchBatch: (event) => {
        for (const r of event.Records)
          dispatched.push((JSON.parse(r.body) as { challengeId: string }).challengeId);
      },
    },
  });
  secret = stack.json.radius!.secret;
  port = stack.json.radius!.port;
}, 60_000);
afterAll(async () => stack?.stop());

/** A user with a number of its own, so the limits of one test touch no other. */
async function newUser(): Promise<{ username: string; mobile: string }> {
  const n = ++serial;
  const username = `burst${n}`;
  const mobile = `+45213${String(n).padStart(5, '0')}`;
  const dynamo = localDynamo(stack.dynamoEndpoint);
  await dynamo.send(
    new PutItemCommand({
      TableName: TABLE_NAME,
      Item: marshall({
        ...userItem(stack.json.tenantId, username),
        tenantId: stack.json.tenantId,
        username,
        mobile,
        mobileType: 'mobile',
        secondaryMobile: null,
        email: `${username}@corp.example.test`,
      }),
    }),
  );
  dynamo.destroy();
  return { username, mobile };
}

const passcodeFor = async (mobile: string) => {
  const line = await until(`the SMS to ${mobile}`, () => {
    try {
      return readFileSync(stack.json.simulator.outbox, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { to: string; text: string })
        .find((l) => l.to === mobile);
    } catch {
      return undefined;
    }
  });
  return /code is (\d+)/.exec(line.text)![1]!;
};

/** Leg 1 over the raw client: the State, the passcode from the outbox, and the challenge's id. */
async function challenged(client: RawClient, user: { username: string; mobile: string }) {
  const before = dispatched.length;
  const leg1 = accessRequest(secret, user.username, 'any password');
  await client.send(port, leg1.datagram);
  const [reply] = await client.receive(1);
  const packet = decodeReply(reply!);
  expect(packet.code).toBe(Code.AccessChallenge);
  const state = attributes(packet, Attr.State)[0]!;
  const challengeId = await until('the dispatch', () =>
    dispatched.length > before ? dispatched.at(-1) : undefined,
  );
  return { state, challengeId, passcode: await passcodeFor(user.mobile) };
}

/** Whether the kernel lets a socket hold a burst: net.core.rmem_max caps the front's receive buffer. */
const roomyBuffers = (() => {
  try {
    return Number(readFileSync('/proc/sys/net/core/rmem_max', 'utf8')) >= 1024 * 1024;
  } catch {
    return false;
  }
})();

/**
 * Fires one leg 2 per passcode, all at once, each with its own identifier and authenticator; then, as a gateway
 * does, sends the very same bytes again for any that got no answer. Returns the reply codes in request order,
 * each reply's authenticators checked, and how many were sent again.
 */
async function burst(client: RawClient, username: string, state: Buffer, passcodes: string[]) {
  const requests = passcodes.map((passcode, i) =>
    accessRequest(secret, username, passcode, [{ type: Attr.State, value: state }], { identifier: i % 256 }),
  );
  const codes: Array<number | undefined> = requests.map(() => undefined);
  let retransmitted = 0;
  let pending = requests.map((_, i) => i);
  for (let round = 0; round < 10 && pending.length > 0; round++) {
    if (round > 0) retransmitted += pending.length;
    await Promise.all(pending.map((i) => client.send(port, requests[i]!.datagram)));
    for (const reply of await client.receive(pending.length, 3000)) {
      // a reply names its request by identifier; the Response Authenticator tells the ones sharing it apart
      const i = requests.findIndex(
        (r, j) => j % 256 === reply[1] && checkReply(reply, r.authenticator, Buffer.from(secret)),
      );
      expect(i).toBeGreaterThanOrEqual(0);
      codes[i] ??= decodeReply(reply).code;
    }
    pending = pending.filter((i) => codes[i] === undefined);
  }
  expect(pending).toEqual([]);
  return { codes, retransmitted };
}

const verifyOverApi = (challengeId: string, passcode: string) =>
  fetch(`${stack.json.apiUrl}/v1/challenges/${challengeId}/verify`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.json.authKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ passcode }),
  }).then((r) => r.json());

describe('a State reused in a concurrent burst', () => {
  it(`accepts exactly one of ${BURST} leg 2s that all carry the right passcode`, async () => {
    const user = await newUser();
    const client = await RawClient.open({ recvBufferSize: 4 * 1024 * 1024 });
    try {
      const { state, passcode } = await challenged(client, user);
      const accepts = stack.edge!.agent.radius!.stats.accepts;
      const received = stack.edge!.agent.radius!.stats.received;
      const { codes, retransmitted } = await burst(client, user.username, state, Array(BURST).fill(passcode));
      // the front's socket holds the whole burst where the kernel allows it: nothing waited for a retransmit
      if (roomyBuffers) {
        expect(retransmitted).toBe(0);
        expect(stack.edge!.agent.radius!.stats.received).toBe(received + BURST);
      }
      expect(codes.filter((c) => c === Code.AccessAccept)).toHaveLength(1);
      expect(codes.filter((c) => c === Code.AccessReject)).toHaveLength(BURST - 1);
      expect(stack.edge!.agent.radius!.stats.accepts).toBe(accepts + 1);
    } finally {
      client.close();
    }
  }, 60_000);

  it('spends one guess of the challenge on a burst of wrong passcodes, whatever its size', async () => {
    const user = await newUser();
    const client = await RawClient.open({ recvBufferSize: 4 * 1024 * 1024 });
    try {
      const { state, challengeId, passcode } = await challenged(client, user);
      const wrong = Array.from({ length: BURST }, (_, i) => {
        const guess = String(i).padStart(passcode.length, '0');
        return guess === passcode ? '9'.repeat(passcode.length + 1) : guess;
      });
      const { codes } = await burst(client, user.username, state, wrong);
      expect(codes.every((c) => c === Code.AccessReject)).toBe(true);
      // asked through the API: one wrong guess was counted, and the right code still logs in through it
      const bad = passcode === '000000' ? '111111' : '000000';
      expect(await verifyOverApi(challengeId, bad)).toEqual({
        result: 'reject',
        reason: 'wrong',
        attemptsLeft: DEFAULT_PASSCODE.maxAttempts - 2,
      });
      expect(await verifyOverApi(challengeId, passcode)).toMatchObject({ result: 'accept' });
    } finally {
      client.close();
    }
  }, 60_000);

  it('lets the right passcode hidden in a burst of wrong ones win only if it came first', async () => {
    const user = await newUser();
    const client = await RawClient.open({ recvBufferSize: 4 * 1024 * 1024 });
    try {
      const { state, challengeId, passcode } = await challenged(client, user);
      const bad = passcode === '000000' ? '111111' : '000000';
      const guesses = Array.from({ length: BURST }, (_, i) => (i === BURST / 2 ? passcode : bad));
      const { codes } = await burst(client, user.username, state, guesses);
      const accepted = codes.filter((c) => c === Code.AccessAccept);
      expect(accepted.length).toBeLessThanOrEqual(1);
      expect(codes.filter((c) => c === Code.AccessReject)).toHaveLength(BURST - accepted.length);
      // either way, the burst made exactly one attempt at the challenge
      const after = await verifyOverApi(challengeId, bad);
      if (accepted.length === 1) expect(after).toMatchObject({ result: 'reject' });
      else
        expect(after).toEqual({
          result: 'reject',
          reason: 'wrong',
          attemptsLeft: DEFAULT_PASSCODE.maxAttempts - 2,
        });
    } finally {
      client.close();
    }
  }, 60_000);

  it('refuses the burst’s State afterwards, and keeps serving new logins', async () => {
    const user = await newUser();
    const client = await RawClient.open({ recvBufferSize: 4 * 1024 * 1024 });
    try {
      const { state, passcode } = await challenged(client, user);
      await burst(client, user.username, state, Array(50).fill(passcode));
      const late = accessRequest(secret, user.username, passcode, [{ type: Attr.State, value: state }]);
      await client.send(port, late.datagram);
      const [reply] = await client.receive(1);
      expect(decodeReply(reply!).code).toBe(Code.AccessReject);
      expect(attributes(decodeReply(reply!), Attr.ReplyMessage)[0]).toEqual(
        text('The login has expired. Log in again.'),
      );
      const next = await challenged(client, await newUser());
      expect(next.state.length).toBeGreaterThan(0);
    } finally {
      client.close();
    }
  }, 60_000);
});
