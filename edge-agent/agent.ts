/**
 * The edge agent: jobs in from MQTT, SMS out through the modem pool, results and modem health back as events.
 *
 * "Nothing lost, nothing duplicated": a job is journalled (fsync, with the job sealed) before it is acknowledged
 * to the broker, so a redelivery is recognised by its id, even after a restart; and it is journalled as
 * `handed` (fsync) immediately before its first `AT+CMGS`. So after a restart, even a `kill -9`:
 * - a job that never reached a modem is sent, unless it expired meanwhile;
 * - a job that was handed to a modem and never finished is not sent again: the modem may have sent it. It is
 *   reported `job.unknown`, and the cloud waits a little for its delivery report before failing over.
 *
 * On a stop (SIGTERM) the agent takes no new work, lets the sends already at a modem finish, and keeps every
 * job that has not reached a modem in the journal, for the next start to send (see `stop()` for why).
 */
import {
  type AgentEvent,
  type FailureClass,
  JOB_VERSIONS,
  type JobFailedEvent,
  type JobSentEvent,
  type JobUnknownEvent,
  type ModemStatusEvent,
  parseJson,
  SmsJob,
  wantsReport,
} from '../functions/contracts/index.ts';
import type { AdConnector } from './ad/connector.ts';
import type { BackoffOptions } from './backoff.ts';
import { type AgentConfig, readMqttCredentials } from './config.ts';
import { type JobResultEvent, Journal, type KeptJob } from './journal.ts';
import { type Logger, silentLogger } from './log.ts';
import { MqttLink } from './mqtt/link.ts';
import type { DeliveryReport, SendOutcome, SmsSender } from './ports.ts';
import type { LdapBind } from './radius/first-factor.ts';
import { startRadiusFront } from './radius/front.ts';
import type { RadiusServer } from './radius/server.ts';

/** How long after a job was handed to a modem its delivery report may still confirm it after a restart. */
const UNKNOWN_REPORT_WINDOW_MS = 15 * 60_000;

export const AGENT_VERSION = '0.1.0';

type ModemStatus = Omit<ModemStatusEvent, 'v' | 'at' | 'type'>;

/** Bigger payloads are dropped unparsed; a real job is well under 4 KiB. */
export const MAX_JOB_BYTES = 64 * 1024;

/**
 * The agent process is gone this long after SIGTERM, whatever its sends do: sends at a modem get all but the
 * last few seconds, flushing events and saying goodbye to the broker the rest, and `cli.ts` exits at the
 * deadline itself. The systemd unit's `TimeoutStopSec` (30 s) leaves 5 s beyond it before systemd kills;
 * test/edge-agent/agent/stop-deadline.test.ts checks the two agree. A send cut off by the deadline is
 * journalled `handed`, so the next start reports it `job.unknown`, never sends it twice.
 */
export const STOP_DEADLINE_MS = 25_000;
/** Of the deadline, what is kept back from the sends for the events and the goodbye. */
const STOP_RESERVE_MS = 5_000;

/** The abort reason of a job that had not reached a modem when the agent began to stop. */
const STOPPING = Symbol('agent stopping');

export interface AgentOptions {
  config: AgentConfig;
  sender: SmsSender;
  log?: Logger;
  now?: () => Date;
  /** Backoff for reconnects; tests shorten it. */
  backoff?: BackoffOptions;
  /** How long `stop()` waits for events to reach the broker before disconnecting anyway. */
  drainTimeoutMs?: number;
  /** The whole of `stop()`, sends in flight included; default `STOP_DEADLINE_MS`. */
  stopDeadlineMs?: number;
  /** How often modem health is compared for the "on change" status; default 1 s. */
  changeCheckMs?: number;
  /** The AD connector's bind, for a RADIUS front whose first factor is `ldap`. */
  ldapBind?: LdapBind;
  /** How the AD connector reaches the sync API; tests pass an in-process one. */
  fetch?: typeof fetch;
}

