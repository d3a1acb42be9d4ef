/**
 * The edge agent: jobs in from MQTT, SMS out through the modem pool, results and modem health back as events.
 *
 * "Nothing lost, nothing duplicated": a job is journalled (fsync) before it is acknowledged to the broker, so a
 * redelivery is recognised by its id, even after a restart. A job that was journalled but whose send never
 * finished (the agent died mid-send) is not sent again: it is reported `job.failed(temporary)` and the cloud's
 * rule chain decides whether to fail over.
 */
import {
  type AgentEvent,
  type FailureClass,
  type JobFailedEvent,
  type JobSentEvent,
  type ModemStatusEvent,
  parseJson,
  SmsJob,
} from '../functions/contracts/index.ts';
import type { BackoffOptions } from './backoff.ts';
import { type AgentConfig, readMqttCredentials } from './config.ts';
import { type JobResultEvent, Journal } from './journal.ts';
import { type Logger, silentLogger } from './log.ts';
import { MqttLink } from './mqtt/link.ts';
import type { DeliveryReport, SendOutcome, SmsSender } from './ports.ts';

export const AGENT_VERSION = '0.1.0';

type ModemStatus = Omit<ModemStatusEvent, 'v' | 'at' | 'type'>;

/** Bigger payloads are dropped unparsed; a real job is well under 4 KiB. */
export const MAX_JOB_BYTES = 64 * 1024;

export interface AgentOptions {
  config: AgentConfig;
  sender: SmsSender;
  log?: Logger;
  now?: () => Date;
  /** Backoff for reconnects; tests shorten it. */
  backoff?: BackoffOptions;
  /** How long `stop()` waits for events to reach the broker before disconnecting anyway. */
  drainTimeoutMs?: number;
  /** How often modem health is compared for the "on change" status; default 1 s. */
  changeCheckMs?: number;
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
  interruptedAtStart: number;
}

export interface Agent {
  readonly stats: AgentStats;
  readonly link: MqttLink;
  readonly journal: Journal;
  /** Sends in progress. */
  readonly inFlight: number;
  /** Stops taking jobs, waits for sends in flight, flushes events, disconnects. Does not close the sender. */
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
    interruptedAtStart: 0,
  };

  const credentials = await readMqttCredentials(config.mqtt);
  const journal = await Journal.open(config.stateDir, { now: () => now().getTime() });
  const inflight = new Set<Promise<void>>();
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

  const send = async (job: SmsJob) => {
    const expiresAt = Date.parse(job.expiresAt);
    const controller = new AbortController();
    // an SMS that would arrive after the passcode expired is worth nothing; the pool may still finish a send
    // whose bytes are already on the wire
    const timer = setTimeout(() => controller.abort(), Math.max(0, expiresAt - now().getTime()));
    timer.unref();
    let outcome: SendOutcome;
    try {
      outcome = await sender.send(
        { to: job.to, text: job.text, flash: job.flash, modemGroup: job.modemGroup },
        controller.signal,
      );
    } catch (err) {
      log.error('sender threw', { jobId: job.id, err });
      outcome = { ok: false, reason: 'temporary', detail: 'sender error' };
    } finally {
      clearTimeout(timer);
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
      log.warn('invalid job', { jobId: id, issues: issueSummary(parsed.error.issues) });
      await finish(failed(id, 'invalid', issueSummary(parsed.error.issues)));
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
    if (stopping) {
      await finish(failed(job.id, 'temporary', 'agent shutting down'), expiresAt);
      return;
    }
    if (expiresAt <= now().getTime()) {
      stats.expired++;
      log.info('expired job dropped', { jobId: job.id });
      await finish(failed(job.id, 'expired', 'expired before the agent received it'), expiresAt);
      return;
    }
    await journal.received(job.id, expiresAt);
    track(send(job));
  };

  const statusEvents = (): ModemStatusEvent[] =>
    sender.statuses().map((s) => ({ ...s, v: 1, at: iso(), type: 'modem.status' }) as ModemStatusEvent);

  const publishStatuses = () => {
    for (const event of statusEvents()) void publish(event);
  };

  const link = new MqttLink({
    url: config.mqtt.url,
    tenantId: config.tenantId,
    agentId: config.agentId,
    ...credentials,
    protocolVersion: config.mqtt.protocolVersion,
    keepaliveSeconds: config.mqtt.keepaliveSeconds,
    ...(options.backoff ? { backoff: options.backoff } : {}),
    log,
    onJob,
    onConnect: () => {
      void publish({
        v: 1,
        at: iso(),
        type: 'agent.online',
        version: AGENT_VERSION,
        modemGroups: sender.groups(),
      });
      publishStatuses();
    },
  });

  // the last run's loose ends, queued before the link starts so they go out first
  const unreported = journal.unreported();
  for (const entry of journal.interruptedAtOpen) {
    stats.interruptedAtStart++;
    log.warn('job was in flight when the agent stopped; reporting it failed', { jobId: entry.id });
    await finish(failed(entry.id, 'temporary', 'agent restarted mid-send'));
  }
  for (const entry of unreported) {
    const event = entry.event;
    if (!event) continue;
    void publish(event).then((acked) => {
      if (acked) journal.reported(event.jobId).catch((err) => log.warn('journal write failed', { err }));
    });
  }

  sender.onDeliveryReport((report: DeliveryReport) => {
    const jobId = deliveryIndex.get(`${report.modem}:${report.messageRef}`);
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

  link.start();
  log.info('agent started', { modems: config.modems.length, groups: sender.groups() });

  let stopped: Promise<void> | undefined;
  return {
    stats,
    link,
    journal,
    get inFlight() {
      return inflight.size;
    },
    stop() {
      stopped ??= (async () => {
        stopping = true;
        clearInterval(statusTimer);
        clearInterval(changeTimer);
        log.info('stopping: finishing sends in flight', { inFlight: inflight.size });
        while (inflight.size > 0) await Promise.allSettled([...inflight]);
        const flushed = await link.flush(options.drainTimeoutMs ?? 10_000);
        if (!flushed) log.warn('stopping with events not yet acknowledged', { pending: link.pending });
        await link.close();
        await journal.close();
        log.info('agent stopped');
      })();
      return stopped;
    },
  };
}
