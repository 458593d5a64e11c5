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

/** A job's final record as it holds in Redis. */
export interface Claim {
  /** Whether `record` became the job's final record (false: another one got there first). */
  claimed: boolean;
  /** The record that holds. */
  record: JobRecord;
}

export interface Finalized extends Claim {
  /** False when storage was down: the reconciler writes the result later. */
  stored: boolean;
}

type FinalizeOptions = { repeat?: boolean; keepImage?: boolean };

/**
 * Ends a job, exactly once, whoever calls (worker, takeover, cancel, reconciler): claimFinal
 * then storeFinal. Redis being down fails the claim, and the caller retries the whole.
 */
export async function finalizeJob(deps: LifecycleDeps, data: DetectJobData, record: JobRecord, opts: FinalizeOptions = {}): Promise<Finalized> {
  const claim = await claimFinal(deps, data, record, opts);
  return { ...claim, stored: await storeFinal(deps, data, claim, opts) };
}

/**
 * The steps that decide the outcome:
 * 1. the final record is claimed in Redis (the first claim wins; later callers get it back),
 *    so GET, the stored record and the webhook all tell the same outcome;
 * 2. the webhook is scheduled (the job id deduplicates, so repeating this step is harmless);
 * 3. the last item of a batch announces the batch.
 * From here the job is final: its submission stays in the outbox until storeFinal has run,
 * so a process that dies in between leaves the reconciler the rest. `repeat` marks a call
 * that only completes the steps for a record that already holds (takeover, reconciler).
 */
export async function claimFinal(deps: LifecycleDeps, data: DetectJobData, record: JobRecord, opts: FinalizeOptions = {}): Promise<Claim> {
  const { claimed, record: held, batchDone } = await deps.jobs.finish(data, record, !opts.repeat);
  if (held.webhook_url) {
    const attributes = { 'spotter.job.id': data.id, 'messaging.system': 'bullmq', 'messaging.operation.type': 'publish', 'messaging.destination.name': QueueNames.webhooks };
    // The delivery continues the job's trace from the context carried in its payload.
    await inSpan('webhooks publish', { kind: SpanKind.PRODUCER, attributes }, () => deps.queue.enqueueWebhook(data.id, eventOf(held.job.status), injectTraceContext()));
  }
  if (batchDone && data.batch) await announceBatch(deps, data.batch.id, batchDone);
  return { claimed, record: held };
}

/**
 * The steps that keep it: the record is written to storage; without a webhook the outbox
 * entry is closed now (with one, after its delivery); with SPOTTER_IMAGE_RETENTION=0 the
 * original is deleted (unless `keepImage`: a shadow run still needs it). False when storage
 * is down: the outbox entry stays and the reconciler writes the record once it is back.
 */
export async function storeFinal(deps: LifecycleDeps, data: DetectJobData, { claimed, record }: Claim, opts: FinalizeOptions = {}): Promise<boolean> {
  try {
    await inSpan('result write', { attributes: { 'spotter.job.id': data.id } }, () => saveResultUnlessErased(deps, record));
    if (!record.webhook_url) await deps.files.deletePending(data.id);
    if (claimed && deps.retention !== 'keep' && deps.retention.keepMs === 0 && !opts.keepImage) await deps.files.deletePictures(record);
    return true;
  } catch (err) {
    if (err instanceof DependencyUnavailableError) return false;
    throw err;
  }
}

/**
 * Writes a final record to storage, unless the job is erased by then: the erasure marks the
 * job in Redis before it deletes the files, so a write that lands after the deletion sees
 * the mark and takes the record back out (a late writer: the worker's store after a quick
 * erase, a webhook delivery closing its outbox entry, the reconciler).
 */
export async function saveResultUnlessErased(deps: Pick<LifecycleDeps, 'jobs' | 'files'>, record: JobRecord): Promise<void> {
  await deps.files.saveResult(record);
  if (await deps.jobs.isErased(record.job.id)) await deps.files.deleteRecords(record.job.id);
}

/** The last item of a batch ended: schedule the batch's one final event, or close its outbox entry. */
export async function announceBatch(deps: LifecycleDeps, batchId: string, status: FinalBatchStatus): Promise<void> {
  const m = await deps.batchFiles.load(batchId);
  if (m?.webhook_url) await deps.queue.enqueueBatchWebhook(batchId, `batch.${status}`);
  else await deps.batchFiles.closeOutbox(batchId);
}
