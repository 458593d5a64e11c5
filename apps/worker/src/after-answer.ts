import type { Logger } from '@spotter/telemetry';

/**
 * Work that follows an answer: storing a job's record, counting it for monitoring and the
 * rollout, closing the outbox entry of a delivered webhook. Started on the next turn of the
 * event loop, once the queue has been told the outcome, so none of it sits between the model
 * and the client, or between a receiver's 200 and the queue's acknowledgement. Nothing here
 * decides an outcome: a process that dies first leaves the job's outbox entry to the
 * reconciler and loses one observation. Shutdown waits for what is running.
 */
export class AfterAnswer {
  private readonly running = new Set<Promise<void>>();

  /** `defer` starts the work: the next turn of the event loop (tests hold it to see the state before). */
  constructor(
    private readonly log: Logger,
    private readonly defer: (start: () => void) => void = setImmediate,
  ) {}

  later(what: string, fn: () => Promise<void>): void {
    const run: Promise<void> = new Promise<void>((resolve) => this.defer(resolve))
      .then(fn)
      .catch((err: unknown) => this.log.warn({ err }, `${what} failed after the answer`))
      .finally(() => this.running.delete(run));
    this.running.add(run);
  }

  /** Waits for everything started so far (and what that starts). */
  async drain(): Promise<void> {
    while (this.running.size) await Promise.allSettled([...this.running]);
  }
}
