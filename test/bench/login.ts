/**
 * Whole SMS logins on the local stack: POST /v1/challenges → SMS bytes at the simulated modem → verify.
 * Prints the latency from the API call to the first `AT+CMGS` byte with each hop's share, and the
 * login throughput, beside a baseline measured in the same run: a bare HTTP round trip to the same server.
 */
import { pathToFileURL } from 'node:url';
import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { SQSEvent } from 'aws-lambda';
import mqtt from 'mqtt';
import { tenantItem } from '../../functions/adapters/dynamo/keys.ts';
import { createLogger } from '../../functions/adapters/log.ts';
import { AgentEvent, SmsJob } from '../../functions/contracts/index.ts';
import { localDynamo } from '../../functions/local/aws-local.ts';
import { startLocalStack, TABLE_NAME } from '../../functions/local/stack.ts';
import { ms, summarize, table } from './stats.ts';

export interface LoginBenchOptions {
  logins?: number;
  throughputLogins?: number;
  concurrency?: number;
  modems?: number;
}

interface Trace {
  t0: number; // POST sent
  api?: number; // 201 received
  queue?: number; // dispatch handler got the message
  mqtt?: number; // job seen on the jobs topic
  cmgs?: number; // first AT+CMGS byte at the modem
  sms?: number; // +CMGS: reply, the SMS left the modem
  sent?: number; // job.sent seen on the events topic
}

