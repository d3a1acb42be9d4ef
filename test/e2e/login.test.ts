/**
 * One whole login through every real hop of the local stack: HTTP → DynamoDB → SQS → dispatch → MQTT →
 * edge agent → AT commands over TCP → simulated modem → outbox, and back through the events topic,
 * the events queue and the events handler.
 */
import { readFileSync } from 'node:fs';
import type { SQSEvent } from 'aws-lambda';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../functions/adapters/log.ts';
import { SmsJob } from '../../functions/contracts/index.ts';
import { DispatchMessage } from '../../functions/contracts/queue.ts';
import { stores } from '../../functions/deps.ts';
import { localDynamo } from '../../functions/local/aws-local.ts';
import { type LocalStack, startLocalStack, TABLE_NAME } from '../../functions/local/stack.ts';

let stack: LocalStack;
const dispatchBatches: SQSEvent[] = [];
const logLines: string[] = [];

beforeAll(async () => {
  stack = await startLocalStack({
    log: createLogger({}, { level: 'debug', write: (l) => logLines.push(l) }),
    tap: { dispatchBatch: (event) => dispatchBatches.push(event) },
  });
});
afterAll(async () => stack?.stop());

async function until<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const api = (path: string, init: RequestInit = {}) =>
  fetch(`${stack.json.apiUrl}${path}`, {
    ...init,
    headers: {
      authorization: `Bearer ${stack.json.authKey}`,
      'content-type': 'application/json',
      ...(init.headers as object),
    },
  });

describe('a whole SMS login on the local stack', () => {
  it('goes through every hop, is accepted once, and never again', async () => {
    // Watch the jobs topic as the cloud service does, to see the MQTT publish itself.
    const watcher = await mqtt.connectAsync(stack.json.mqttUrl, {
      ...stack.serviceCredentials,
      clientId: 'e2e-watcher',
      protocolVersion: 4,
    });
    const jobs: Array<{ topic: string; payload: unknown }> = [];
    watcher.on('message', (topic, payload) => jobs.push({ topic, payload: JSON.parse(payload.toString()) }));
    await watcher.subscribeAsync('s/local/t/+/a/+/jobs', { qos: 1 });

    // 1. the challenge
    const res = await api('/v1/challenges', {
      method: 'POST',
      body: JSON.stringify({ username: 'alice', client: { ip: '203.0.113.7', name: 'vpn-gw-1' } }),
    });
    const created = (await res.json()) as { challengeId: string; destination: string; channel: string };
    expect({ status: res.status, created }).toMatchObject({ status: 201 });
    expect(created.channel).toBe('sms');
    expect(created.destination).toBe('+45 •• •• •• 56');
    const id = created.challengeId;

    // 2. the item in the table, with the code only as a keyed hash
    const dynamo = localDynamo(stack.dynamoEndpoint);
    const stored = await stores({ dynamo, table: TABLE_NAME }).challenges.get(stack.json.tenantId, id, true);
    expect(stored?.codeHash).toMatch(/^[A-Za-z0-9_-]{43}$/);

    // 3. the message on the dispatch queue: sealed, no number or code in clear
    const queued = await until('the dispatch message', () =>
      dispatchBatches.flatMap((b) => b.Records).find((r) => r.body.includes(id)),
    );
    const message = DispatchMessage.parse(JSON.parse(queued.body));
    expect(message).toMatchObject({ tenantId: stack.json.tenantId, challengeId: id, step: 0 });
    expect(queued.body).not.toContain('+4520123456');

    // 4. the MQTT publish to the agent's jobs topic
    const job = await until('the MQTT job', () =>
      jobs.find((j) => (j.payload as { id?: string }).id === `${id}.0`),
    );
    expect(job.topic).toBe(`s/local/t/${stack.json.tenantId}/a/${stack.seed.agent.agentId}/jobs`);
    const smsJob = SmsJob.parse(job.payload);
    expect(smsJob.to).toBe('+4520123456');
    const code = /code is (\d{6})/.exec(smsJob.text)?.[1];
    expect(code).toBeDefined();
    expect(JSON.stringify(stored)).not.toContain(code);

    // 5. the outbox line the simulated modem wrote
    const line = await until('the outbox line', () =>
      readOutbox().find((l) => l.to === '+4520123456' && l.text.includes(code!)),
    );
    expect(line.text).toContain('Login from 203.0.113.7 via vpn-gw-1');
    expect(Object.keys(line).sort()).toEqual(['at', 'modem', 'text', 'to']);

    // 6. the AT transcript at the modem that sent it: a real AT+CMGS in PDU mode
    const sim = stack.edge!.simulators.find((s) => s.name === line.modem)!;
    const inbound = sim.transcript
      .filter((t) => t.dir === 'in')
      .map((t) => t.data)
      .join('');
    expect(inbound).toMatch(/AT\+CMGS=\d+\r/);
    // The simulator writes the outbox line before it answers +CMGS, so the answer may still be on its way.
    await until('the +CMGS answer', () =>
      sim.transcript.some((t) => t.dir === 'out' && /\+CMGS: \d+/.test(t.data)) ? true : undefined,
    );

    // 7. job.sent came back through the events topic, queue and handler
    const status = await until('the sent status', async () => {
      const view = (await (await api(`/v1/challenges/${id}`)).json()) as {
        status: string;
        deliveries: unknown[];
      };
      return view.status === 'sent' || view.status === 'delivered' ? view : undefined;
    });
    expect(status.deliveries).toEqual([
      { step: 0, channel: 'sms', status: expect.stringMatching(/sent|delivered/), at: expect.any(String) },
    ]);

    // 8. accept once, then never again
    const verify = () =>
      api(`/v1/challenges/${id}/verify`, { method: 'POST', body: JSON.stringify({ passcode: code }) });
    expect(await (await verify()).json()).toEqual({ result: 'accept' });
    expect(await (await verify()).json()).toEqual({ result: 'reject', reason: 'used', attemptsLeft: 0 });

    // The operator's usage view counts the challenge and the message, with no write of its own per login.
    const usage = await until('the usage counts', async () => {
      const res = await fetch(`${stack.json.apiUrl}/v1/operator/tenants/${stack.json.tenantId}/usage`, {
        headers: { authorization: `Bearer ${stack.json.operatorKey}` },
      });
      const body = (await res.json()) as { challenges: number; messages: number };
      return body.messages >= 1 ? body : undefined;
    });
    expect(usage).toMatchObject({ challenges: 1, messages: 1 });

    // The code never reached a log line anywhere on the way.
    expect(logLines.join('\n')).not.toContain(code);
    await watcher.endAsync();
    dynamo.destroy();
  });
});

function readOutbox(): Array<{ modem: string; to: string; text: string; at: string }> {
  try {
    return readFileSync(stack.json.simulator.outbox, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
  } catch {
    return [];
  }
}
