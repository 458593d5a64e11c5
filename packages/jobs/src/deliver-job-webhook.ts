import { imageHold, isRetryable, toJobView, WebhookDeliveryError, type BatchWebhookJobData, type ImageRetention, type WebhookJobData } from '@spotter/shared';
import type { BatchStore, JobStore, WebhookStore } from '@spotter/stores';
import { sendSignedWebhook, type DeliveryPolicy } from '@spotter/webhooks';
import type { BatchFiles } from './batch-files.js';
import { batchView, recount } from './batch-view.js';
import { saveResultUnlessErased } from './finalize-job.js';
import type { JobFiles } from './job-files.js';

export interface WebhookDeps {
  jobs: JobStore;
  batches: BatchStore;
  files: JobFiles;
  batchFiles: BatchFiles;
  webhooks: WebhookStore;
  policy: DeliveryPolicy;
  publicUrl: string | undefined;
  retention: ImageRetention;
  /**
   * Runs bookkeeping once the delivery is acknowledged to the queue (the worker's AfterAnswer);
   * without it, it runs inline. Between the receiver's 200 and the queue's acknowledgement, a
   * worker that dies makes the delivery happen twice: that window is kept to one Redis write.
   */
  later?: (what: string, fn: () => Promise<void>) => void;
}

/**
 * One delivery attempt of a job's final event, with the very record GET answers. Every
 * attempt is recorded for GET /v1/jobs/{id}; once delivered (or given up) the job's outbox
 * entry is closed. Throws to have the queue retry.
 */
export async function deliverJobWebhook(deps: WebhookDeps, data: WebhookJobData, lastAttempt: boolean): Promise<number> {
  const inRedis = (await deps.jobs.get(data.job_id))?.record;
  const record = inRedis ?? (await deps.files.loadResult(data.job_id));
  if (!record) {
    // Still in the outbox, so not announced: its record is on its way (the worker stores it
    // just after answering; after a Redis loss the reconciler claims it again). Try later:
    // completing this delivery now would lose the event for good.
    if (await deps.files.loadPending(data.job_id)) throw new Error("the job's final record is not readable yet; the delivery will be retried");
    // Erased meanwhile: nothing to announce, nothing to retry.
    return 0;
  }
  if (!record.webhook_url) return 0;
  // The outbox entry may only close once the record is stored (the worker stores it after
  // answering, and may have died in between).
  const closeOutbox = async () => {
    if (inRedis && !(await deps.files.hasResult(data.job_id))) await saveResultUnlessErased(deps, inRedis);
    await deps.files.deletePending(data.job_id);
  };
  const url = record.webhook_url;
  const job = toJobView(record.job, deps.publicUrl, null, imageHold(record.job, record.image_key, deps.retention));
  const body = JSON.stringify({ event: data.event, job });
  const at = new Date().toISOString();
  try {
    const status = await sendSignedWebhook(deps.policy, url, body, `${data.job_id}.${data.event}`);
    await deps.webhooks.record(data.job_id, url, 'delivered', { at, status_code: status, error: null });
    // A process that dies before this leaves the entry to the reconciler, which sees the delivery done.
    const close = () => closeOutbox().catch(() => undefined);
    if (deps.later) deps.later('closing the outbox', close);
    else await close();
    return status;
  } catch (err) {
    const giveUp = lastAttempt || !isRetryable(err);
    const statusCode = err instanceof WebhookDeliveryError ? err.statusCode : null;
    await deps.webhooks.record(data.job_id, url, giveUp ? 'failed' : 'pending', { at, status_code: statusCode, error: (err as Error).message });
    // Delivered or given up, the outbox entry can go; if storage is down the reconciler closes it later.
    if (giveUp) await closeOutbox().catch(() => undefined);
    throw err;
  }
}

/** One delivery attempt of a batch's final event (the batch as GET answers it), signed like job events. */
export async function deliverBatchWebhook(deps: WebhookDeps, data: BatchWebhookJobData, lastAttempt: boolean): Promise<number> {
  const m = await deps.batchFiles.load(data.batch_id);
  if (!m?.webhook_url) return 0;
  const stored = (await deps.batches.get(m.id)) ?? recount(m, (await deps.jobs.many(m.items.map((i) => i.job_id))).map((j) => j?.status ?? null));
  const body = JSON.stringify({ event: data.event, batch: batchView(m, stored, deps.publicUrl) });
  try {
    const status = await sendSignedWebhook(deps.policy, m.webhook_url, body, `${m.id}.${data.event}`);
    await deps.batchFiles.closeOutbox(m.id).catch(() => undefined);
    return status;
  } catch (err) {
    if (lastAttempt || !isRetryable(err)) await deps.batchFiles.closeOutbox(m.id).catch(() => undefined);
    throw err;
  }
}
