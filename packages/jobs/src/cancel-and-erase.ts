import { cancelledRecord, JobNotFoundError, type DetectJobData, type JobRecord } from '@spotter/shared';
import type { ProfileStore } from '@spotter/stores';
import { finalizeJob, type LifecycleDeps } from './finalize-job.js';

/**
 * Cancels a job that is not final yet: its final state becomes `cancelled` at once (webhook
 * `job.cancelled`); if no worker holds it, it leaves the queue; if one does, that worker's
 * answer is discarded when it finishes (its claim loses). Returns null when the job was
 * already final (then it can be erased instead).
 */
export async function cancelJob(deps: LifecycleDeps, data: DetectJobData): Promise<JobRecord | null> {
  const stored = await deps.jobs.get(data.id);
  if (stored?.record) return null;
  const done = await finalizeJob(deps, data, cancelledRecord(data, stored?.startedAt ?? null), { repeat: true });
  if (!done.claimed) return null;
  await deps.queue.removeDetect(data).catch(() => false);
  return done.record;
}

/**
 * Erases a final job: its pictures, record, feedback and shadow output from storage, and
 * every trace in Redis (read model, webhook attempts, queue entries, feedback marker).
 * Returns what was removed, for the audit log.
 */
export async function eraseJob(deps: LifecycleDeps & { profiles: ProfileStore }, record: JobRecord): Promise<string[]> {
  const id = record.job.id;
  if (!record.job.finished_at) throw new JobNotFoundError(id);
  // The mark first: a writer that lands after the files are gone sees it and takes its write back.
  await deps.jobs.erase({ id, owner: record.owner });
  const removed = [...(await deps.files.deletePictures(record)), ...(await deps.files.deleteRecords(id))];
  await deps.queue.forget(id);
  await deps.profiles.forgetFeedback(id);
  return [...removed, 'redis:job', 'redis:webhook', 'queue:entries', 'redis:feedback-marker'];
}
