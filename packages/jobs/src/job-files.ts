import { DetectJobData, JobRecord } from '@spotter/shared';
import { storageKeys, type ObjectStorage } from '@spotter/storage';

/**
 * What storage holds of a job: the submission (written before the job is accepted, kept
 * until it is final and announced: the outbox the reconciler works from) and the final
 * record (the source of truth once Redis has forgotten the job).
 */
export class JobFiles {
  constructor(private readonly storage: ObjectStorage) {}

  savePending(data: DetectJobData): Promise<void> {
    return this.storage.put(storageKeys.pending(data.id), Buffer.from(JSON.stringify(data)), 'application/json');
  }

  async loadPending(id: string): Promise<DetectJobData | null> {
    const bytes = await this.storage.get(storageKeys.pending(id));
    return bytes ? DetectJobData.parse(JSON.parse(bytes.toString('utf8'))) : null;
  }

  deletePending(id: string): Promise<void> {
    return this.storage.delete(storageKeys.pending(id));
  }

  /** Ids of every job still in the outbox. */
  async *pendingIds(): AsyncIterable<string> {
    for await (const o of this.storage.list('pending/')) yield storageKeys.idOf(o.key);
  }

  saveResult(record: JobRecord): Promise<void> {
    return this.storage.put(storageKeys.result(record.job.id), Buffer.from(JSON.stringify(record)), 'application/json');
  }

  async loadResult(id: string): Promise<JobRecord | null> {
    const bytes = await this.storage.get(storageKeys.result(id));
    return bytes ? JobRecord.parse(JSON.parse(bytes.toString('utf8'))) : null;
  }
}
