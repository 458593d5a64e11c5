import { describe, expect, it } from 'vitest';
import { loadConfig } from '@spotter/config';
import { workerLockOptions } from './job-queue.js';

describe('worker lock settings', () => {
  it('take a dead worker’s jobs over within SPOTTER_TAKEOVER_S: the lock expires, then a stall check finds it', () => {
    for (const s of [3, 6, 15, 600]) {
      const o = workerLockOptions(loadConfig({ SPOTTER_TAKEOVER_S: String(s) }));
      // Worst case: the lock was just renewed when the worker died, and a stall check ran just before it expired.
      expect(o.lockDuration! + o.stalledInterval!).toBeLessThanOrEqual(s * 1000);
      // A live worker renews its lock at half of it: a lock shorter than a check would be lost between checks.
      expect(o.lockDuration!).toBeGreaterThan(o.stalledInterval!);
      // BullMQ never fails a stalled job by itself: the processor counts crashed attempts.
      expect(o.maxStalledCount).toBeGreaterThan(1000);
    }
  });
});
