import { Queue, type JobsOptions } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import type { Config } from './config.js';
import { QueueNames, type AlertJobData, type DetectJobData, type WebhookJobData } from './job-contract.js';

/**
 * A Redis connection for BullMQ. Workers block on Redis and must wait through outages
 * (`maxRetriesPerRequest: null`); the API instead fails fast so a request can answer 503.
 */
export function createRedis(url: string, role: 'worker' | 'api'): Redis {
  const opts: RedisOptions =
    role === 'worker'
      ? { maxRetriesPerRequest: null }
      : { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 5000 };
  return new Redis(url, opts);
}

/** Retry and retention policy of each queue, kept in one place. */
export function jobOptions(cfg: Config) {
  const detect: JobsOptions = {
    attempts: cfg.jobs.attempts,
    backoff: { type: 'exponential', delay: cfg.jobs.backoffMs },
    removeOnComplete: { age: cfg.jobs.retentionS },
    removeOnFail: { age: cfg.jobs.retentionS },
  };
  // With the defaults (9 attempts, 15 s doubling) retries span about 64 minutes.
  const webhooks: JobsOptions = {
    attempts: cfg.webhooks.attempts,
    backoff: { type: 'exponential', delay: cfg.webhooks.backoffMs },
    removeOnComplete: { age: 7 * 24 * 3600 },
    removeOnFail: { age: 7 * 24 * 3600 },
  };
  return { detect, webhooks };
}

export type DetectQueue = Queue<DetectJobData>;
export type WebhookQueue = Queue<WebhookJobData | AlertJobData>;

/** The two queues, sharing one connection. */
export function createQueues(cfg: Config, connection: Redis) {
  const opts = jobOptions(cfg);
  const base = { connection, prefix: cfg.redis.prefix };
  return {
    detect: new Queue<DetectJobData>(QueueNames.detect, { ...base, defaultJobOptions: opts.detect }) as DetectQueue,
    webhooks: new Queue<WebhookJobData | AlertJobData>(QueueNames.webhooks, { ...base, defaultJobOptions: opts.webhooks }) as WebhookQueue,
  };
}
export type Queues = ReturnType<typeof createQueues>;
