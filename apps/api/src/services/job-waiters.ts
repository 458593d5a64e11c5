import { JobRecord } from '@spotter/shared';

/**
 * Requests waiting for jobs to finish, woken by one per-process subscription to the queue's
 * completion events (not one per request). A completed job's event carries its record.
 */
export class JobWaiters {
  private readonly waiting = new Map<string, Set<(record: JobRecord | null) => void>>();

  /** Feed from the queue's events: `returnvalue` is the completed job's record, if any. */
  notify(id: string, returnvalue?: unknown) {
    const set = this.waiting.get(id);
    if (!set) return;
    const raw = typeof returnvalue === 'string' ? safeJson(returnvalue) : returnvalue;
    const parsed = JobRecord.safeParse(raw);
    for (const fn of set) fn(parsed.success ? parsed.data : null);
  }

  /** Resolves with the finished job's record (or null: re-read it) on the next event, or null after `ms`. */
  next(id: string, ms: number): Promise<JobRecord | null> {
    return new Promise((resolve) => {
      const set = this.waiting.get(id) ?? new Set();
      this.waiting.set(id, set);
      const done = (record: JobRecord | null) => {
        clearTimeout(timer);
        set.delete(done);
        if (set.size === 0) this.waiting.delete(id);
        resolve(record);
      };
      const timer = setTimeout(() => done(null), ms);
      set.add(done);
    });
  }
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}