export interface AgentStats {
  received: number;
  malformed: number;
  invalid: number;
  duplicates: number;
  expired: number;
  sent: number;
  failed: number;
  delivered: number;
  unmatchedReports: number;
  /** Jobs reported `job.unknown`: handed to a modem when the agent died. */
  unknown: number;
  /** Of those, found at this start. */
  interruptedAtStart: number;
  /** Jobs that never reached a modem before the last run ended, sent by this one. */
  resumedAtStart: number;
  /** Jobs left in the journal for the next start because the agent was stopping. */
  kept: number;
}

export interface Agent {
  readonly stats: AgentStats;
  readonly link: MqttLink;
  readonly journal: Journal;
  /** The RADIUS front, when the configuration has a `radius` section. */
  readonly radius: RadiusServer | undefined;
  /** The AD connector, once loaded (an `ad` section, or the first RPC request). */
  readonly ad: AdConnector | undefined;
  /** Sends in progress. */
  readonly inFlight: number;
  /**
   * Stops taking jobs, keeps the jobs not yet at a modem for the next start, waits for the sends at a modem,
   * flushes events, disconnects; all within the stop deadline. Does not close the sender.
   */
  stop(): Promise<void>;
}

function issueSummary(issues: ReadonlyArray<{ path: PropertyKey[]; message: string }>): string {
  // paths and messages only: zod's messages here never quote the value, which may be the passcode text
  return issues
    .map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`)
    .join('; ')
    .slice(0, 200);
}

/** An id usable for a `job.failed(invalid)` answer, taken from a payload that failed validation. */
/** A clear refusal for a job of a version this agent does not know (a newer cloud's). */
function unsupportedVersion(value: unknown): string | undefined {
  const v = (value as { v?: unknown } | null)?.v;
  if (typeof v !== 'number' || (JOB_VERSIONS as readonly number[]).includes(v)) return undefined;
  return `unsupported job version ${v}; this agent takes ${JOB_VERSIONS.join(', ')}`;
}

function salvageId(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const id = (value as { id?: unknown }).id;
  return typeof id === 'string' && id.length >= 1 && id.length <= 128 ? id : undefined;
}

export async function startAgent(options: AgentOptions): Promise<Agent> {
  const { config, sender } = options;
  const log = (options.log ?? silentLogger).child({ tenantId: config.tenantId, agentId: config.agentId });
  const now = options.now ?? (() => new Date());
  const iso = () => now().toISOString();
  const stats: AgentStats = {
    received: 0,
    malformed: 0,
    invalid: 0,
    duplicates: 0,
    expired: 0,
    sent: 0,
    failed: 0,
    delivered: 0,
    unmatchedReports: 0,
    unknown: 0,
    interruptedAtStart: 0,
    resumedAtStart: 0,
    kept: 0,
  };

  const credentials = await readMqttCredentials(config.mqtt);
  const journal = await Journal.open(config.stateDir, { now: () => now().getTime() });
  const inflight = new Set<Promise<void>>();
  /** The abort controller of every job being sent, by id; aborting one that has not reached a modem keeps it. */
  const sending = new Map<string, AbortController>();
  /** `${modem}:${messageRef}` → job id; refs wrap at 256 per modem, so the newest send wins a slot. */
  const deliveryIndex = new Map<string, string>();
  let stopping = false;

  const remember = (event: JobSentEvent) => {
    for (const ref of event.messageRefs) {
      const key = `${event.modem}:${ref}`;
      deliveryIndex.delete(key);
      deliveryIndex.set(key, event.jobId);
    }
  };
  for (const entry of journal.all()) if (entry.event?.type === 'job.sent') remember(entry.event);

  const publish = (event: AgentEvent) => link.publishEvent(event);

  // ldapts and the connector load only for an agent with AD, or when an RPC request comes to one without
  let ad: AdConnector | undefined;
  let adLoading: Promise<AdConnector> | undefined;
  const loadAd = () => {
    adLoading ??= import('./ad/connector.ts').then(async ({ startAdConnector }) => {
      ad = await startAdConnector(config, log, options.fetch ? { fetch: options.fetch } : {});
      return ad;
    });
    return adLoading;
  };
  const onRpcRequest = async (payload: Buffer) => {
    const reply = await (await loadAd()).handleRpc(payload);
    if (reply) void link.publishRpcResponse(JSON.stringify(reply));
  };
  /**
   * Jobs the last process handed to a modem and never heard back about (reported `job.unknown`). Their message
   * references died with it, so a report is matched by modem, recipient (the journal's keyed hash) and time:
   * the newest such job handed to that modem for that number within the window.
   */
  const outcomeUnknown: Array<{ jobId: string; modem: string; recipient: string; at: number }> = [];
  const unknownJobOf = (report: DeliveryReport): string | undefined => {
    if (report.recipient === undefined) return undefined;
    const tag = journal.recipientTag(report.recipient);
    const received = now().getTime();
    let best = -1;
    outcomeUnknown.forEach((c, i) => {
      const fits =
        c.modem === report.modem && c.recipient === tag && received - c.at <= UNKNOWN_REPORT_WINDOW_MS;
      if (fits && (best < 0 || c.at > (outcomeUnknown[best]?.at ?? 0))) best = i;
    });
    return best < 0 ? undefined : outcomeUnknown.splice(best, 1)[0]?.jobId;
  };
  /** Which connection of the link each result was published in (results of an earlier run have none). */
  const publishedIn = new WeakMap<object, number>();

  /** Journals a result, then publishes it and marks it reported once the broker has it. */
  const finish = async (event: JobResultEvent, expiresAt?: number) => {
    const written = journal.finished(event.jobId, event, expiresAt);
    const entry = journal.get(event.jobId);
    if (entry) publishedIn.set(entry, link.stats.connects);
    await written;
    if (event.type === 'job.sent') {
      stats.sent++;
      remember(event);
    } else if (event.type === 'job.unknown') {
      stats.unknown++;
    } else {
      stats.failed++;
    }
    void publish(event).then((acked) => {
      if (acked) journal.reported(event.jobId).catch((err) => log.warn('journal write failed', { err }));
    });
  };

  const failed = (jobId: string, reason: FailureClass, detail: string, modem?: string): JobFailedEvent => {
    const event: JobFailedEvent = {
      v: 1,
      at: iso(),
      type: 'job.failed',
      jobId,
      reason,
      detail: detail.slice(0, 200),
    };
    if (modem !== undefined) event.modem = modem.slice(0, 64);
    return event;
  };

  const unknown = (jobId: string, modem: string | undefined): JobUnknownEvent => {
    const event: JobUnknownEvent = {
      v: 1,
      at: iso(),
      type: 'job.unknown',
      jobId,
      detail: 'agent restarted mid-send; the modem may have sent it',
    };
    if (modem !== undefined) event.modem = modem.slice(0, 64);
    return event;
  };

  const send = async (job: KeptJob & { id: string }) => {
    const expiresAt = Date.parse(job.expiresAt);
    const controller = new AbortController();
    sending.set(job.id, controller);
    // an SMS that would arrive after the passcode expired is worth nothing; the pool may still finish a send
    // whose bytes are already on the wire
    const timer = setTimeout(() => controller.abort(), Math.max(0, expiresAt - now().getTime()));
    timer.unref();
    let outcome: SendOutcome;
    try {
      outcome = await sender.send(
        {
          to: job.to,
          text: job.text,
          flash: job.flash,
          modemGroup: job.modemGroup,
          // a job kept from before this field existed asks for its report, as every job then did
          report: job.report ?? true,
        },
        controller.signal,
        // durable before the modem gets AT+CMGS: from here a restart must not send it again
        { onHandedToModem: (modem) => journal.handed(job.id, modem, job.to) },
      );
    } catch (err) {
      log.error('sender threw', { jobId: job.id, err });
      outcome = { ok: false, reason: 'temporary', detail: 'sender error' };
    } finally {
      clearTimeout(timer);
      sending.delete(job.id);
    }
    if (!outcome.ok && controller.signal.reason === STOPPING && journal.get(job.id)?.state === 'received') {
      // no modem got it: the journal still holds it, and the next start sends it
      stats.kept++;
      log.info('job kept for the next start', { jobId: job.id });
      return;
    }
    if (outcome.ok) {
      log.info('job sent', { jobId: job.id, modem: outcome.modem, parts: outcome.messageRefs.length });
      await finish({
        v: 1,
        at: iso(),
        type: 'job.sent',
        jobId: job.id,
        modem: outcome.modem,
        messageRefs: outcome.messageRefs,
      });
    } else {
      log.warn('job failed', { jobId: job.id, reason: outcome.reason, detail: outcome.detail });
      await finish(failed(job.id, outcome.reason, outcome.detail, outcome.modem));
    }
  };

  const track = (work: Promise<void>) => {
    const p = work.catch((err) => log.error('job handling failed', { err }));
    inflight.add(p);
    void p.finally(() => inflight.delete(p));
  };

  /** Resolves once the job is durably journalled (then the link acknowledges it); the send runs on. */
  const onJob = async (payload: Buffer): Promise<void> => {
    stats.received++;
    if (payload.length > MAX_JOB_BYTES) {
      stats.malformed++;
      log.warn('dropped an oversized job payload', { bytes: payload.length });
      return;
    }
    const raw = parseJson(payload);
    if (raw === undefined) {
      stats.malformed++;
      log.warn('dropped a job payload that is not JSON', { bytes: payload.length });
      return;
    }
    const parsed = SmsJob.safeParse(raw);
    if (!parsed.success) {
      const id = salvageId(raw);
      if (id === undefined) {
        stats.malformed++;
        log.warn('dropped a job without a usable id', { issues: issueSummary(parsed.error.issues) });
        return;
      }
      stats.invalid++;
      if (journal.get(id)) {
        stats.duplicates++;
        return;
      }
      const detail = unsupportedVersion(raw) ?? issueSummary(parsed.error.issues);
      log.warn('invalid job', { jobId: id, issues: detail });
      await finish(failed(id, 'invalid', detail));
      return;
    }
    const job = parsed.data;
    const known = journal.get(job.id);
    if (known) {
      stats.duplicates++;
      log.info('duplicate job ignored', { jobId: job.id });
      // A job sent again after a reconnect may be the cloud asking how it ended (a restarted local stack lost
      // the event): it hears the outcome again instead of getting a second SMS.
      if (known.event && publishedIn.get(known) !== link.stats.connects) void publish(known.event);
      return;
    }
    const expiresAt = Date.parse(job.expiresAt);
    if (expiresAt <= now().getTime()) {
      stats.expired++;
      log.info('expired job dropped', { jobId: job.id });
      await finish(failed(job.id, 'expired', 'expired before the agent received it'), expiresAt);
      return;
    }
    const kept: KeptJob = {
      to: job.to,
      text: job.text,
      flash: job.flash,
      modemGroup: job.modemGroup,
      expiresAt: job.expiresAt,
      report: wantsReport(job),
    };
    await journal.received(job.id, expiresAt, kept);
    if (stopping) {
      // acknowledged and kept, like the jobs already queued: the next start sends it
      stats.kept++;
      log.info('job kept for the next start', { jobId: job.id });
      return;
    }
    track(send({ id: job.id, ...kept }));
  };

  const statusEvents = (): ModemStatusEvent[] =>
    sender.statuses().map((s) => ({ ...s, v: 1, at: iso(), type: 'modem.status' }) as ModemStatusEvent);

  const publishStatuses = () => {
    for (const event of statusEvents()) void publish(event);
  };

  const link = new MqttLink({
    url: config.mqtt.url,
    stage: config.stage,
    tenantId: config.tenantId,
    agentId: config.agentId,
    ...credentials,
    protocolVersion: config.mqtt.protocolVersion,
    keepaliveSeconds: config.mqtt.keepaliveSeconds,
    ...(options.backoff ? { backoff: options.backoff } : {}),
    log,
    onJob,
    onRpcRequest,
    onConnect: () => {
      void publish({
        v: 1,
        at: iso(),
        type: 'agent.online',
        version: AGENT_VERSION,
        modemGroups: sender.groups(),
        jobVersions: [...JOB_VERSIONS],
        ...(config.ad && { adDomains: config.ad.domains.map((d) => d.name) }),
      });
      publishStatuses();
    },
  });

  // the last run's loose ends, queued before the link starts so they go out first
  const unreported = journal.unreported();
  for (const entry of journal.interruptedAtOpen) {
    stats.interruptedAtStart++;
    if (entry.modem !== undefined && entry.recipient !== undefined && entry.handedAt !== undefined)
      outcomeUnknown.push({
        jobId: entry.id,
        modem: entry.modem,
        recipient: entry.recipient,
        at: entry.handedAt,
      });
    log.warn('job was at a modem when the agent stopped; reporting its outcome unknown', {
      jobId: entry.id,
      modem: entry.modem,
    });
    await finish(unknown(entry.id, entry.modem));
  }
  // jobs no modem ever got: sent now, ahead of anything the broker brings, in the order they came
  for (const entry of journal.waitingAtOpen) {
    if (!entry.job) {
      log.warn('job never reached a modem and was not kept whole; reporting it failed', { jobId: entry.id });
      await finish(failed(entry.id, 'temporary', 'agent restarted before sending it'));
    } else if (entry.expiresAt <= now().getTime()) {
      stats.expired++;
      log.info('job kept over a restart expired meanwhile', { jobId: entry.id });
      await finish(failed(entry.id, 'expired', 'expired while the agent was not running'));
    } else {
      stats.resumedAtStart++;
      track(send({ id: entry.id, ...entry.job }));
    }
  }
  if (stats.resumedAtStart > 0)
    log.info('sending jobs kept from the last run', { jobs: stats.resumedAtStart });
  for (const entry of unreported) {
    const event = entry.event;
    if (!event) continue;
    void publish(event).then((acked) => {
      if (acked) journal.reported(event.jobId).catch((err) => log.warn('journal write failed', { err }));
    });
  }

  sender.onDeliveryReport((report: DeliveryReport) => {
    const jobId = report.unmatched
      ? unknownJobOf(report)
      : deliveryIndex.get(`${report.modem}:${report.messageRef}`);
    if (!jobId) {
      stats.unmatchedReports++;
      log.info('delivery report for no known job', { modem: report.modem, messageRef: report.messageRef });
      return;
    }
    stats.delivered++;
    void publish({
      v: 1,
      at: report.at.toISOString(),
      type: 'job.delivered',
      jobId,
      modem: report.modem,
      messageRef: report.messageRef,
      status: report.status,
    });
  });

  const statusTimer = setInterval(() => {
    if (link.connected) publishStatuses();
  }, config.statusIntervalSeconds * 1000);
  statusTimer.unref();
  // "on change": the modem pool announces changes itself; any other sender is compared once a second
  let changeTimer: NodeJS.Timeout | undefined;
  const announcer = sender as SmsSender & { onStatusChange?: (l: (s: ModemStatus) => void) => void };
  if (typeof announcer.onStatusChange === 'function') {
    announcer.onStatusChange((status) => {
      if (!stopping && link.connected) void publish({ ...status, v: 1, at: iso(), type: 'modem.status' });
    });
  } else {
    const fingerprint = () =>
      JSON.stringify(
        sender.statuses().map((s) => [s.modem, s.healthy, s.registration, s.operator, s.lastError]),
      );
    let lastFingerprint = fingerprint();
    changeTimer = setInterval(() => {
      const current = fingerprint();
      if (current === lastFingerprint) return;
      lastFingerprint = current;
      if (link.connected) publishStatuses();
    }, options.changeCheckMs ?? 1000);
    changeTimer.unref();
  }

  if (config.ad) await loadAd();
  link.start();
  let radius: RadiusServer | undefined;
  if (config.radius) {
    try {
      // The `ldap` first factor binds through this agent's own AD connector unless the caller brings a bind.
      const ldapBind: LdapBind | undefined =
        options.ldapBind ??
        (config.ad && (async (username, password) => (await loadAd()).bindAsUser(username, password)));
      radius = await startRadiusFront(config.radius, { log, ldapBind });
    } catch (error) {
      await link.close(1_000);
      await journal.close();
      throw error;
    }
  }
  log.info('agent started', { modems: config.modems.length, groups: sender.groups() });

  let stopped: Promise<void> | undefined;
  return {
    stats,
    link,
    journal,
    radius,
    get ad() {
      return ad;
    },
    get inFlight() {
      return inflight.size;
    },
    stop() {
      /*
       * Queued jobs stay in the journal for the next start rather than going back to the cloud. A stop is most
       * often a restart (an upgrade, a configuration change, systemd's Restart=): the agent is back within
       * seconds and sends them itself, for every rule chain. Handed back, a job could only go where the cloud
       * still holds the text (chains of several rules keep it sealed; a one-rule chain does not) and where
       * another agent of the group is online; otherwise the chain would fail over or end at once, though this
       * agent would have sent it seconds later. An agent that stays down is covered as when it dies: the rule's
       * timeout fails the step over. A kept job is sent only while unexpired.
       */
      stopped ??= (async () => {
        const started = Date.now();
        const deadline = started + (options.stopDeadlineMs ?? STOP_DEADLINE_MS);
        stopping = true;
        // a sync under way stops at its next page, without complete: it removes nobody
        const adStopped = adLoading?.then((c) => c.stop()).catch(() => {});
        clearInterval(statusTimer);
        clearInterval(changeTimer);
        // RADIUS logins in hand are answered (a gateway would otherwise retry elsewhere); none is taken
        const radiusDrained = radius?.stop(Math.max(0, deadline - STOP_RESERVE_MS - Date.now()));
        let waiting = 0;
        for (const [id, controller] of sending) {
          if (journal.get(id)?.state !== 'received') continue;
          waiting++;
          controller.abort(STOPPING);
        }
        log.info('stopping: finishing the sends at a modem, keeping the rest', {
          inFlight: inflight.size - waiting,
          kept: waiting,
        });
        const sendsBy = deadline - STOP_RESERVE_MS;
        while (inflight.size > 0 && Date.now() < sendsBy) {
          const timeout = new Promise<'late'>((r) =>
            setTimeout(() => r('late'), sendsBy - Date.now()).unref(),
          );
          if ((await Promise.race([Promise.allSettled([...inflight]), timeout])) === 'late') break;
        }
        if (inflight.size > 0) {
          // journalled `handed`: the next start reports them job.unknown
          log.warn('stop deadline: leaving sends unfinished', { inFlight: inflight.size });
        }
        await radiusDrained;
        const flushMs = Math.max(
          0,
          Math.min(options.drainTimeoutMs ?? 10_000, deadline - 2_000 - Date.now()),
        );
        const flushed = await link.flush(flushMs);
        if (!flushed) log.warn('stopping with events not yet acknowledged', { pending: link.pending });
        await link.close(Math.max(500, Math.min(3_000, deadline - Date.now())));
        await adStopped;
        await journal.close();
        log.info('agent stopped', { ms: Date.now() - started, kept: stats.kept });
      })();
      return stopped;
    },
  };
}
