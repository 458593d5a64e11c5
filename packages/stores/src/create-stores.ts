import type { Config } from '@spotter/config';
import { AlarmStore } from './alarm-store.js';
import { BatchStore } from './batch-store.js';
import { IdempotencyStore } from './idempotency-store.js';
import { JobQueue } from './job-queue.js';
import { JobStore } from './job-store.js';
import { redisKeys } from './keys.js';
import { labelRetentionS, ProfileStore } from './profile-store.js';
import { RateLimitStore } from './rate-limit-store.js';
import type { RedisClient } from './redis-connection.js';
import { RolloutStore } from './rollout-store.js';
import { VideoStore } from './video-store.js';
import { WebhookStore } from './webhook-store.js';

/** Every store and the queue port over one connection, built in one place. */
export function createStores(redis: RedisClient, config: Config) {
  const keys = redisKeys(config.redis.prefix);
  return {
    jobs: new JobStore(redis, keys, config.jobs.retentionS),
    batches: new BatchStore(redis, keys),
    videos: new VideoStore(redis, keys, config.jobs.retentionS),
    idempotency: new IdempotencyStore(redis, keys),
    rateLimits: new RateLimitStore(redis, keys),
    webhooks: new WebhookStore(redis, keys),
    rollout: new RolloutStore(redis, keys),
    profiles: new ProfileStore(redis, keys, {
      bucketMs: config.monitoring.bucketMs,
      retentionS: config.monitoring.retentionS,
      labelRetentionS: labelRetentionS(config.monitoring.retentionS, config.images.retention),
    }),
    alarms: new AlarmStore(redis, keys),
    queue: new JobQueue(redis, keys.bullPrefix, config),
    /** Answers when Redis answers (readiness); fails at once while disconnected. */
    ping: () => (redis.status === 'ready' ? redis.ping() : Promise.reject(new Error(`redis connection is ${redis.status}`))),
  };
}
export type Stores = ReturnType<typeof createStores>;
