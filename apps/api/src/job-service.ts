import { createHash, randomUUID } from 'node:crypto';
import type { QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  assertWebhookUrlAllowed,
  InvalidRequestError,
  isFinal,
  JobCore,
  JobNotFoundError,
  JobNotReadyError,
  loadJobRecord,
  OverloadedError,
  QueueNames,
  SpotterError,
  storageKeys,
  toJobView,
  UnavailableError,
  WebhookAttempt,
  type Config,
  type CreateJobFields,
  type DetectJobData,
  type JobView,
  type ObjectStorage,
  type Queues,
  type WebhookState,
} from '@spotter/shared';
import { drawDetections, probeImage } from '@spotter/imaging';
import { injectTraceContext, inSpan, SpanKind } from '@spotter/telemetry';
import type { RolloutService } from './rollout-service.js';

export interface JobServiceDeps {
  config: Config;
  storage: ObjectStorage;
  queues: Queues;
  redis: Redis;
  events: QueueEvents;
  rollout: RolloutService;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const MIME: Record<string, string> = {
  jpeg: 'image/jpeg', png: 'image/png', gif: 'image/gif', webp: 'image/webp', avif: 'image/avif', heif: 'image/heif', tiff: 'image/tiff',
};

const messaging = (operation: string, id: string) => ({
  'messaging.system': 'bullmq',
  'messaging.operation.type': operation,
  'messaging.destination.name': QueueNames.detect,
  'messaging.message.id': id,
  'spotter.job.id': id,
});

const safeJson = (s: string): unknown => {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
};

/** Runs a Redis or storage call, turning connection failures into a 503 the client can retry. */
async function dependency<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof SpotterError) throw err;
    throw new UnavailableError(`${what} is unavailable; try again shortly`, 5, { cause: err });
  }
}

/** The API's use cases: create a job, read it, wait for it, render its annotated image. */
export class JobService {
  private backlog = { count: 0, at: 0 };
  /** Callbacks of requests waiting for a job, woken by the queue's final-state events. */
  private readonly waiters = new Map<string, Set<(returnvalue?: unknown) => void>>();

  constructor(private readonly deps: JobServiceDeps) {
    deps.events.on('completed', ({ jobId, returnvalue }) => this.waiters.get(jobId)?.forEach((fn) => fn(returnvalue)));
    deps.events.on('failed', ({ jobId }) => this.waiters.get(jobId)?.forEach((fn) => fn()));
  }

  /** Validates an upload, stores the image and enqueues a detect job. */
  async create(owner: string, image: Buffer, fields: CreateJobFields, idempotencyKey?: string): Promise<{ id: string; replayed: boolean }> {
    const { config, storage, queues, redis } = this.deps;
    const probe = await probeImage(image, config.images.maxPixels);
    // A job that names its model gets it; otherwise the rollout decides (live, canary, shadow).
    const route: Awaited<ReturnType<RolloutService['route']>> = fields.model
      ? { model: fields.model, shadow: null }
      : await dependency('Redis', () => this.deps.rollout.route());
    const { model } = route;
    if (!this.deps.rollout.registry.has(model)) {
      throw new InvalidRequestError(`unknown model ${JSON.stringify(model)}; available: ${[...this.deps.rollout.registry.keys()].join(', ')}`, 'UNKNOWN_MODEL');
    }
    if (fields.webhook_url) {
      if (!config.webhooks.secret) {
        throw new InvalidRequestError('webhooks are disabled: the operator has not set SPOTTER_WEBHOOK_SECRET', 'WEBHOOKS_DISABLED');
      }
      await assertWebhookUrlAllowed(fields.webhook_url, config.webhooks.allowHosts);
    }
    await this.checkBacklog();

    const id = randomUUID();
    let idemKey: string | undefined;
    if (idempotencyKey !== undefined) {
      if (!/^[\x21-\x7e]{1,255}$/.test(idempotencyKey)) {
        throw new InvalidRequestError('Idempotency-Key must be 1 to 255 printable ASCII characters', 'INVALID_IDEMPOTENCY_KEY');
      }
      idemKey = `${config.redis.prefix}:idem:${owner}:${createHash('sha256').update(idempotencyKey).digest('hex')}`;
      const existing = await dependency('Redis', async () => {
        const set = await redis.set(idemKey!, id, 'EX', 24 * 3600, 'NX');
        return set ? null : await redis.get(idemKey!);
      });
      if (existing) return { id: existing, replayed: true };
    }

    const key = storageKeys.image(id);
    const data: DetectJobData = {
      id,
      owner,
      model,
      min_score: fields.min_score,
      webhook_url: fields.webhook_url ?? null,
      created_at: new Date().toISOString(),
      shadow: route.shadow,
      ...(route.rollout ? { rollout: route.rollout } : {}),
      image: { key, bytes: image.length, format: probe.format, width: probe.width, height: probe.height },
    };
    try {
      await inSpan('storage put', { attributes: { 'spotter.job.id': id, 'spotter.storage.key': key } }, () =>
        dependency('storage', () => storage.put(key, image, MIME[probe.format] ?? 'application/octet-stream')),
      );
      await inSpan('detect publish', { kind: SpanKind.PRODUCER, attributes: messaging('publish', id) }, () =>
        // The worker continues this trace from the context carried in the payload.
        dependency('Redis', () => queues.detect.add('detect', { ...data, trace: injectTraceContext() }, { jobId: id })),
      );
    } catch (err) {
      // Leave nothing half-done: the same Idempotency-Key may be retried.
      if (idemKey) await redis.del(idemKey).catch(() => undefined);
      await storage.delete(key).catch(() => undefined);
      throw err;
    }
    return { id, replayed: false };
  }

