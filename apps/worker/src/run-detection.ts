import { performance } from 'node:perf_hooks';
import {
  ImageDecodeError,
  QueueNames,
  saveJobRecord,
  SpotterError,
  type Config,
  type DetectJobData,
  type JobRecord,
  type ObjectStorage,
  type Queues,
} from '@spotter/shared';
import { decodeToFit } from '@spotter/imaging';
import type { OnnxDetector } from '@spotter/detector';
import { injectTraceContext, inSpan, recordSpan, SpanKind } from '@spotter/telemetry';

export interface DetectionDeps {
  config: Config;
  storage: ObjectStorage;
  queues: Queues;
  detector: OnnxDetector;
}

const ms = (v: number) => Math.round(v * 100) / 100;

/** The image is gone from storage: nothing a retry can fix. */
export class ImageMissingError extends SpotterError {
  readonly code = 'IMAGE_NOT_FOUND';
}

/** Downloads, decodes and runs the model on one job's image; returns its final record. */
export async function runDetection(deps: DetectionDeps, data: DetectJobData, startedAt: Date): Promise<JobRecord> {
  const { storage, detector, config } = deps;
  const t0 = performance.now();
  const bytes = await storage.get(data.image.key);
  if (!bytes) throw new ImageMissingError(`the uploaded image ${data.image.key} is no longer in storage`);
  const t1 = performance.now();
  const img = await decodeToFit(bytes, detector.inputSize, config.images.maxPixels);
  const t2 = performance.now();
  const out = await detector.detect(img, data.min_score);
  const t3 = performance.now();
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
  return {
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

/** Persists the final record, then schedules the webhook (deduplicated by job id). */
export async function finishJob(deps: Pick<DetectionDeps, 'storage' | 'queues'>, record: JobRecord): Promise<void> {
  const id = record.job.id;
  await inSpan('result write', { attributes: { 'spotter.job.id': id } }, () => saveJobRecord(deps.storage, record));
  if (record.webhook_url) {
    const event = record.job.status === 'succeeded' ? 'job.succeeded' : 'job.failed';
    const attributes = { 'messaging.system': 'bullmq', 'messaging.operation.type': 'publish', 'messaging.destination.name': QueueNames.webhooks, 'spotter.job.id': id };
    await inSpan('webhooks publish', { kind: SpanKind.PRODUCER, attributes }, () =>
      deps.queues.webhooks.add('deliver', { job_id: id, event, trace: injectTraceContext() }, { jobId: id }),
    );
  }
}
