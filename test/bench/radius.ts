/**
 * The RADIUS front on the local stack: Access-Request round trips per second, and the latency of leg 1 (an
 * Access-Request up to its Access-Challenge) and leg 2 (the passcode up to Access-Accept), beside the auth API
 * alone (POST /v1/challenges, POST …/verify over HTTP) measured in the same run, against the same users. The
 * passcode is taken from the MQTT job as the modem receives it, so the wait for the SMS is in neither figure.
 * The first factor is off here: this measures the front and the challenge path, not a directory.
 */
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { pathToFileURL } from 'node:url';
import { PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import mqtt from 'mqtt';
import { createLogger as createAgentLogger } from '../../edge-agent/log.ts';
import { AuthApi } from '../../edge-agent/radius/auth-api.ts';
import {
  Attr,
  type Attribute,
  Code,
  checkReply,
  decodePacket,
  encodeRequest,
  encodeUserPassword,
  text,
} from '../../edge-agent/radius/codec.ts';
import { FirstFactorOff } from '../../edge-agent/radius/first-factor.ts';
import { startRadiusServer } from '../../edge-agent/radius/server.ts';
import { tenantItem, userItem } from '../../functions/adapters/dynamo/keys.ts';
import { createLogger } from '../../functions/adapters/log.ts';
import { SmsJob } from '../../functions/contracts/index.ts';
import { localDynamo } from '../../functions/local/aws-local.ts';
import { startLocalStack, TABLE_NAME } from '../../functions/local/stack.ts';
import { ms, summarize, table } from './stats.ts';

const SECRET = Buffer.from('bench-shared-secret');

export interface RadiusBenchOptions {
  /** Sequential logins for the latency figures, per path. */
  logins?: number;
  /** Users logging in at once for the throughput figure. */
  concurrency?: number;
  /** Logins per user in the throughput run. */
  rounds?: number;
}

/** One gateway socket: requests out, replies matched by Identifier. */
class Gateway {
  private waiting = new Map<number, (reply: Buffer) => void>();
  private id = 0;
  private constructor(
    private readonly socket: Socket,
    private readonly port: number,
  ) {
    socket.on('message', (msg) => {
      const id = msg[1]!;
      this.waiting.get(id)?.(msg);
      this.waiting.delete(id);
    });
  }
  static async open(port: number) {
    const socket = createSocket('udp4');
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
    return new Gateway(socket, port);
  }
  async request(username: string, password: string, extra: Attribute[] = []) {
    const authenticator = randomBytes(16);
    const identifier = this.id++ % 256;
    const datagram = encodeRequest(
      Code.AccessRequest,
      identifier,
      authenticator,
      [
        { type: Attr.UserName, value: text(username) },
        { type: Attr.UserPassword, value: encodeUserPassword(Buffer.from(password), authenticator, SECRET) },
        ...extra,
      ],
      SECRET,
    );
    const reply = await new Promise<Buffer>((resolve) => {
      this.waiting.set(identifier, resolve);
      this.socket.send(datagram, this.port, '127.0.0.1');
    });
    if (!checkReply(reply, authenticator, SECRET)) throw new Error('reply failed its authenticators');
    return decodePacket(reply);
  }
  close() {
    this.socket.close();
  }
}

export async function benchRadius(options: RadiusBenchOptions = {}) {
  const logins = options.logins ?? 200;
  const concurrency = options.concurrency ?? 16;
  const rounds = options.rounds ?? 10;
  const stack = await startLocalStack({
    modems: 4,
    standInsInWorker: process.env.BENCH_WORKER !== '0',
    modemSendMs: 0,
    log: createLogger({}, { level: 'error' }),
  });
  const server = await startRadiusServer({
    host: '127.0.0.1',
    port: 0,
    clients: [
      {
        name: 'bench-gw',
        address: '127.0.0.1',
        secret: SECRET.toString(),
        requireMessageAuthenticator: true,
        singleStep: false,
        passcodeLength: 6,
      },
    ],
    firstFactor: new FirstFactorOff(),
    api: new AuthApi({ apiUrl: stack.json.apiUrl, authKey: stack.json.authKey }),
    log: createAgentLogger({ level: 'error' }),
  });
  try {
    // The limits are paid for on every login, but are not what this measures.
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
    const users = Array.from({ length: concurrency }, (_, i) => ({
      username: `bench${i}`,
      mobile: `+45212${String(i).padStart(5, '0')}`,
    }));
    for (const u of users)
      await dynamo.send(
        new PutItemCommand({
          TableName: TABLE_NAME,
          Item: marshall({
            ...userItem(stack.json.tenantId, u.username),
            tenantId: stack.json.tenantId,
            ...u,
            mobileType: 'mobile',
            secondaryMobile: null,
          }),
        }),
      );
    dynamo.destroy();

    // Each user's next code, as the job reaches the agent.
    const codeWaiters = new Map<string, (code: string) => void>();
    const early = new Map<string, string>();
    const watcher = await mqtt.connectAsync(stack.json.mqttUrl, {
      ...stack.serviceCredentials,
      clientId: 'bench-radius-watcher',
      protocolVersion: 4,
    });
    watcher.on('message', (_topic, payload) => {
      const job = SmsJob.safeParse(JSON.parse(payload.toString()));
      if (!job.success) return;
      const code = /code is (\w+)/.exec(job.data.text)?.[1] ?? '';
      const waiter = codeWaiters.get(job.data.to);
      if (waiter) {
        codeWaiters.delete(job.data.to);
        waiter(code);
      } else early.set(job.data.to, code);
    });
    await watcher.subscribeAsync('t/+/a/+/jobs', { qos: 0 });
    const nextCode = (mobile: string) =>
      new Promise<string>((resolve) => {
        const ready = early.get(mobile);
        if (ready !== undefined) {
          early.delete(mobile);
          resolve(ready);
        } else codeWaiters.set(mobile, resolve);
      });

    const headers = { authorization: `Bearer ${stack.json.authKey}`, 'content-type': 'application/json' };
    const apiLogin = async (user: (typeof users)[number]) => {
      const code = nextCode(user.mobile);
      const t0 = performance.now();
      const res = await fetch(`${stack.json.apiUrl}/v1/challenges`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ username: user.username, client: { ip: '203.0.113.7', name: 'bench' } }),
      });
      const { challengeId } = (await res.json()) as { challengeId: string };
      const t1 = performance.now();
      const passcode = await code;
      const t2 = performance.now();
      const verified = await fetch(`${stack.json.apiUrl}/v1/challenges/${challengeId}/verify`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ passcode }),
      });
      const ok = ((await verified.json()) as { result: string }).result === 'accept';
      return { leg1: t1 - t0, leg2: performance.now() - t2, ok };
    };
    const radiusLogin = async (gateway: Gateway, user: (typeof users)[number]) => {
      const code = nextCode(user.mobile);
      const t0 = performance.now();
      const challenge = await gateway.request(user.username, 'unused', [
        { type: Attr.CallingStationId, value: text('203.0.113.7') },
      ]);
      const t1 = performance.now();
      if (challenge.code !== Code.AccessChallenge) throw new Error(`leg 1 answered code ${challenge.code}`);
      const state = challenge.attributes.find((a) => a.type === Attr.State)!.value;
      const passcode = await code;
      const t2 = performance.now();
      const done = await gateway.request(user.username, passcode, [{ type: Attr.State, value: state }]);
      return { leg1: t1 - t0, leg2: performance.now() - t2, ok: done.code === Code.AccessAccept };
    };

    const gateways = await Promise.all(users.map(() => Gateway.open(server.address.port)));
    // warm-up, both paths
    for (let i = 0; i < 20; i++) {
      await apiLogin(users[0]!);
      await radiusLogin(gateways[0]!, users[0]!);
    }
    // latency, one login at a time, the two paths interleaved so that both see the same stack state
    const api: Array<{ leg1: number; leg2: number; ok: boolean }> = [];
    const radius: Array<{ leg1: number; leg2: number; ok: boolean }> = [];
    for (let i = 0; i < logins; i++) {
      api.push(await apiLogin(users[0]!));
      radius.push(await radiusLogin(gateways[0]!, users[0]!));
    }
    const row = (name: string, values: number[]) => {
      const s = summarize(values);
      return [name, ms(s.p50), ms(s.p99), ms(s.mean)];
    };
    console.log(`\n## RADIUS front latency (${logins} sequential logins each, first factor off)`);
    table(
      ['what', 'p50 ms', 'p99 ms', 'mean ms'],
      [
        row(
          'RADIUS leg 1: Access-Request → Access-Challenge',
          radius.map((r) => r.leg1),
        ),
        row(
          'auth API alone: POST /v1/challenges',
          api.map((r) => r.leg1),
        ),
        row(
          'RADIUS leg 2: Access-Request with State → Access-Accept',
          radius.map((r) => r.leg2),
        ),
        row(
          'auth API alone: POST /v1/challenges/{id}/verify',
          api.map((r) => r.leg2),
        ),
      ],
    );

    // throughput: every user logs in `rounds` times, all users at once
    const throughput = async (login: (i: number) => Promise<{ ok: boolean }>) => {
      const started = performance.now();
      let ok = 0;
      await Promise.all(
        users.map(async (_, i) => {
          for (let r = 0; r < rounds; r++) if ((await login(i)).ok) ok++;
        }),
      );
      return { ok, seconds: (performance.now() - started) / 1000 };
    };
    const viaApi = await throughput((i) => apiLogin(users[i]!));
    const viaRadius = await throughput((i) => radiusLogin(gateways[i]!, users[i]!));
    const n = users.length * rounds;
    console.log(`\n## RADIUS front throughput (${concurrency} users at once, ${rounds} logins each)`);
    table(
      ['what', 'value'],
      [
        ['RADIUS logins accepted', `${viaRadius.ok} of ${n}`],
        ['RADIUS Access-Request round trips per second', ((2 * viaRadius.ok) / viaRadius.seconds).toFixed(0)],
        ['RADIUS whole logins per second', (viaRadius.ok / viaRadius.seconds).toFixed(1)],
        ['auth API alone: logins accepted', `${viaApi.ok} of ${n}`],
        ['auth API alone: HTTP round trips per second', ((2 * viaApi.ok) / viaApi.seconds).toFixed(0)],
        ['auth API alone: whole logins per second', (viaApi.ok / viaApi.seconds).toFixed(1)],
        [
          'front: retransmits answered from the cache / drops',
          `${server.stats.duplicates} / ${JSON.stringify(server.stats.dropped)}`,
        ],
      ],
    );
    for (const g of gateways) g.close();
    await watcher.endAsync();
    return {
      leg1: summarize(radius.map((r) => r.leg1)),
      leg2: summarize(radius.map((r) => r.leg2)),
      roundTripsPerSecond: (2 * viaRadius.ok) / viaRadius.seconds,
    };
  } finally {
    await server.stop();
    await stack.stop();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await benchRadius();
  process.exit(0);
}