  /** Refuses new work while the backlog is over the limit (checked at most every 500 ms). */
  private async checkBacklog() {
    const now = Date.now();
    if (now - this.backlog.at > 500) {
      const counts = await dependency('Redis', () => this.deps.queues.detect.getJobCounts('waiting', 'prioritized', 'delayed'));
      this.backlog = { count: Object.values(counts).reduce((a, b) => a + b, 0), at: now };
    }
    if (this.backlog.count >= this.deps.config.http.maxBacklog) {
      throw new OverloadedError(`the queue holds ${this.backlog.count} jobs, at the limit of ${this.deps.config.http.maxBacklog}`, 5);
    }
  }

  /** The job as its owner sees it; 404 for unknown ids and for other owners' jobs. */
  async get(owner: string, id: string): Promise<JobView> {
    if (!UUID.test(id)) throw new JobNotFoundError(id);
    const { queues, storage, config } = this.deps;
    const job = await dependency('Redis', () => queues.detect.getJob(id));
    let core: JobCore | null = null;
    let webhookUrl: string | null = null;
    if (job) {
      if (job.data.owner !== owner) throw new JobNotFoundError(id);
      webhookUrl = job.data.webhook_url;
      const state = await dependency('Redis', () => job.getState());
      const returned = state === 'completed' ? JobCore.safeParse(job.returnvalue) : null;
      if (returned?.success) core = returned.data;
      else if (state !== 'completed' && state !== 'failed') {
        core = {
          id,
          status: state === 'active' ? 'running' : 'queued',
          model: job.data.model,
          created_at: job.data.created_at,
          started_at: state === 'active' && job.processedOn ? new Date(job.processedOn).toISOString() : null,
          finished_at: null,
          timings_ms: null,
          result: null,
          error: null,
        };
      }
    }
    if (!core) {
      const record = await dependency('storage', () => loadJobRecord(storage, id));
      if (record) {
        if (record.owner !== owner) throw new JobNotFoundError(id);
        core = record.job;
        webhookUrl = record.webhook_url;
      } else if (job?.finishedOn) {
        // Failed without a record: the worker died holding it more often than allowed.
        core = {
          id,
          status: 'failed',
          model: job.data.model,
          created_at: job.data.created_at,
          started_at: job.processedOn ? new Date(job.processedOn).toISOString() : null,
          finished_at: new Date(job.finishedOn).toISOString(),
          timings_ms: null,
          result: null,
          error: { code: 'WORKER_LOST', message: job.failedReason || 'the job failed without a result' },
        };
      } else {
        throw new JobNotFoundError(id);
      }
    }
    return toJobView(core, config.http.publicUrl, webhookUrl ? await this.webhookState(id, webhookUrl) : null);
  }

  private async webhookState(id: string, url: string): Promise<WebhookState> {
    const { webhooks } = this.deps.queues;
    const [job, logs] = await dependency('Redis', () => Promise.all([webhooks.getJob(id), webhooks.getJobLogs(id)]));
    const attempts = logs.logs.flatMap((line) => {
      const parsed = WebhookAttempt.safeParse(JSON.parse(line));
      return parsed.success ? [parsed.data] : [];
    });
    const state = job ? await dependency('Redis', () => job.getState()) : 'unknown';
    return { url, state: state === 'completed' ? 'delivered' : state === 'failed' ? 'failed' : 'pending', attempts };
  }

  /** Waits up to `seconds` for the job to reach a final state, then returns it as it is. */
  async wait(owner: string, id: string, seconds: number): Promise<JobView> {
    const deadline = Date.now() + seconds * 1000;
    let view = await this.get(owner, id);
    while (!isFinal(view.status)) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      // Woken by the queue's completion event, which carries the result: no further reads.
      // The short cap covers missed events.
      const returned = JobCore.safeParse(await this.nextEvent(id, Math.min(left, 1000)));
      view = returned.success ? toJobView(returned.data, this.deps.config.http.publicUrl, view.webhook) : await this.get(owner, id);
    }
    return view;
  }

  /** Resolves with the completed job's return value (or undefined) on the next event or after `ms`. */
  private nextEvent(id: string, ms: number): Promise<unknown> {
    return new Promise((resolve) => {
      const set = this.waiters.get(id) ?? new Set();
      this.waiters.set(id, set);
      const done = (returnvalue?: unknown) => {
        clearTimeout(timer);
        set.delete(done);
        if (set.size === 0) this.waiters.delete(id);
        resolve(typeof returnvalue === 'string' ? safeJson(returnvalue) : returnvalue);
      };
      const timer = setTimeout(done, ms);
      set.add(done);
    });
  }

  /** The annotated JPEG of a succeeded job, rendered once and cached in storage. */
  async annotated(owner: string, id: string): Promise<Buffer> {
    const view = await this.get(owner, id);
    if (view.status !== 'succeeded' || !view.result) {
      throw new JobNotReadyError(`job ${id} is ${view.status}; the annotated image exists once it has succeeded`);
    }
    const { storage, config } = this.deps;
    const cached = await dependency('storage', () => storage.get(storageKeys.annotated(id)));
    if (cached) return cached;
    const original = await dependency('storage', () => storage.get(storageKeys.image(id)));
    if (!original) throw new JobNotFoundError(id);
    const jpeg = await drawDetections(original, view.result.detections, config.images.maxPixels);
    await dependency('storage', () => storage.put(storageKeys.annotated(id), jpeg, 'image/jpeg'));
    return jpeg;
  }
}
