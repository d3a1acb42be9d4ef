/**
 * The RADIUS front: VPN and remote-access gateways log users in with PAP, and get a challenge/response.
 *
 * Leg 1, an Access-Request with User-Name and User-Password: the password is checked (the first factor; a
 * wrong one gets an immediate Reject and no SMS), a challenge is started through the auth API, and the reply is
 * an Access-Challenge with a Reply-Message asking for the passcode and an opaque State. Leg 2, the same user's
 * Access-Request carrying that State and the passcode as its password, is verified through the API and answered
 * Access-Accept (with the group policy's Class and Filter-Id) or Access-Reject.
 *
 * In order, for every datagram: the source must be a configured client; the packet must be well formed; its
 * Message-Authenticator (or an Accounting-Request's authenticator) must check out; then a retransmit gets the
 * reply bytes of its first copy; only then is the request worked on. Anything failing a check is dropped
 * silently: an attacker learns nothing, and an SMS is never sent for a packet that was not proven genuine.
 */
import { randomBytes } from 'node:crypto';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import type { Logger } from '../log.ts';
import type { AuthApi, RadiusAttributes } from './auth-api.ts';
import { ClientTable, plainAddress, type RadiusClient, type RadiusClientConfig } from './clients.ts';
import {
  Attr,
  type Attribute,
  attribute,
  Code,
  checkAccountingAuthenticator,
  checkMessageAuthenticator,
  decodePacket,
  decodeUserPassword,
  encodeReply,
  MalformedPacketError,
  type Packet,
  text,
  uint32,
} from './codec.ts';
import type { FirstFactor, SessionFacts } from './first-factor.ts';
import { ReplyCache } from './reply-cache.ts';

export interface RadiusServerOptions {
  host: string;
  /** Access-Request and Status-Server; 0 picks a free port. */
  port: number;
  /** Accounting-Request on a port of its own (1813); undefined: accounting is taken on `port` only. */
  accountingPort?: number | undefined;
  clients: readonly RadiusClientConfig[];
  firstFactor: FirstFactor;
  api: Pick<AuthApi, 'start' | 'verify'>;
  log: Logger;
  now?: () => number;
  /** How long a reply is kept for retransmits of its request; default 30 s. */
  duplicateWindowMs?: number;
  /** Requests worked on at once; more are dropped (the gateway retransmits). Default 1,024. */
  maxInFlight?: number;
}

export interface RadiusStats {
  received: number;
  dropped: Record<string, number>;
  duplicates: number;
  challenges: number;
  accepts: number;
  rejects: number;
  accounting: number;
  statusServer: number;
}

export interface RadiusServer {
  readonly address: { host: string; port: number; accountingPort: number | undefined };
  readonly stats: RadiusStats;
  readonly inFlight: number;
  /** Takes no new requests, answers the ones in hand (up to `deadlineMs`), then closes the sockets. */
  stop(deadlineMs?: number): Promise<void>;
}

/** The most States or single-step passcodes kept at once: a flood of leg 1s cannot grow memory further. */
const MAX_SESSIONS = 50_000;
/** A State outlives no challenge, and no challenge is kept longer than this. */
const MAX_STATE_MS = 15 * 60_000;
/**
 * The sockets' receive buffer. The kernel's default (about 208 KiB) holds some 256 small datagrams, and a gateway
 * that sends a burst (a concentrator whose users all reconnect at once) loses the rest silently until it
 * retransmits. Linux caps this at net.core.rmem_max without complaint.
 */
const RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024;

interface Session {
  username: string;
  challengeId: string;
  client: string;
  ip: string | undefined;
  expiresAt: number;
}

type Reply = { code: number; attrs: Attribute[] } | undefined;

const REPLY_TEXT = {
  challenge: (destination: string) =>
    destination ? `Enter the passcode sent to ${destination}` : 'Enter the passcode you received',
  failed: 'Login failed.',
  wrong: 'Wrong passcode.',
  expired: 'The passcode has expired. Log in again.',
  used: 'The passcode was already used. Log in again.',
  locked: 'Too many attempts. Try again later.',
  rateLimited: 'Too many logins. Try again later.',
  noRoute: 'No way to send you a passcode. Contact your administrator.',
  state: 'The login has expired. Log in again.',
  pap: 'Only PAP logins are supported.',
  sentInAdvance: (destination: string) =>
    `A passcode was sent${destination ? ` to ${destination}` : ''}. Log in again with your password followed by the passcode.`,
};

