import { DependencyUnavailableError, eventOf, QueueNames, type DetectJobData, type FinalBatchStatus, type ImageRetention, type JobRecord } from '@spotter/shared';
import type { JobQueue, JobStore } from '@spotter/stores';
import { injectTraceContext, inSpan, SpanKind } from '@spotter/telemetry';
import type { BatchFiles } from './batch-files.js';
import type { JobFiles } from './job-files.js';

export interface LifecycleDeps {
  jobs: JobStore;
  queue: JobQueue;
  files: JobFiles;
  batchFiles: BatchFiles;
  /** SPOTTER_IMAGE_RETENTION: with 0 the original goes as soon as the job is final. */
  retention: ImageRetention;
}

export interface Finalized {
  /** Whether `record` became the job's final record (false: another one got there first). */
  claimed: boolean;
  /** The record that holds. */
  record: JobRecord;
  /** False when storage was down: the reconciler writes the result later. */
  stored: boolean;
}

/**
 * Ends a job, exactly once, whoever calls (worker, takeover, cancel, reconciler):
 * 1. the final record is claimed in Redis (the first claim wins; later callers get it back),
 *    so GET, the stored record and the webhook all tell the same outcome;
 * 2. the webhook is scheduled (the job id deduplicates, so repeating this step is harmless);
 * 3. the record is written to storage; if storage is down, the pending entry stays and the
 *    reconciler writes it once storage is back;
 * 4. without a webhook the outbox entry is closed now, with one after its delivery;
 * 5. the last item of a batch announces the batch; with SPOTTER_IMAGE_RETENTION=0 the
 *    original is deleted (unless `keepImage`: a shadow run still needs it).
 * Redis being down fails step 1, and the caller retries the whole. `repeat` marks a call
 * that only completes the steps for a record that already holds (takeover, reconciler).
 */
export async function finalizeJob(deps: LifecycleDeps, data: DetectJobData, record: JobRecord, opts: { repeat?: boolean; keepImage?: boolean } = {}): Promise<Finalized> {
  const { claimed, record: held, batchDone } = await deps.jobs.finish(data, record, !opts.repeat);
  const attributes = { 'spotter.job.id': data.id };
  if (held.webhook_url) {
    const publish = { ...attributes, 'messaging.system': 'bullmq', 'messaging.operation.type': 'publish', 'messaging.destination.name': QueueNames.webhooks };
    // The delivery continues the job's trace from the context carried in its payload.
    await inSpan('webhooks publish', { kind: SpanKind.PRODUCER, attributes: publish }, () => deps.queue.enqueueWebhook(data.id, eventOf(held.job.status), injectTraceContext()));
  }
  if (batchDone && data.batch) await announceBatch(deps, data.batch.id, batchDone);
  try {
    await inSpan('result write', { attributes }, () => deps.files.saveResult(held));
    if (!held.webhook_url) await deps.files.deletePending(data.id);
    if (claimed && deps.retention !== 'keep' && deps.retention.keepMs === 0 && !opts.keepImage) await deps.files.deletePictures(held);
    return { claimed, record: held, stored: true };
  } catch (err) {
    if (err instanceof DependencyUnavailableError) return { claimed, record: held, stored: false };
    throw err;
  }
}

/** The last item of a batch ended: schedule the batch's one final event, or close its outbox entry. */
export async function announceBatch(deps: LifecycleDeps, batchId: string, status: FinalBatchStatus): Promise<void> {
  const m = await deps.batchFiles.load(batchId);
  if (m?.webhook_url) await deps.queue.enqueueBatchWebhook(batchId, `batch.${status}`);
  else await deps.batchFiles.closeOutbox(batchId);
}
