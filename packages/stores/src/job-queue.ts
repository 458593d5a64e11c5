import { Queue, QueueEvents, Worker, type JobsOptions, type WorkerOptions } from 'bullmq';
import type { Config } from '@spotter/config';
import { QueueNames, VideoJobNames, type AlertJobData, type BatchEvent, type BatchWebhookJobData, type DetectJobData, type JobEvent, type VideoEvent, type WebhookJobData } from '@spotter/shared';
import { redisCall, type RedisClient } from './redis-connection.js';


/** Retry and retention policy of each queue, kept in one place. */
export function jobOptions(cfg: Config) {
  const detect: JobsOptions = {
    // The processor counts attempts itself (crashed ones included) and ends the job on its
    // last one; BullMQ's own count can then never fail a job behind its back.
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
  const maintenance: JobsOptions = { removeOnComplete: 100, removeOnFail: 100 };
  return { detect, webhooks, maintenance };
}

/**
 * How a worker holds its jobs, detections and webhook deliveries alike. A job whose worker
 * died is taken over within SPOTTER_TAKEOVER_S: the lock expires after 2/3 of it and the
 * stall check runs every 1/3. BullMQ never fails a stalled job by itself (the limit is out of
 * reach): the detect processor sees the crashed attempts (`stalledCounter`) and ends the job
 * with a record and a webhook; a delivery is simply made again.
 */
export function workerLockOptions(cfg: Config): Pick<WorkerOptions, 'lockDuration' | 'stalledInterval' | 'maxStalledCount'> {
  return {
    lockDuration: Math.round((cfg.jobs.takeoverMs * 2) / 3),
    stalledInterval: Math.round(cfg.jobs.takeoverMs / 3),
    maxStalledCount: 1_000_000,
  };
}

export type DetectQueueState = 'waiting' | 'prioritized' | 'delayed' | 'active' | 'completed' | 'failed' | 'unknown';

const STATES = ['waiting', 'active', 'delayed', 'prioritized', 'failed', 'completed'] as const;

/**
 * The queue port: Spotter's BullMQ queues behind the operations Spotter needs. Realtime and
 * single jobs go to `detect`, a batch's images to `detect-batch`: workers take batch work only
 * while no realtime job is in hand, so a batch never delays a realtime caller by more than
 * the batch images already running.
 */
export class JobQueue {
  readonly detect: Queue<DetectJobData>;
  readonly detectBatch: Queue<DetectJobData>;
  readonly webhooks: Queue<WebhookJobData | AlertJobData | BatchWebhookJobData>;
  readonly maintenance: Queue;

  constructor(private readonly connection: RedisClient, readonly prefix: string, cfg: Config) {
    const opts = jobOptions(cfg);
    const base = { connection, prefix };
    this.detect = new Queue<DetectJobData>(QueueNames.detect, { ...base, defaultJobOptions: opts.detect });
    this.detectBatch = new Queue<DetectJobData>(QueueNames.detectBatch, { ...base, defaultJobOptions: opts.detect });
    this.webhooks = new Queue<WebhookJobData | AlertJobData | BatchWebhookJobData>(QueueNames.webhooks, { ...base, defaultJobOptions: opts.webhooks });
    this.maintenance = new Queue(QueueNames.maintenance, { ...base, defaultJobOptions: opts.maintenance });
  }

  /** The queue a job belongs in: batch images wait in their own. */
  private queueOf(data: Pick<DetectJobData, 'batch'>) {
    return data.batch ? this.detectBatch : this.detect;
  }

  /** Enqueues a detect job under its own id (a second add of the same id is a no-op). */
  enqueueDetect(data: DetectJobData, trace?: Record<string, string>): Promise<void> {
    return redisCall(async () => {
      await this.queueOf(data).add('detect', { ...data, ...(trace ? { trace } : {}) }, { jobId: data.id });
    });
  }

  /** Enqueues a batch's images in bulk. */
  enqueueBatchItems(items: DetectJobData[]): Promise<void> {
    return redisCall(async () => {
      for (let i = 0; i < items.length; i += 500) {
        await this.detectBatch.addBulk(items.slice(i, i + 500).map((data) => ({ name: 'detect', data, opts: { jobId: data.id } })));
      }
    });
  }

  /**
   * Enqueues a video's segments as jobs of the batch queue (so realtime jobs keep their
   * priority), each under its own id so that an add made twice is one job.
   */
  enqueueVideoSegments(videoId: string, segments: number): Promise<void> {
    const queue = this.detectBatch as unknown as Queue;
    return redisCall(async () => {
      await queue.addBulk(Array.from({ length: segments }, (_, index) => ({ name: VideoJobNames.segment, data: { video_id: videoId, index }, opts: { jobId: `video-${videoId}-${index}` } })));
    });
  }

  /** Enqueues the stitching and results of a video whose segments are all done (once: the id deduplicates). */
  enqueueVideoFinish(videoId: string): Promise<void> {
    const queue = this.detectBatch as unknown as Queue;
    return redisCall(async () => void (await queue.add(VideoJobNames.finish, { video_id: videoId }, { jobId: `video-${videoId}-finish` })));
  }

  /**
   * Removes a video's segment and finish jobs that no worker holds (a cancel), and with
   * `webhook` its webhook delivery too (an erasure). Held ones run on and see the video final.
   */
  removeVideoJobs(videoId: string, segments: number, { webhook = false } = {}): Promise<void> {
    const batch = this.detectBatch as unknown as Queue;
    const ids = [...Array.from({ length: segments }, (_, i) => `video-${videoId}-${i}`), `video-${videoId}-finish`];
    return redisCall(async () => {
      await Promise.all([...ids.map((id) => batch.remove(id)), ...(webhook ? [this.webhooks.remove(`video-${videoId}`)] : [])]);
    });
  }

  /** Schedules the one delivery of a video's final event. */
  enqueueVideoWebhook(videoId: string, event: VideoEvent): Promise<void> {
    const queue = this.webhooks as unknown as Queue;
    return redisCall(async () => void (await queue.add(VideoJobNames.webhook, { video_id: videoId, event }, { jobId: `video-${videoId}` })));
  }

  /** Where a detect job is in its queue (and what a completed one returned), or null when the queue holds no such job. */
  detectJob(data: Pick<DetectJobData, 'id' | 'batch'>): Promise<{ state: DetectQueueState; returnvalue: unknown } | null> {
    return redisCall(async () => {
      const job = await this.queueOf(data).getJob(data.id);
      return job ? { state: (await job.getState()) as DetectQueueState, returnvalue: job.returnvalue } : null;
    });
  }

  /** Removes a detect job that no worker holds; false when it is running (locked) or gone. */
  removeDetect(data: Pick<DetectJobData, 'id' | 'batch'>): Promise<boolean> {
    return redisCall(async () => (await this.queueOf(data).remove(data.id)) === 1);
  }

  /**
   * Forgets every queue entry of a job (erasure): its detect job, its webhook delivery, and
   * the events that carried its id or its answer in the queues' event streams.
   */
  forget(id: string): Promise<void> {
    return redisCall(async () => {
      // A delivery in progress is let finish (it is bounded by SPOTTER_WEBHOOK_TIMEOUT_MS), then removed with its events.
      const hook = await this.webhooks.getJob(id);
      for (let i = 0; hook && i < 200 && (await hook.getState()) === 'active'; i++) await new Promise((r) => setTimeout(r, 100));
      await Promise.all([this.detect.remove(id), this.detectBatch.remove(id), this.webhooks.remove(id)]);
      for (const q of [this.detect, this.detectBatch, this.webhooks]) {
        const stream = q.keys.events!;
        const entries = await this.connection.xrange(stream, '-', '+');
        const mine = entries.filter(([, fields]) => fields.some((f) => f.includes(id))).map(([entryId]) => entryId);
        if (mine.length) await this.connection.xdel(stream, ...mine);
      }
    });
  }

  /** Schedules the one delivery of a batch's final event. */
  enqueueBatchWebhook(batchId: string, event: BatchEvent): Promise<void> {
    return redisCall(async () => void (await this.webhooks.add('batch', { batch_id: batchId, event }, { jobId: `batch-${batchId}` })));
  }

  /** Schedules the delivery of a job's final event (once per job: the id deduplicates). */
  enqueueWebhook(id: string, event: JobEvent, trace?: Record<string, string>): Promise<void> {
    return redisCall(async () => {
      await this.webhooks.add('deliver', { job_id: id, event, ...(trace ? { trace } : {}) }, { jobId: id });
    });
  }

  /** Where a delivery stands in the webhooks queue (`batch-<id>` for a batch's): null when the queue has no trace of it. */
  webhookState(deliveryId: string): Promise<'in-flight' | 'done' | null> {
    return redisCall(async () => {
      const job = await this.webhooks.getJob(deliveryId);
      if (!job) return null;
      const state = await job.getState();
      return state === 'completed' || state === 'failed' ? 'done' : 'in-flight';
    });
  }

  enqueueAlert(alert: AlertJobData): Promise<void> {
    return redisCall(async () => void (await this.webhooks.add('alert', alert, { jobId: alert.event_id })));
  }

  /** Counts per queue and state, read from Redis. */
  counts(): Promise<Record<string, Record<(typeof STATES)[number], number>>> {
    return redisCall(async () => {
      const out: Record<string, Record<(typeof STATES)[number], number>> = {};
      for (const q of [this.detect, this.detectBatch, this.webhooks]) {
        const c = await q.getJobCounts(...STATES);
        out[q.name] = Object.fromEntries(STATES.map((s) => [s, c[s] ?? 0])) as Record<(typeof STATES)[number], number>;
      }
      return out;
    });
  }

  /** Age of the oldest job waiting in each queue (0 when none). */
  oldestWaitingAgeS(): Promise<Record<string, number>> {
    return redisCall(async () => {
      const out: Record<string, number> = {};
      for (const q of [this.detect, this.detectBatch, this.webhooks]) {
        // Jobs enter one end of the wait list and leave the other; look at both ends.
        const ends = [...(await q.getWaiting(0, 0)), ...(await q.getWaiting(-1, -1))];
        const oldest = Math.min(...ends.map((j) => j.timestamp));
        out[q.name] = Number.isFinite(oldest) ? Math.max(0, (Date.now() - oldest) / 1000) : 0;
      }
      return out;
    });
  }

  /**
   * Declares a repeating maintenance job (one run per period across all processes).
   * Idempotent; processes call it again now and then so that an emptied Redis gets it back.
   */
  schedule(name: string, everyMs: number): Promise<void> {
    return redisCall(async () => void (await this.maintenance.upsertJobScheduler(name, { every: everyMs }, { name })));
  }

  /**
   * Runs the maintenance jobs that `schedule` declares, one at a time in this process, each
   * by its name; `onError` hears a task that threw and the worker's own errors. Uses its own
   * blocking connection.
   */
  runMaintenance(connection: RedisClient, run: (task: string) => Promise<unknown>, onError: (err: Error, task?: string) => void): { close(): Promise<void> } {
    const worker = new Worker(QueueNames.maintenance, (job) => run(job.name), { connection, prefix: this.prefix, concurrency: 1 });
    worker.on('failed', (job, err) => onError(err, job?.name));
    worker.on('error', (err) => onError(err));
    return { close: () => worker.close() };
  }

  /**
   * Calls `listener` when a realtime detect job completes or fails, with the completed job's
   * return value (requests wait for those; batch images are followed by polling). Uses its
   * own blocking connection.
   */
  onDetectFinished(connection: RedisClient, listener: (id: string, returnvalue?: unknown) => void, onError: (err: Error) => void) {
    const events = new QueueEvents(QueueNames.detect, { connection, prefix: this.prefix });
    events.on('completed', ({ jobId, returnvalue }) => listener(jobId, returnvalue));
    events.on('failed', ({ jobId }) => listener(jobId));
    events.on('error', onError);
    return events;
  }

  /** The BullMQ queues themselves, for the admin dashboard only. */
  dashboardQueues(): Queue[] {
    return [this.detect, this.detectBatch, this.webhooks, this.maintenance];
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.detect.close(), this.detectBatch.close(), this.webhooks.close(), this.maintenance.close()]);
  }
}