export async function benchLogin(options: LoginBenchOptions = {}) {
  const logins = options.logins ?? 200;
  const traces = new Map<string, Trace>();
  // Hops can be seen before the POST's reply is read, so each is noted by id and joined at the end.
  const seen = {
    queue: new Map<string, number>(),
    mqtt: new Map<string, number>(),
    sent: new Map<string, number>(),
  };
  const sentWaiters = new Map<string, () => void>();
  const stack = await startLocalStack({
    modems: options.modems ?? 4,
    standInsInWorker: process.env.BENCH_WORKER !== '0',
    modemSendMs: 0,
    log: createLogger({}, { level: 'error' }),
    tap: {
      dispatchBatch: (event: SQSEvent) => {
        const now = performance.now();
        for (const r of event.Records) {
          const id = (JSON.parse(r.body) as { challengeId: string }).challengeId;
          if (!seen.queue.has(id)) seen.queue.set(id, now);
        }
      },
    },
  });
  try {
    // The benchmark measures the login path, not the abuse limits (which every login still pays for).
    const dynamo = localDynamo(stack.dynamoEndpoint);
    await dynamo.send(
      new UpdateItemCommand({
        TableName: TABLE_NAME,
        Key: marshall(tenantItem(stack.json.tenantId)),
        UpdateExpression: 'SET #s = :s',
        ExpressionAttributeNames: { '#s': 'security' },
        ExpressionAttributeValues: marshall({
          ':s': { limits: { perTenant: 1e6, perUser: 1e6, perDestination: 1e6, perClientIp: 1e6 } },
        }),
      }),
    );
    dynamo.destroy();
    const watcher = await mqtt.connectAsync(stack.json.mqttUrl, {
      ...stack.serviceCredentials,
      clientId: 'bench-watcher',
      protocolVersion: 4,
    });
    watcher.on('message', (topic, payload) => {
      const now = performance.now();
      const body = JSON.parse(payload.toString()) as unknown;
      if (topic.endsWith('/jobs')) {
        const job = SmsJob.safeParse(body);
        if (job.success) seen.mqtt.set(job.data.id.split('.')[0]!, now);
      } else {
        const event = AgentEvent.safeParse(body);
        if (event.success && event.data.type === 'job.sent') {
          const id = event.data.jobId.split('.')[0]!;
          seen.sent.set(id, now);
          sentWaiters.get(id)?.();
        }
      }
    });
    await watcher.subscribeAsync(['s/local/t/+/a/+/jobs', 's/local/t/+/a/+/events'], { qos: 0 });

    const api = stack.json.apiUrl;
    const headers = { authorization: `Bearer ${stack.json.authKey}`, 'content-type': 'application/json' };
    const codes = new Map<string, string>();
    watcher.on('message', (topic, payload) => {
      if (!topic.endsWith('/jobs')) return;
      const job = SmsJob.safeParse(JSON.parse(payload.toString()));
      if (job.success) codes.set(job.data.id.split('.')[0]!, /code is (\d+)/.exec(job.data.text)?.[1] ?? '');
    });

    const login = async (): Promise<{ id: string; ok: boolean }> => {
      const t0 = performance.now();
      const res = await fetch(`${api}/v1/challenges`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ username: 'alice', client: { ip: '203.0.113.7', name: 'bench' } }),
      });
      const reply = (await res.json()) as { challengeId: string };
      if (res.status !== 201)
        throw new Error(`POST /v1/challenges answered ${res.status}: ${JSON.stringify(reply)}`);
      const id = reply.challengeId;
      const trace: Trace = { t0, api: performance.now() };
      traces.set(id, trace);
      await new Promise<void>((resolve) => {
        if (seen.sent.has(id)) return resolve();
        sentWaiters.set(id, resolve);
      });
      sentWaiters.delete(id);
      const verify = await fetch(`${api}/v1/challenges/${id}/verify`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ passcode: codes.get(id) }),
      });
      return { id, ok: ((await verify.json()) as { result: string }).result === 'accept' };
    };

    // Baseline: the bare round trip to the same HTTP server (an unknown route, answered by hono).
    const baseline: number[] = [];
    for (let i = 0; i < 200; i++) {
      const t = performance.now();
      await (await fetch(`${api}/v1/ping`)).text();
      baseline.push(performance.now() - t);
    }

    // Warm-up, then latency one login at a time.
    for (let i = 0; i < 20; i++) await login();
    traces.clear();
    for (const sim of stack.edge!.simulators) {
      sim.transcript.length = 0;
      sim.sent.length = 0;
    }
    let accepted = 0;
    for (let i = 0; i < logins; i++) if ((await login()).ok) accepted++;

    // Map each modem's AT+CMGS commands and replies to the SMS it sent, in order.
    for (const sim of stack.edge!.simulators) {
      const cmgs = sim.transcript.filter((e) => e.dir === 'in' && e.data.startsWith('AT+CMGS='));
      const replies = sim.transcript.filter((e) => e.dir === 'out' && e.data.includes('+CMGS:'));
      sim.sent.forEach((sms, k) => {
        const code = /code is (\d+)/.exec(sms.text)?.[1];
        for (const [id, c] of codes) {
          if (c !== code) continue;
          const t = traces.get(id);
          if (!t) continue;
          const at = cmgs[k]?.at;
          const done = replies[k]?.at;
          // Transcript times are wall-clock ms; convert through the offset to performance.now().
          const offset = Date.now() - performance.now();
          if (at !== undefined) t.cmgs = at - offset;
          if (done !== undefined) t.sms = done - offset;
        }
      });
    }
    for (const [id, t] of traces) {
      const queue = seen.queue.get(id);
      const mqttAt = seen.mqtt.get(id);
      const sent = seen.sent.get(id);
      if (queue !== undefined) t.queue = queue;
      if (mqttAt !== undefined) t.mqtt = mqttAt;
      if (sent !== undefined) t.sent = sent;
    }
    const complete = [...traces.values()].filter(
      (t) => t.api && t.queue && t.mqtt && t.cmgs && t.sms && t.sent,
    );
    const total = summarize(complete.map((t) => t.cmgs! - t.t0));
    const hops: Array<[string, number[]]> = [
      ['API (POST → 201)', complete.map((t) => t.api! - t.t0)],
      ['queue (201 → dispatch)', complete.map((t) => t.queue! - t.api!)],
      ['dispatch + MQTT (→ job on topic)', complete.map((t) => t.mqtt! - t.queue!)],
      ['agent (job → AT+CMGS)', complete.map((t) => t.cmgs! - t.mqtt!)],
      ['modem (AT+CMGS → +CMGS:)', complete.map((t) => t.sms! - t.cmgs!)],
      ['events back (→ job.sent on topic)', complete.map((t) => t.sent! - t.sms!)],
    ];
    console.log(
      `\n## Login latency, one at a time (${complete.length} of ${logins} traced, ${accepted} accepted)`,
    );
    table(
      ['hop', 'p50 ms', 'p99 ms', 'share of p50'],
      [
        ...hops.map(([name, v]) => {
          const s = summarize(v);
          return [name, ms(s.p50), ms(s.p99), `${((100 * s.p50) / total.p50).toFixed(0)}%`];
        }),
        ['POST → first AT+CMGS byte', ms(total.p50), ms(total.p99), '100%'],
        ['baseline: bare HTTP round trip', ms(summarize(baseline).p50), ms(summarize(baseline).p99), ''],
      ],
    );

    // Throughput: many logins in flight at once, each one whole (challenge → SMS sent → verify accepted).
    const n = options.throughputLogins ?? 600;
    const concurrency = options.concurrency ?? 32;
    let next = 0;
    let ok = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < n) {
          next++;
          if ((await login()).ok) ok++;
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `\n## Login throughput (${concurrency} in flight, ${options.modems ?? 4} simulated modems at 0 ms send time)`,
    );
    table(
      ['what', 'value'],
      [
        ['whole logins', `${ok} of ${n} accepted`],
        ['logins per second', (ok / seconds).toFixed(1)],
        [
          'baseline: bare HTTP round trips per second (sequential)',
          (1000 / summarize(baseline).mean).toFixed(0),
        ],
      ],
    );
    await watcher.endAsync();
    return { latency: total, loginsPerSecond: ok / seconds };
  } finally {
    await stack.stop();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await benchLogin();
  process.exit(0);
}
