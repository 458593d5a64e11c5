import { BatchStatus, type BatchCounts } from '@spotter/shared';
import type { RedisKeys } from './keys.js';
import { redisCall, type RedisClient } from './redis-connection.js';

/** What Redis holds of a batch: its status, times and exact counts (kept by the jobs' end, see JobStore.finish). */
export interface StoredBatch {
  owner: string;
  status: BatchStatus;
  counts: Omit<BatchCounts, 'skipped' | 'queued'> & { queued: number };
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  cancelRequested: boolean;
}

/** Batch progress in Redis. */
export class BatchStore {
  constructor(private readonly redis: RedisClient, private readonly keys: RedisKeys) {}

  /** Starts counting a batch of `total` jobs. */
  create(id: string, owner: string, total: number, createdAt: string): Promise<void> {
    return redisCall(async () => {
      await this.redis.hset(this.keys.batch(id), 'owner', owner, 'status', 'queued', 'total', total, 'running', 0, 'succeeded', 0, 'failed', 0, 'cancelled', 0, 'created_at', createdAt);
    });
  }

  get(id: string): Promise<StoredBatch | null> {
    return redisCall(async () => {
      const h = await this.redis.hgetall(this.keys.batch(id));
      if (!h.owner) return null;
      const n = (k: string) => Number(h[k] ?? 0);
      const total = n('total');
      const final = n('succeeded') + n('failed') + n('cancelled');
      return {
        owner: h.owner,
        status: BatchStatus.parse(h.status),
        counts: { total, running: n('running'), succeeded: n('succeeded'), failed: n('failed'), cancelled: n('cancelled'), queued: Math.max(0, total - final - n('running')) },
        created_at: h.created_at!,
        started_at: h.started_at ?? null,
        finished_at: h.finished_at ?? null,
        cancelRequested: h.cancel_requested === '1',
      };
    });
  }

  /** Puts back counters Redis lost (recounted from the items). */
  restore(id: string, owner: string, s: Omit<StoredBatch, 'owner' | 'cancelRequested'>): Promise<void> {
    const c = s.counts;
    return redisCall(async () => {
      await this.redis.hset(this.keys.batch(id), 'owner', owner, 'status', s.status, 'total', c.total, 'running', c.running, 'succeeded', c.succeeded, 'failed', c.failed, 'cancelled', c.cancelled, 'created_at', s.created_at);
    });
  }

  /** Marks the batch cancelled once its last item ends (items still queued are cancelled by the caller). */
  requestCancel(id: string): Promise<void> {
    return redisCall(async () => void (await this.redis.hset(this.keys.batch(id), 'cancel_requested', '1')));
  }

  erase(id: string): Promise<void> {
    return redisCall(async () => void (await this.redis.del(this.keys.batch(id))));
  }
}
