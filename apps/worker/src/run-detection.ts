import { performance } from 'node:perf_hooks';
import {
  ImageDecodeError,
  modelStatsKey,
  QueueNames,
  readHash,
  readRollout,
  saveJobRecord,
  shadowStatsKey,
  SpotterError,
  storageKeys,
  writeRollout,
  type Config,
  type DetectJobData,
  type JobRecord,
  type Logger,
  type ObjectStorage,
  type Queues,
} from '@spotter/shared';
import { decodeToFit } from '@spotter/imaging';
import type { Redis } from 'ioredis';
import type { OnnxDetector } from '@spotter/detector';
import { compareDetections } from '@spotter/evaluation';
import { imageObservation, queueObservation, type Observation } from '@spotter/monitoring';
import { injectTraceContext, inSpan, recordSpan, SpanKind } from '@spotter/telemetry';
import type { ModelPool } from './model-pool.js';

export interface DetectionDeps {
  config: Config;
  storage: ObjectStorage;
  queues: Queues;
  models: ModelPool;
  redis: Redis;
  log: Logger;
}

const ms = (v: number) => Math.round(v * 100) / 100;

/** The image is gone from storage: nothing a retry can fix. */
export class ImageMissingError extends SpotterError {
  readonly code = 'IMAGE_NOT_FOUND';
}

/** Downloads, decodes and runs the model on one job's image; returns its final record. */
export async function runDetection(deps: DetectionDeps, data: DetectJobData, startedAt: Date): Promise<{ record: JobRecord; observation: Observation }> {
  const t0 = performance.now();
  const bytes = await deps.storage.get(data.image.key);
  if (!bytes) throw new ImageMissingError(`the uploaded image ${data.image.key} is no longer in storage`);
  return deps.models.use(data.model, (detector) => detectWith(deps, detector, data, bytes, startedAt, t0));
}

async function detectWith(deps: DetectionDeps, detector: OnnxDetector, data: DetectJobData, bytes: Buffer, startedAt: Date, t0: number) {
  const { config } = deps;
  const t1 = performance.now();
  const img = await decodeToFit(bytes, detector.inputSize, config.images.maxPixels);
  const t2 = performance.now();
  const out = await detector.detect(img, data.min_score);
  const t3 = performance.now();
  // Monitoring: metrics of the pixels already decoded and of the answer (recorded with the
  // job's outcome in finishJob). No pixel leaves the worker.
  const observation = imageObservation(img, bytes, data.image.format, out.detections);
  const finishedAt = new Date();
  // The stages as spans of the active (process) span, from the times measured above.
  const epoch = (t: number) => performance.timeOrigin + t;
  const decoded = t2 + out.timings.preprocess;
  const inference = decoded + out.timings.sessionWait;
  recordSpan('download', epoch(t0), epoch(t1), { 'spotter.image.bytes': bytes.length });
  recordSpan('decode', epoch(t1), epoch(decoded), { 'spotter.image.format': data.image.format });
  recordSpan('inference', epoch(inference), epoch(inference + out.timings.inference), { 'spotter.model.name': detector.name });
  recordSpan('postprocess', epoch(t3 - out.timings.postprocess), epoch(t3), { 'spotter.detections.count': out.detections.length });
  const created = Date.parse(data.created_at);
  const record: JobRecord = {
    owner: data.owner,
    webhook_url: data.webhook_url,
    job: {
      id: data.id,
      status: 'succeeded',
      model: data.model,
      created_at: data.created_at,
      started_at: startedAt.toISOString(),
      finished_at: finishedAt.toISOString(),
      timings_ms: {
        queue: Math.max(0, startedAt.getTime() - created),
        download: ms(t1 - t0),
        decode: ms(t2 - t1 + out.timings.preprocess),
        inference: ms(out.timings.inference),
        postprocess: ms(out.timings.postprocess),
        total: Math.max(0, finishedAt.getTime() - created),
      },
      result: {
        image: { width: img.width, height: img.height },
        model: { name: detector.name, version: detector.version },
        detections: out.detections,
      },
      error: null,
    },
  };
  return { record, observation };
}

/** The record of a job that ended in failure. */
export function failedRecord(data: DetectJobData, startedAt: Date, err: unknown): JobRecord {
  const known = err instanceof SpotterError;
  return {
    owner: data.owner,
    webhook_url: data.webhook_url,
    job: {
      id: data.id,
      status: 'failed',
      model: data.model,
      created_at: data.created_at,
      started_at: startedAt.toISOString(),
      finished_at: new Date().toISOString(),
      timings_ms: null,
      result: null,
      error: {
        code: known ? err.code : 'PROCESSING_FAILED',
        // Infrastructure messages can carry hostnames or paths; clients get a generic one.
        message: known ? err.message : 'processing failed after all retries; the operator can find details in the worker log',
      },
    },
  };
}

/** Whether an error can be fixed by trying again (storage or Redis hiccups can; a bad image cannot). */
export function isRetryable(err: unknown): boolean {
  if (err instanceof ImageDecodeError) return false;
  if (err instanceof SpotterError) return err.retryable;
  return true;
}

