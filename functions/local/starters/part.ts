/**
 * What every starter of the local stack hands back: something running that stops. Starters stop only what
 * they started themselves, last first, and undo their own half-finished start when a step fails.
 */
import type { Logger } from '../../adapters/log.ts';

export interface Part {
  stop(): Promise<void>;
}

/** Stop steps in the order things started; running them goes last first and survives a failing step. */
export class StopSteps {
  private readonly steps: Array<() => Promise<unknown>> = [];

  constructor(private readonly log: Logger) {}

  push(step: () => Promise<unknown>): void {
    this.steps.push(step);
  }

  /** Registers a started part and hands it back, so a start reads as one line. */
  add<T extends Part>(part: T): T {
    this.steps.push(() => part.stop());
    return part;
  }

  /** Each step runs once: a second call finds nothing left to stop. */
  async run(): Promise<void> {
    for (const step of this.steps.splice(0).reverse())
      await step().catch((error: unknown) => this.log.warn('stop step failed', { error }));
  }
}

/**
 * Runs a starter's steps; whatever they registered stops with the part, or at once when a later step throws.
 */
export async function startPart<T extends object>(
  log: Logger,
  start: (stops: StopSteps) => Promise<T>,
): Promise<T & Part> {
  const stops = new StopSteps(log);
  try {
    const value = await start(stops);
    return { ...value, stop: () => stops.run() };
  } catch (error) {
    await stops.run();
    throw error;
  }
}

/** A step that leaves nothing running (seeding, the restart sweep) is still a part, so the stack composes one kind of thing. */
export const finished = <T extends object>(value: T): T & Part => ({ ...value, stop: async () => {} });
