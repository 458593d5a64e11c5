import { JobRecord, jobLinks, type JobCore, type JobView, type WebhookState } from './job-contract.js';
import { storageKeys, type ObjectStorage } from './storage/object-storage.js';

/** Writes the job's record; once final it is the source of truth for the job. */
export async function saveJobRecord(storage: ObjectStorage, record: JobRecord): Promise<void> {
  await storage.put(storageKeys.result(record.job.id), Buffer.from(JSON.stringify(record)), 'application/json');
}

export async function loadJobRecord(storage: ObjectStorage, id: string): Promise<JobRecord | null> {
  const bytes = await storage.get(storageKeys.result(id));
  return bytes ? JobRecord.parse(JSON.parse(bytes.toString('utf8'))) : null;
}

/** The public JSON of a job. */
export function toJobView(job: JobCore, publicUrl: string | undefined, webhook: WebhookState | null): JobView {
  return { ...job, links: jobLinks(job.id, publicUrl), webhook };
}