/** Persists the final record, counts it for its model and its monitoring profile, then schedules the webhook (deduplicated by job id). */
export async function finishJob(deps: DetectionDeps, record: JobRecord, data: DetectJobData, imageObservation: Observation = {}): Promise<void> {
  const id = record.job.id;
  const { job } = record;
  const observation: Observation = {
    ...imageObservation,
    failed: String(job.status === 'failed'),
    ...(job.timings_ms ? { latency_seconds: job.timings_ms.total / 1000, queue_seconds: job.timings_ms.queue / 1000 } : {}),
  };
  // Model counters (canary guard) and the monitoring profile in one round trip; losing them
  // must not fail a job whose answer is already computed.
  const stats = modelStatsKey(deps.config.redis.prefix, job.model);
  const multi = deps.redis.multi().hincrby(stats, 'jobs', 1).hincrby(stats, 'failed', job.status === 'failed' ? 1 : 0);
  await queueObservation(multi, { prefix: deps.config.redis.prefix, ...deps.config.monitoring }, job.model, observation)
    .exec()
    .catch((err: unknown) => deps.log.warn({ job_id: id, err }, 'model counters and monitoring profile not recorded'));
  if (data.rollout === 'canary') await guardCanary(deps, job.model);
  await inSpan('result write', { attributes: { 'spotter.job.id': id } }, () => saveJobRecord(deps.storage, record));
  if (record.webhook_url) {
    const event = record.job.status === 'succeeded' ? 'job.succeeded' : 'job.failed';
    const attributes = { 'messaging.system': 'bullmq', 'messaging.operation.type': 'publish', 'messaging.destination.name': QueueNames.webhooks, 'spotter.job.id': id };
    await inSpan('webhooks publish', { kind: SpanKind.PRODUCER, attributes }, () =>
      deps.queues.webhooks.add('deliver', { job_id: id, event, trace: injectTraceContext() }, { jobId: id }),
    );
  }
}

/** Shadow runs of this worker, one after another, so they take at most one extra inference slot. */
let shadowTail: Promise<unknown> = Promise.resolve();
let shadowsPending = 0;
const MAX_PENDING_SHADOWS = 64;

/**
 * Queues the shadow candidate's run on the job's image, after the job has answered (the
 * caller does not wait). Beyond 64 pending runs they are skipped and counted.
 */
export async function runShadow(deps: DetectionDeps, data: DetectJobData, live: JobRecord): Promise<void> {
  const candidate = data.shadow;
  if (!candidate || !live.job.result) return;
  if (shadowsPending >= MAX_PENDING_SHADOWS) {
    await deps.redis.hincrby(shadowStatsKey(deps.config.redis.prefix, candidate), 'skipped', 1).catch(() => undefined);
    return;
  }
  shadowsPending++;
  const run = shadowTail.then(() => shadowOnce(deps, data, candidate, live)).finally(() => shadowsPending--);
  shadowTail = run;
  await run;
}

/** Runs the candidate, stores its answer apart and adds up agreement. Failures are only logged. */
async function shadowOnce(deps: DetectionDeps, data: DetectJobData, candidate: string, live: JobRecord): Promise<void> {
  const id = data.id;
  await inSpan('shadow', { attributes: { 'spotter.job.id': id, 'spotter.model.name': candidate } }, async () => {
    const bytes = await deps.storage.get(data.image.key);
    if (!bytes) return;
    const detections = await deps.models.use(candidate, async (detector) => {
      const img = await decodeToFit(bytes, detector.inputSize, deps.config.images.maxPixels);
      return (await detector.detect(img, data.min_score)).detections;
    });
    await deps.storage.put(storageKeys.shadow(id), Buffer.from(JSON.stringify({ id, model: candidate, detections })), 'application/json');
    const a = compareDetections(live.job.result!.detections, detections);
    const key = shadowStatsKey(deps.config.redis.prefix, candidate);
    await deps.redis
      .multi()
      .hincrby(key, 'jobs', 1)
      .hincrby(key, 'live_boxes', a.live_boxes)
      .hincrby(key, 'candidate_boxes', a.candidate_boxes)
      .hincrby(key, 'matched', a.matched)
      .hincrby(key, 'class_flips', a.class_flips)
      .hincrbyfloat(key, 'score_delta_sum', a.score_delta_sum)
      .exec();
  })
    .catch((err: unknown) => deps.log.warn({ job_id: id, candidate, err }, 'shadow run failed'));
}

/**
 * Rolls a canary back on its own once it has served enough jobs and fails clearly more
 * often than the live model.
 */
async function guardCanary(deps: DetectionDeps, candidate: string) {
  const { prefix } = deps.config.redis;
  const { canaryMinJobs, canaryMaxFailureGap } = deps.config.rollout;
  const state = await readRollout(deps.redis, prefix, deps.config.model.name);
  if (state.mode !== 'canary' || state.candidate !== candidate) return;
  const [cand, live] = await Promise.all([readHash(deps.redis, modelStatsKey(prefix, candidate)), readHash(deps.redis, modelStatsKey(prefix, state.live))]);
  if ((cand.jobs ?? 0) < canaryMinJobs) return;
  const candRatio = (cand.failed ?? 0) / cand.jobs!;
  const liveRatio = live.jobs ? (live.failed ?? 0) / live.jobs : 0;
  if (candRatio <= liveRatio + canaryMaxFailureGap) return;
  const reason = `failure ratio ${candRatio.toFixed(3)} over ${cand.jobs} jobs vs live ${liveRatio.toFixed(3)}`;
  await writeRollout(deps.redis, prefix, {
    ...state,
    mode: 'none',
    candidate: null,
    share: null,
    every: null,
    started_at: null,
    last_event: { at: new Date().toISOString(), action: 'rolled_back_automatically', candidate, reason },
  });
  deps.log.warn({ candidate, reason }, 'canary rolled back automatically');
}
