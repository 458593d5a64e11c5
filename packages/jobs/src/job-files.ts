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

  /** Every entry still in the outbox: jobs, and batches whose final event is not out yet. */
  async *pendingEntries(): AsyncIterable<{ kind: 'job' | 'batch'; id: string }> {
    for await (const o of this.storage.list('pending/')) {
      const name = storageKeys.idOf(o.key);
      yield name.startsWith('batch.') ? { kind: 'batch', id: name.slice('batch.'.length) } : { kind: 'job', id: name };
    }
  }

  /**
   * Deletes the pictures of a job Spotter stored itself: the original (when it is ours, not a
   * batch's intake object; a tensor's bytes alike), the annotated copy and a raw output not
   * collected. Results stay for their own retention.
   */
  async deletePictures(record: JobRecord): Promise<string[]> {
    const removed = [storageKeys.annotated(record.job.id), storageKeys.output(record.job.id)];
    if (!record.image_key || record.image_key === storageKeys.image(record.job.id)) removed.push(storageKeys.image(record.job.id));
    await Promise.all(removed.map((k) => this.storage.delete(k)));
    return removed;
  }

  /** Deletes the job's record, feedback, shadow output and outbox entry (erasure). */
  async deleteRecords(id: string): Promise<string[]> {
    const keys = [storageKeys.result(id), storageKeys.feedback(id), storageKeys.shadow(id), storageKeys.pending(id)];
    await Promise.all(keys.map((k) => this.storage.delete(k)));
    return keys;
  }

  saveResult(record: JobRecord): Promise<void> {
    return this.storage.put(storageKeys.result(record.job.id), Buffer.from(JSON.stringify(record)), 'application/json');
  }

  async hasResult(id: string): Promise<boolean> {
    return (await this.storage.size(storageKeys.result(id))) !== null;
  }

  async loadResult(id: string): Promise<JobRecord | null> {
    const bytes = await this.storage.get(storageKeys.result(id));
    return bytes ? JobRecord.parse(JSON.parse(bytes.toString('utf8'))) : null;
  }
}
