/** The simulator's outbox: one JSON line `{"modem","to","text","at"}` per SMS a simulated modem sent. */
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface OutboxLine {
  modem: string;
  to: string;
  text: string;
  at: string;
}

export class Outbox {
  private ready: Promise<unknown> | undefined;
  private tail: Promise<void> = Promise.resolve();

  constructor(readonly path: string) {}

  /** Appends in call order; resolves once the line is on disk. */
  append(line: OutboxLine): Promise<void> {
    this.ready ??= mkdir(dirname(this.path), { recursive: true });
    const record = `${JSON.stringify({ modem: line.modem, to: line.to, text: line.text, at: line.at })}\n`;
    const write = this.tail.then(async () => {
      await this.ready;
      await appendFile(this.path, record, 'utf8');
    });
    this.tail = write.catch(() => undefined);
    return write;
  }
}
