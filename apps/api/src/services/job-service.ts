import { randomUUID } from 'node:crypto';
import type { Config } from '@spotter/config';
import { drawDetections, sniffFormat } from '@spotter/imaging';
import { cancelJob, eraseJob, type Lifecycle } from '@spotter/jobs';
import type { ModelRegistry, Rollout, Route } from '@spotter/models';
import {
  ConflictError,
  decodeRawTensor,
  ImageDecodeError,
  JobFailedError,
  SpotterError,
  IMAGE_FORMATS,
  ImageGoneError,
  imageHold,
  isFinal,
  JobNotFoundError,
  JobNotReadyError,
  OverloadedError,
  pendingCore,
  QueueNames,
  toJobView,
  ValidationError,
  type CreateJobFields,
  type DetectJobData,
  type JobCore,
  type JobRecord,
  type JobStatus,
  type JobView,
  type TensorInput,
} from '@spotter/shared';
import { storageKeys, type ObjectStorage } from '@spotter/storage';
import type { IdempotencyStore } from '@spotter/stores';
import { injectTraceContext, inSpan, SpanKind, type Logger } from '@spotter/telemetry';
import { intakeImage } from './image-intake.js';
import { checkIdempotencyKey, checkWebhookUrl } from './request-checks.js';
import type { JobWaiters } from './job-waiters.js';

export interface JobServiceDeps {
  config: Config;
  storage: ObjectStorage;
  lifecycle: Lifecycle;
  idempotency: IdempotencyStore;
  rollout: Rollout;
  registry: ModelRegistry;
  waiters: JobWaiters;
  log: Logger;
}

/**
 * The error a final job that did not succeed answers with (POST /v1/predict's JPEG form, the
 * Open Inference Protocol): its own code, with a status that says whose fault it was.
 */
export function jobFailure(view: JobView): SpotterError {
  if (view.status === 'cancelled') return new ConflictError(`job ${view.id} was cancelled`);
  const code = view.error?.code ?? 'PROCESSING_FAILED';
  const message = view.error?.message ?? `the job is ${view.status}`;
  if (code === 'IMAGE_DECODE_FAILED') return new ImageDecodeError(message);
  if (code === 'TENSOR_SHAPE_MISMATCH') return new ValidationError(message, code);
  return new JobFailedError(code, message);
}

/** Extras a submission may ask for. */
export interface SubmitOptions {
  /** Keep the model's raw output for the caller (the Open Inference Protocol's `raw_output`). */
  rawOutput?: boolean;
}

/** What is known of a job wherever it is found: Redis, its stored record, or the outbox. */
interface Found {
  core: JobCore;
  webhookUrl: string | null;
  imageKey: string | undefined;
  /** The submission, when still known (needed to cancel). */
  data: DetectJobData | null;
  record: JobRecord | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const messaging = (operation: string, id: string) => ({
  'messaging.system': 'bullmq',
  'messaging.operation.type': operation,
  'messaging.destination.name': QueueNames.detect,
  'messaging.message.id': id,
  'spotter.job.id': id,
});

/** The API's job use cases: admit a job, read, list, wait for, cancel or erase it, render its annotated image. */
export class JobService {
  constructor(private readonly deps: JobServiceDeps) {}

  private get files() {
    return this.deps.lifecycle.files;
  }

  /**
   * Validates an upload, then admits the job (backlog and per-key limits, atomically),
   * stores the image and the submission (the job is durable from here), and enqueues it.
   */
  async create(owner: string, upload: Buffer, fields: CreateJobFields, idempotencyKey?: string, opts: SubmitOptions = {}): Promise<{ id: string; replayed: boolean }> {
    const { bytes, probe } = await intakeImage(upload, this.deps.config.images);
    const route = await this.route(fields.model);
    const image = (id: string) => ({ key: storageKeys.image(id), bytes: bytes.length, format: probe.format, width: probe.width, height: probe.height });
    return this.submit(owner, fields, route, idempotencyKey, bytes, image, opts);
  }

