/**
 * Lets batch images run only while no realtime job is in hand in this process: a realtime
 * caller then waits for at most the batch images already running, never for the batch.
 */
export class RealtimeFirst {
  private inHand = 0;
  private waiting: (() => void)[] = [];

  /** Runs a realtime job; batch work pauses until none is left. */
  async realtime<T>(fn: () => Promise<T>): Promise<T> {
    this.inHand++;
    try {
      return await fn();
    } finally {
      if (--this.inHand === 0) for (const wake of this.waiting.splice(0)) wake();
    }
  }

  /** Resolves when batch work may start. */
  async batchTurn(): Promise<void> {
    while (this.inHand > 0) await new Promise<void>((r) => this.waiting.push(r));
  }
}
