/**
 * A copy on disk of every message the local stack puts on its dispatch queue, kept until its challenge
 * expires. fauxqs holds messages in memory only, so a stack killed mid-burst forgets steps it already answered
 * `201` for; after a restart the sweep (core/recovery.ts) sends those steps again from this copy. A line is
 * written before the message goes to the queue, with a plain write: that survives the process being killed
 * (the same guarantee dynalite's files give), not a power cut.
 */

import { closeSync, existsSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { DispatchMessage } from '../contracts/queue.ts';

const FILE = 'dispatch-outbox.jsonl';

const keyOf = (m: DispatchMessage) => `${m.challengeId}.${m.step}.${m.kind}`;

export class DispatchOutbox {
  private readonly kept = new Map<string, DispatchMessage>();
  private fd: number | undefined;
  private lines = 0;

  private constructor(
    private readonly dir: string,
    private readonly now: () => number,
  ) {}

  /** Loads what a previous run left, keeping the messages of challenges that are still live. */
  static open(dir: string, now: () => number = Date.now): DispatchOutbox {
    const outbox = new DispatchOutbox(dir, now);
    const file = outbox.file;
    if (existsSync(file)) {
      for (const line of readFileSync(file, 'utf8').split('\n')) {
        if (!line) continue;
        try {
          outbox.keep(DispatchMessage.parse(JSON.parse(line)));
        } catch {
          // a torn last line from a killed process, or a damaged one: every other line stands alone
        }
      }
    }
    outbox.compact();
    return outbox;
  }

  private get file(): string {
    return join(this.dir, FILE);
  }

  /** The kept message of a challenge's step, if the step was ever queued. */
  step(challengeId: string, step: number): DispatchMessage | undefined {
    return this.kept.get(`${challengeId}.${step}.step`);
  }

  /** Failover timers of live challenges. */
  timers(): DispatchMessage[] {
    return [...this.kept.values()].filter((m) => m.kind === 'timer');
  }

  /** Copies every message sent to `queueUrl` through `sqs` to disk before it is sent. */
  attach(sqs: SQSClient, queueUrl: string): void {
    sqs.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { QueueUrl?: string; MessageBody?: string };
        if (context.commandName === 'SendMessageCommand' && input.QueueUrl === queueUrl && input.MessageBody)
          this.record(input.MessageBody);
        return next(args);
      },
      { step: 'initialize', name: 'dispatchOutbox' },
    );
  }

  record(body: string): void {
    const parsed = DispatchMessage.safeParse(JSON.parse(body));
    if (!parsed.success || this.fd === undefined) return;
    this.keep(parsed.data);
    writeSync(this.fd, `${JSON.stringify(parsed.data)}\n`);
    if (++this.lines > Math.max(10_000, 2 * this.kept.size)) this.compact();
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private keep(message: DispatchMessage): void {
    this.kept.set(keyOf(message), message);
  }

  /** Drops the messages of expired challenges and rewrites the file with the rest. */
  private compact(): void {
    const nowIso = new Date(this.now()).toISOString();
    for (const [key, message] of this.kept) if (message.expiresAt <= nowIso) this.kept.delete(key);
    this.close();
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, [...this.kept.values()].map((m) => `${JSON.stringify(m)}\n`).join(''), {
      mode: 0o600,
    });
    renameSync(tmp, this.file);
    this.fd = openSync(this.file, 'a', 0o600);
    this.lines = 0;
  }
}