  /**
   * A job on a model-input tensor the client pre-processed (float32 little-endian values),
   * stored like an image. It runs on exactly the model named: a tensor is made for one
   * model's input, so the rollout never sends it to a candidate. A shape the model's file
   * declares otherwise is refused here (TENSOR_SHAPE_MISMATCH); the worker checks again.
   */
  async createFromTensor(owner: string, values: Buffer, tensor: TensorInput, fields: CreateJobFields & { model: string }, idempotencyKey?: string, opts: SubmitOptions = {}): Promise<{ id: string; replayed: boolean }> {
    const declared = (await this.deps.registry.find(fields.model)).signature?.inputs[0]?.shape;
    if (declared?.every((d) => d > 0) && declared.join(',') !== tensor.shape.join(',')) {
      throw new ValidationError(`model "${fields.model}" takes a [${declared.join(', ')}] FP32 tensor, not [${tensor.shape.join(', ')}]`, 'TENSOR_SHAPE_MISMATCH');
    }
    const size = tensor.source ?? { width: tensor.shape[3]!, height: tensor.shape[2]! };
    const image = (id: string) => ({ key: storageKeys.image(id), bytes: values.length, format: 'tensor', ...size });
    return this.submit(owner, fields, { model: fields.model, shadow: null }, idempotencyKey, values, image, { ...opts, tensor });
  }

  private async submit(
    owner: string,
    fields: CreateJobFields,
    route: Route,
    idempotencyKey: string | undefined,
    bytes: Buffer,
    image: (id: string) => DetectJobData['image'],
    opts: SubmitOptions & { tensor?: TensorInput },
  ): Promise<{ id: string; replayed: boolean }> {
    await checkWebhookUrl(fields.webhook_url, this.deps.config.webhooks);
    checkIdempotencyKey(idempotencyKey);
    const id = randomUUID();
    if (idempotencyKey !== undefined) {
      const existing = await this.deps.idempotency.claim(owner, idempotencyKey, id);
      if (existing) return { id: existing, replayed: true };
    }
    const data: DetectJobData = {
      id,
      owner,
      model: route.model,
      min_score: fields.min_score,
      webhook_url: fields.webhook_url ?? null,
      created_at: new Date().toISOString(),
      shadow: route.shadow,
      ...(route.rollout ? { rollout: route.rollout } : {}),
      image: image(id),
      ...(opts.tensor ? { tensor: opts.tensor } : {}),
      ...(opts.rawOutput ? { raw_output: true } : {}),
    };
    try {
      await this.admit(data, bytes);
    } catch (err) {
      // Leave nothing half-done: the same Idempotency-Key may be retried.
      if (idempotencyKey !== undefined) await this.deps.idempotency.release(owner, idempotencyKey).catch(() => undefined);
      throw err;
    }
    return { id, replayed: false };
  }

  /**
   * The raw model output of a finished job that asked for it (read once: deleted here), or
   * null when there is none (the job did not succeed, or it was already taken).
   */
  async takeRawOutput(id: string): Promise<{ dims: number[]; data: Float32Array } | null> {
    const key = storageKeys.output(id);
    const bytes = await this.deps.storage.get(key);
    if (!bytes) return null;
    await this.deps.storage.delete(key);
    return decodeRawTensor(bytes);
  }

  /** A job that names its model gets it; otherwise the rollout decides (live, canary, shadow). */
  private async route(model: string | undefined): Promise<Route> {
    const route = model ? { model, shadow: null } : await this.deps.rollout.route();
    await this.deps.registry.find(route.model);
    return route;
  }

  private async admit(data: DetectJobData, image: Buffer) {
    const { storage, config } = this.deps;
    const { jobs, queue } = this.deps.lifecycle;
    const { maxBacklog } = config.http;
    const admission = await jobs.admit(data, QueueNames.detect, { maxBacklog, maxActive: config.http.rateLimit.maxActiveJobs });
    if (!admission.ok) {
      throw admission.reason === 'OVERLOADED'
        ? new OverloadedError(`the queue holds ${admission.count} jobs, at the limit of ${maxBacklog}`, 5)
        : new OverloadedError(`this API key has ${admission.count} unfinished jobs, at the limit of ${config.http.rateLimit.maxActiveJobs}`, 1, 'TOO_MANY_ACTIVE_JOBS');
    }
    try {
      await inSpan('storage put', { attributes: { 'spotter.job.id': data.id, 'spotter.storage.key': data.image.key } }, () =>
        Promise.all([storage.put(data.image.key, image, IMAGE_FORMATS[data.image.format as keyof typeof IMAGE_FORMATS]?.mime ?? 'application/octet-stream'), this.files.savePending(data)]),
      );
      await inSpan('detect publish', { kind: SpanKind.PRODUCER, attributes: messaging('publish', data.id) }, () =>
        // The worker continues this trace from the context carried in the payload.
        queue.enqueueDetect(data, injectTraceContext()),
      );
    } catch (err) {
      await Promise.allSettled([jobs.abortAdmission(data), storage.delete(data.image.key), this.files.deletePending(data.id)]);
      throw err;
    }
    // The reservation would expire by itself; releasing it now keeps the count exact. Not
    // awaited: the job is durable and queued, the client need not wait for the bookkeeping.
    void jobs.admitted(data.id).catch(() => undefined);
  }