class BoundedMap<V extends { expiresAt: number }> {
  private readonly map = new Map<string, V>();
  constructor(private readonly max: number) {}
  set(key: string, value: V, now: number) {
    this.map.delete(key);
    for (const [k, v] of this.map) {
      if (this.map.size < this.max && v.expiresAt > now) break;
      this.map.delete(k);
    }
    this.map.set(key, value);
  }
  /** Removes and returns: each entry is used once. */
  take(key: string): V | undefined {
    const value = this.map.get(key);
    if (value) this.map.delete(key);
    return value;
  }
  get size() {
    return this.map.size;
  }
}

export async function startRadiusServer(options: RadiusServerOptions): Promise<RadiusServer> {
  const log = options.log.child({ part: 'radius' });
  const now = options.now ?? Date.now;
  const clients = new ClientTable(options.clients);
  const cache = new ReplyCache({
    ttlMs: options.duplicateWindowMs ?? 30_000,
    maxEntries: 65_536,
    now,
  });
  const states = new BoundedMap<Session>(MAX_SESSIONS);
  /** Single-step: the passcode sent in advance for a client's user, by `client\0username`. */
  const advance = new BoundedMap<Session>(MAX_SESSIONS);
  const maxInFlight = options.maxInFlight ?? 1024;
  const stats: RadiusStats = {
    received: 0,
    dropped: {},
    duplicates: 0,
    challenges: 0,
    accepts: 0,
    rejects: 0,
    accounting: 0,
    statusServer: 0,
  };
  const inflight = new Set<Promise<void>>();
  /** Replies handed to a socket and not yet out: a close would lose them. */
  let sending = 0;
  const sent: Array<() => void> = [];
  let draining = false;

  const drop = (reason: string, fields: Record<string, unknown> = {}) => {
    stats.dropped[reason] = (stats.dropped[reason] ?? 0) + 1;
    log.debug('dropped a datagram', { reason, ...fields });
  };

  const factsOf = (request: Packet, client: RadiusClient): SessionFacts => {
    const calling = attribute(request, Attr.CallingStationId)?.toString('utf8').trim();
    const facts: SessionFacts = { name: client.name };
    if (calling && isIP(plainAddress(calling)) !== 0) facts.ip = plainAddress(calling);
    else if (calling && /^[\x20-\x7e]{1,64}$/.test(calling))
      facts.name = `${client.name} ${calling}`.slice(0, 128);
    return facts;
  };

  const reject = (message: string): Reply => {
    stats.rejects++;
    return { code: Code.AccessReject, attrs: [{ type: Attr.ReplyMessage, value: text(message) }] };
  };

  const accept = (radius: RadiusAttributes | undefined): Reply => {
    stats.accepts++;
    const attrs: Attribute[] = [];
    // both are at most 253 octets on the wire; the group policy's values are checked to fit when set
    if (radius?.class) attrs.push({ type: Attr.Class, value: text(radius.class).subarray(0, 253) });
    if (radius?.filterId) attrs.push({ type: Attr.FilterId, value: text(radius.filterId).subarray(0, 253) });
    return { code: Code.AccessAccept, attrs };
  };

  const refusedText = (code: string) =>
    code === 'rate_limited'
      ? REPLY_TEXT.rateLimited
      : code === 'user_locked'
        ? REPLY_TEXT.locked
        : code === 'no_delivery_route'
          ? REPLY_TEXT.noRoute
          : REPLY_TEXT.failed;

  const verdictText = (reason: string) =>
    reason === 'wrong' || reason === 'expired' || reason === 'used' || reason === 'locked'
      ? REPLY_TEXT[reason]
      : REPLY_TEXT.failed;

  /** Leg 1: the password, then a challenge and a State. */
  const challenge = async (
    username: string,
    password: string,
    client: RadiusClient,
    facts: SessionFacts,
  ): Promise<Reply> => {
    const first = await options.firstFactor.check(username, password, facts);
    if (first === 'unavailable') {
      log.warn('first factor unavailable; not answering', { client: client.name });
      return undefined;
    }
    if (first !== 'valid') {
      log.info('first factor refused', { client: client.name, username, result: first });
      return reject(first === 'locked' ? REPLY_TEXT.locked : REPLY_TEXT.failed);
    }
    const started = await options.api.start(username, facts);
    if (started.kind === 'unavailable') return undefined;
    if (started.kind === 'refused') {
      log.info('challenge refused', { client: client.name, username, code: started.code });
      return reject(refusedText(started.code));
    }
    const t = now();
    const expiresAt = Math.min(Date.parse(started.expiresAt) || t, t + MAX_STATE_MS);
    const state = randomBytes(18);
    states.set(
      state.toString('base64'),
      { username, challengeId: started.challengeId, client: client.name, ip: facts.ip, expiresAt },
      t,
    );
    stats.challenges++;
    const attrs: Attribute[] = [
      { type: Attr.ReplyMessage, value: text(REPLY_TEXT.challenge(started.destination)) },
      { type: Attr.State, value: state },
    ];
    const seconds = Math.floor((expiresAt - t) / 1000);
    if (seconds > 0) attrs.push({ type: Attr.SessionTimeout, value: uint32(seconds) });
    return { code: Code.AccessChallenge, attrs };
  };

  /** Leg 2: the State names the challenge; the password field holds the passcode. */
  const respond = async (
    state: Buffer,
    username: string,
    passcode: string,
    client: RadiusClient,
  ): Promise<Reply> => {
    const key = state.toString('base64');
    const session = states.take(key);
    if (!session || session.expiresAt <= now()) return reject(REPLY_TEXT.state);
    if (session.username !== username || session.client !== client.name) {
      // A State offered for another user (or by another gateway) is spent, and so is one guess at its
      // challenge: whoever holds a State gets exactly one try at its code, whatever name they give.
      log.warn('State offered for another user or client', { client: client.name });
      await options.api.verify(session.challengeId, passcode, { ...(session.ip && { ip: session.ip }) });
      return reject(REPLY_TEXT.failed);
    }
    const verdict = await options.api.verify(session.challengeId, passcode, {
      ...(session.ip && { ip: session.ip }),
    });
    if (verdict.kind === 'unavailable') {
      // nothing was decided: the State stays good for the gateway's retransmit
      states.set(key, session, now());
      return undefined;
    }
    if (verdict.kind === 'accept') return accept(verdict.radius);
    log.info('passcode refused', { client: client.name, username, reason: verdict.reason });
    return reject(verdictText(verdict.reason));
  };

  /**
   * Single-step, for gateways that cannot show a challenge: the password field is the password followed by a
   * passcode sent in advance (the passcode the last login left waiting). A login with the password alone sends
   * one and is rejected, telling the user to log in again with both.
   */
  const singleStep = async (
    username: string,
    field: string,
    client: RadiusClient,
    facts: SessionFacts,
  ): Promise<Reply> => {
    const key = `${client.name}\0${username}`;
    const sendInAdvance = async (): Promise<{ destination: string } | 'unavailable' | Reply> => {
      const started = await options.api.start(username, facts);
      if (started.kind === 'unavailable') return 'unavailable';
      if (started.kind === 'refused') return reject(refusedText(started.code));
      const t = now();
      advance.set(
        key,
        {
          username,
          challengeId: started.challengeId,
          client: client.name,
          ip: facts.ip,
          expiresAt: Math.min(Date.parse(started.expiresAt) || t, t + MAX_STATE_MS),
        },
        t,
      );
      stats.challenges++;
      return { destination: started.destination };
    };
    const pending = advance.take(key);
    const live = pending && pending.expiresAt > now() ? pending : undefined;
    const n = client.passcodeLength;
    // too short to hold a passcode: the password alone, and the waiting passcode stays for the next login
    if (live && [...field].length <= n) advance.set(key, live, now());
    if (live && [...field].length > n) {
      const chars = [...field];
      const password = chars.slice(0, -n).join('');
      const passcode = chars.slice(-n).join('');
      const first = await options.firstFactor.check(username, password, facts);
      if (first === 'unavailable') {
        advance.set(key, live, now());
        return undefined;
      }
      if (first === 'locked') {
        advance.set(key, live, now());
        return reject(REPLY_TEXT.locked);
      }
      if (first === 'valid') {
        const verdict = await options.api.verify(live.challengeId, passcode, {
          ...(live.ip && { ip: live.ip }),
        });
        if (verdict.kind === 'unavailable') {
          advance.set(key, live, now());
          return undefined;
        }
        if (verdict.kind === 'reject') return reject(verdictText(verdict.reason));
        // the next login's passcode goes out now, so that it is on the phone when the user needs it
        void sendInAdvance().catch((error: unknown) => log.warn('sending in advance failed', { error }));
        return accept(verdict.radius);
      }
      // Not password+passcode: the whole field may be the password alone (the user lost the code). The
      // waiting passcode stays good until then.
      advance.set(key, live, now());
    }
    const first = await options.firstFactor.check(username, field, facts);
    if (first === 'unavailable') return undefined;
    if (first !== 'valid') return reject(first === 'locked' ? REPLY_TEXT.locked : REPLY_TEXT.failed);
    const sent = await sendInAdvance();
    if (sent === 'unavailable') return undefined;
    if (sent === undefined || 'code' in sent) return sent;
    stats.rejects++;
    return {
      code: Code.AccessReject,
      attrs: [{ type: Attr.ReplyMessage, value: text(REPLY_TEXT.sentInAdvance(sent.destination)) }],
    };
  };

  const accessRequest = async (request: Packet, client: RadiusClient): Promise<Reply> => {
    const name = attribute(request, Attr.UserName);
    const hidden = attribute(request, Attr.UserPassword);
    if (!name || name.length === 0) return reject(REPLY_TEXT.failed);
    if (!hidden) return reject(REPLY_TEXT.pap);
    const username = name.toString('utf8');
    let password: string;
    try {
      password = decodeUserPassword(hidden, request.authenticator, client.secretBytes).toString('utf8');
    } catch {
      return reject(REPLY_TEXT.failed);
    }
    const facts = factsOf(request, client);
    const state = attribute(request, Attr.State);
    if (state) return respond(state, username, password, client);
    if (client.singleStep) return singleStep(username, password, client, facts);
    return challenge(username, password, client, facts);
  };

  const accounting = (request: Packet, client: RadiusClient): Reply => {
    stats.accounting++;
    const status = attribute(request, Attr.AcctStatusType);
    log.info('accounting', {
      client: client.name,
      status: status?.length === 4 ? status.readUInt32BE(0) : null,
      session: attribute(request, Attr.AcctSessionId)?.toString('utf8').slice(0, 64) ?? null,
      username: attribute(request, Attr.UserName)?.toString('utf8').slice(0, 128) ?? null,
    });
    return { code: Code.AccountingResponse, attrs: [] };
  };

  const sockets: Socket[] = [];
  const onDatagram =
    (socket: Socket, kind: 'auth' | 'accounting') => (datagram: Buffer, peer: RemoteInfo) => {
      stats.received++;
      const client = clients.find(peer.address);
      if (!client) return drop('unknown_client', { from: peer.address });
      let request: Packet;
      try {
        request = decodePacket(datagram);
      } catch (error) {
        if (error instanceof MalformedPacketError) return drop(error.reason, { client: client.name });
        throw error;
      }
      const send = (reply: Buffer) => {
        sending++;
        socket.send(reply, peer.port, peer.address, (error) => {
          if (error) log.warn('reply not sent', { client: client.name, error });
          if (--sending === 0) for (const w of sent.splice(0)) w();
        });
      };

      // The Message-Authenticator (or the accounting authenticator) first: nothing else is looked at before.
      const ma = checkMessageAuthenticator(request, client.secretBytes);
      if (ma === 'invalid') return drop('bad_message_authenticator', { client: client.name });
      let work: () => Promise<Reply> | Reply;
      switch (request.code) {
        case Code.AccessRequest:
          if (kind !== 'auth') return drop('wrong_port', { client: client.name });
          if (ma === 'missing' && client.requireMessageAuthenticator)
            return drop('missing_message_authenticator', { client: client.name });
          if (attribute(request, Attr.EapMessage) && ma === 'missing')
            return drop('missing_message_authenticator', { client: client.name });
          work = () => accessRequest(request, client);
          break;
        case Code.StatusServer: {
          // RFC 5997 §3: a Status-Server without Message-Authenticator is discarded; it is never cached
          if (ma === 'missing') return drop('missing_message_authenticator', { client: client.name });
          stats.statusServer++;
          const code = kind === 'auth' ? Code.AccessAccept : Code.AccountingResponse;
          send(encodeReply(code, request, [], client.secretBytes));
          return;
        }
        case Code.AccountingRequest:
          if (!checkAccountingAuthenticator(request, client.secretBytes))
            return drop('bad_accounting_authenticator', { client: client.name });
          work = () => accounting(request, client);
          break;
        default:
          return drop('unexpected_code', { client: client.name, code: request.code });
      }

      const key = ReplyCache.key(
        plainAddress(peer.address),
        peer.port,
        request.identifier,
        request.authenticator,
      );
      if (draining || inflight.size >= maxInFlight) {
        // a copy of a request in hand or answered still gets its reply; new work is not taken
        if (cache.admit(key, send) === 'duplicate') stats.duplicates++;
        else {
          cache.finish(key, undefined);
          drop(draining ? 'draining' : 'busy', { client: client.name });
        }
        return;
      }
      if (cache.admit(key, send) === 'duplicate') {
        stats.duplicates++;
        log.debug('retransmit answered from the cache', { client: client.name, id: request.identifier });
        return;
      }
      const job = (async () => {
        let reply: Buffer | undefined;
        try {
          const answer = await work();
          if (answer) reply = encodeReply(answer.code, request, answer.attrs, client.secretBytes);
        } catch (error) {
          log.error('request failed', { client: client.name, error });
        }
        cache.finish(key, reply);
      })();
      inflight.add(job);
      void job.finally(() => inflight.delete(job));
    };

  const bind = (port: number, kind: 'auth' | 'accounting') =>
    new Promise<Socket>((resolve, reject) => {
      const socket = createSocket({
        type: isIP(options.host) === 6 ? 'udp6' : 'udp4',
        recvBufferSize: RECEIVE_BUFFER_BYTES,
      });
      socket.once('error', reject);
      socket.bind(port, options.host, () => {
        socket.off('error', reject);
        socket.on('error', (error) => log.error('socket error', { kind, error }));
        socket.on('message', onDatagram(socket, kind));
        resolve(socket);
      });
    });

  const auth = await bind(options.port, 'auth');
  sockets.push(auth);
  let acct: Socket | undefined;
  if (options.accountingPort !== undefined) {
    try {
      acct = await bind(options.accountingPort, 'accounting');
      sockets.push(acct);
    } catch (error) {
      auth.close();
      throw error;
    }
  }
  const address = {
    host: options.host,
    port: auth.address().port,
    accountingPort: acct?.address().port,
  };
  log.info('RADIUS front listening', { ...address, clients: options.clients.length });

  let stopped: Promise<void> | undefined;
  return {
    address,
    stats,
    get inFlight() {
      return inflight.size;
    },
    stop(deadlineMs = 10_000) {
      stopped ??= (async () => {
        draining = true;
        if (inflight.size > 0) {
          log.info('RADIUS front draining', { inFlight: inflight.size });
          const late = new Promise<void>((r) => setTimeout(r, deadlineMs).unref());
          await Promise.race([Promise.allSettled([...inflight]), late]);
        }
        if (sending > 0) await new Promise<void>((r) => sent.push(r));
        await Promise.all(sockets.map((s) => new Promise<void>((r) => s.close(() => r()))));
        log.info('RADIUS front stopped', { unanswered: inflight.size });
      })();
      return stopped;
    },
  };
}
