import { isRetryable, toJobView, WebhookDeliveryError, type WebhookJobData } from '@spotter/shared';
import type { JobStore, WebhookStore } from '@spotter/stores';
import { sendSignedWebhook, type DeliveryPolicy } from '@spotter/webhooks';
import type { JobFiles } from './job-files.js';

export interface WebhookDeps {
  jobs: JobStore;
  files: JobFiles;
  webhooks: WebhookStore;
  policy: DeliveryPolicy;
  publicUrl: string | undefined;
}

/**
 * One delivery attempt of a job's final event, with the very record GET answers. Every
 * attempt is recorded for GET /v1/jobs/{id}; once delivered (or given up) the job's outbox
 * entry is closed. Throws to have the queue retry; `giveUp` says whether it will not.
 */
export async function deliverJobWebhook(deps: WebhookDeps, data: WebhookJobData, lastAttempt: boolean): Promise<number> {
  const record = (await deps.jobs.get(data.job_id))?.record ?? (await deps.files.loadResult(data.job_id));
  // Erased meanwhile: nothing to announce, nothing to retry.
  if (!record?.webhook_url) return 0;
  const url = record.webhook_url;
  const body = JSON.stringify({ event: data.event, job: toJobView(record.job, deps.publicUrl, null) });
  const at = new Date().toISOString();
  try {
    const status = await sendSignedWebhook(deps.policy, url, body, `${data.job_id}.${data.event}`);
    await deps.webhooks.record(data.job_id, url, 'delivered', { at, status_code: status, error: null });
    await closeOutbox(deps, data.job_id);
    return status;
  } catch (err) {
    const giveUp = lastAttempt || !isRetryable(err);
    const statusCode = err instanceof WebhookDeliveryError ? err.statusCode : null;
    await deps.webhooks.record(data.job_id, url, giveUp ? 'failed' : 'pending', { at, status_code: statusCode, error: (err as Error).message });
    if (giveUp) await closeOutbox(deps, data.job_id);
    throw err;
  }
}

/** Delivered or given up: the outbox entry can go. If storage is down the reconciler closes it later; never retry a delivery for that. */
async function closeOutbox(deps: WebhookDeps, id: string) {
  await deps.files.deletePending(id).catch(() => undefined);
}
