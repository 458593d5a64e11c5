import type { DetectJobData, DetectionResult, ErrorDetail, ImageHold, JobCore, JobEvent, JobRecord, JobStatus, JobView, Timings, WebhookState } from './job-contract.js';

/** Every job JSON and stored record is built here, so they cannot drift apart. */

export function isFinal(status: JobStatus): boolean {
  return status === 'succeeded' || status === 'failed' || status === 'cancelled';
}

/** Links to a job's resources, absolute when a public URL is configured. */
export function jobLinks(id: string, publicUrl?: string) {
  const base = `${publicUrl?.replace(/\/$/, '') ?? ''}/v1/jobs/${id}`;
  return { self: base, annotated: `${base}/annotated` };
}

/** How long originals are kept after their job is final: a duration, or forever. */
export type ImageRetention = { keepMs: number } | 'keep';

/**
 * Whether the original is still held. Spotter deletes only what it stored itself
 * (`images/...`); a batch's intake objects belong to their owner.
 */
export function imageHold(job: JobCore, imageKey: string | undefined, retention: ImageRetention): ImageHold {
  const ours = imageKey === undefined || imageKey.startsWith('images/');
  if (retention === 'keep' || !ours) return { held: true, delete_after: null };
  if (!job.finished_at) return { held: true, delete_after: null };
  const at = Date.parse(job.finished_at) + retention.keepMs;
  return { held: Date.now() < at, delete_after: new Date(at).toISOString() };
}

/** The public JSON of a job. */
export function toJobView(job: JobCore, publicUrl: string | undefined, webhook: WebhookState | null, image: ImageHold): JobView {
  return { ...job, links: jobLinks(job.id, publicUrl), webhook, image };
}

/** A job that is not final yet, as its owner sees it. */
export function pendingCore(data: DetectJobData, status: 'queued' | 'running', startedAt: string | null): JobCore {
  return {
    id: data.id,
    status,
    model: data.model,
    created_at: data.created_at,
    started_at: status === 'running' ? startedAt : null,
    finished_at: null,
    timings_ms: null,
    result: null,
    error: null,
  };
}

interface Outcome {
  startedAt: string | null;
  finishedAt?: string;
}

const record = (data: DetectJobData, job: JobCore): JobRecord => ({ owner: data.owner, webhook_url: data.webhook_url, image_key: data.image.key, job });

export function succeededRecord(data: DetectJobData, o: Outcome & { timings: Timings; result: DetectionResult }): JobRecord {
  return record(data, {
    ...pendingCore(data, 'running', o.startedAt),
    status: 'succeeded',
    finished_at: o.finishedAt ?? new Date().toISOString(),
    timings_ms: o.timings,
    result: o.result,
  });
}

export function failedRecord(data: DetectJobData, o: Outcome & { error: ErrorDetail }): JobRecord {
  return record(data, {
    ...pendingCore(data, 'running', o.startedAt),
    status: 'failed',
    finished_at: o.finishedAt ?? new Date().toISOString(),
    error: o.error,
  });
}

export function cancelledRecord(data: DetectJobData, startedAt: string | null = null): JobRecord {
  return record(data, {
    ...pendingCore(data, 'running', startedAt),
    status: 'cancelled',
    finished_at: new Date().toISOString(),
    error: { code: 'CANCELLED', message: 'the job was cancelled before it ran' },
  });
}

/** The webhook event a final status announces. */
export function eventOf(status: JobStatus): JobEvent {
  if (status === 'succeeded') return 'job.succeeded';
  if (status === 'cancelled') return 'job.cancelled';
  return 'job.failed';
}