  /** The job as its owner sees it; 404 for unknown ids and for other owners' jobs. */
  async get(owner: string, id: string): Promise<JobView> {
    return this.view(await this.find(owner, id));
  }

  private async view(f: Found): Promise<JobView> {
    const webhook = f.webhookUrl ? await this.deps.lifecycle.webhooks.read(f.core.id, f.webhookUrl) : null;
    return toJobView(f.core, this.deps.config.http.publicUrl, webhook, imageHold(f.core, f.imageKey, this.deps.config.images.retention));
  }

  /** Redis while it knows the job, then the stored record, then the outbox (accepted, Redis lost it). */
  private async find(owner: string, id: string): Promise<Found> {
    if (!UUID.test(id)) throw new JobNotFoundError(id);
    const stored = await this.deps.lifecycle.jobs.get(id);
    if (stored) {
      if (stored.data.owner !== owner) throw new JobNotFoundError(id);
      const core = stored.record?.job ?? pendingCore(stored.data, stored.status === 'running' ? 'running' : 'queued', stored.startedAt);
      return { core, webhookUrl: stored.data.webhook_url, imageKey: stored.data.image.key, data: stored.data, record: stored.record };
    }
    const record = await this.files.loadResult(id);
    if (record) {
      if (record.owner !== owner) throw new JobNotFoundError(id);
      return { core: record.job, webhookUrl: record.webhook_url, imageKey: record.image_key, data: null, record };
    }
    const pending = await this.files.loadPending(id);
    if (pending && pending.owner === owner) {
      return { core: pendingCore(pending, 'queued', null), webhookUrl: pending.webhook_url, imageKey: pending.image.key, data: pending, record: null };
    }
    throw new JobNotFoundError(id);
  }

  /**
   * DELETE /v1/jobs/{id}: a job that is not final is cancelled (its final state, webhook
   * `job.cancelled`; a worker already running it has its answer discarded) and returned; a
   * final job is erased everywhere (null). Both are logged without the image or the key.
   */
  async remove(owner: string, id: string): Promise<JobView | null> {
    const found = await this.find(owner, id);
    const { lifecycle, log } = this.deps;
    if (!found.record && found.data) {
      const cancelled = await cancelJob(lifecycle, found.data);
      if (cancelled) {
        log.info({ job_id: id, owner, action: 'cancelled' }, 'job cancelled');
        return this.get(owner, id);
      }
    }
    const record = found.record ?? (await lifecycle.jobs.get(id))?.record;
    if (!record) throw new JobNotFoundError(id);
    const removed = await eraseJob(lifecycle, record);
    log.info({ job_id: id, owner, action: 'erased', removed }, 'job erased');
    return null;
  }

  /** The owner's jobs, newest first, a page at a time. */
  list(owner: string, q: { limit: number; cursor?: string | undefined; status?: JobStatus | undefined; batch?: string | undefined }) {
    return this.deps.lifecycle.jobs.list(owner, q);
  }

  /** Waits up to `seconds` for the job to reach a final state, then returns it as it is. */
  async wait(owner: string, id: string, seconds: number): Promise<JobView> {
    const deadline = Date.now() + seconds * 1000;
    let view = await this.get(owner, id);
    while (!isFinal(view.status)) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      // Woken by the queue's completion event, which carries the record: no further reads.
      // The short cap covers missed events and ends decided elsewhere (cancel, reconciler).
      const record = await this.deps.waiters.next(id, Math.min(left, 1000));
      view = record ? { ...view, ...record.job, image: imageHold(record.job, record.image_key, this.deps.config.images.retention) } : await this.get(owner, id);
    }
    return view;
  }

  /** The annotated JPEG of a succeeded job, rendered once and cached in storage. */
  async annotated(owner: string, id: string): Promise<Buffer> {
    const view = await this.get(owner, id);
    if (view.status !== 'succeeded' || !view.result) {
      throw new JobNotReadyError(`job ${id} is ${view.status}; the annotated image exists once it has succeeded`);
    }
    const { storage, config } = this.deps;
    const cached = await storage.get(storageKeys.annotated(id));
    if (cached) return cached;
    const original = await storage.get(storageKeys.image(id));
    if (!original) throw new ImageGoneError(`the image of job ${id} is no longer held, so its annotated picture cannot be drawn`);
    if (!sniffFormat(original)) throw new ConflictError(`job ${id} ran on a pre-processed tensor, not a picture: there is nothing to draw the boxes on`);
    const jpeg = await drawDetections(original, view.result.detections, config.images.maxPixels);
    await storage.put(storageKeys.annotated(id), jpeg, 'image/jpeg');
    return jpeg;
  }
}
