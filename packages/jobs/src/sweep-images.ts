import { storageKeys, type ObjectStorage } from '@spotter/storage';
import type { Lifecycle } from './lifecycle.js';

/**
 * Deletes the originals (and annotated copies) of jobs that have been final for longer than
 * SPOTTER_IMAGE_RETENTION. Results and monitoring profiles stay for their own retention; jobs
 * not final yet keep their image whatever its age. Run by one process at a time (scheduler).
 */
export async function sweepImages(deps: Pick<Lifecycle, 'jobs' | 'files' | 'retention'> & { storage: ObjectStorage }, now = Date.now()) {
  const report = { checked: 0, deleted: 0 };
  if (deps.retention === 'keep') return report;
  const keepMs = deps.retention.keepMs;
  for await (const o of deps.storage.list('images/')) {
    // An image younger than the retention belongs to a job that cannot be past it.
    if (now - o.modifiedAt.getTime() < keepMs) continue;
    report.checked++;
    const id = storageKeys.idOf(o.key);
    const record = (await deps.jobs.get(id))?.record ?? (await deps.files.loadResult(id));
    if (!record?.job.finished_at || Date.parse(record.job.finished_at) + keepMs > now) continue;
    await deps.files.deletePictures(record);
    report.deleted++;
  }
  return report;
}
