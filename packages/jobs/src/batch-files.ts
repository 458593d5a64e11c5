import { z } from 'zod';
import { SkippedItem } from '@spotter/shared';
import { storageKeys, type ObjectStorage } from '@spotter/storage';

/** A batch as stored before it is accepted: what was asked, every item's job, what was skipped. */
export const BatchManifest = z.object({
  id: z.uuid(),
  owner: z.string(),
  created_at: z.string(),
  model: z.string(),
  min_score: z.number(),
  webhook_url: z.string().nullable(),
  webhook_each: z.boolean(),
  source: z.enum(['images', 'archive', 'prefix']),
  items: z.array(z.object({ item: z.number().int(), source: z.string(), job_id: z.uuid() })),
  skipped: z.array(SkippedItem),
});
export type BatchManifest = z.infer<typeof BatchManifest>;

/** Batch manifests and their outbox entries in storage. */
export class BatchFiles {
  constructor(private readonly storage: ObjectStorage) {}

  /** Writes the manifest and opens the batch's outbox entry (closed once its final event is out). */
  async save(m: BatchManifest): Promise<void> {
    await this.storage.put(storageKeys.batch(m.id), Buffer.from(JSON.stringify(m)), 'application/json');
    await this.storage.put(storageKeys.pendingBatch(m.id), Buffer.from(JSON.stringify({ id: m.id })), 'application/json');
  }

  async load(id: string): Promise<BatchManifest | null> {
    const bytes = await this.storage.get(storageKeys.batch(id));
    return bytes ? BatchManifest.parse(JSON.parse(bytes.toString('utf8'))) : null;
  }

  closeOutbox(id: string): Promise<void> {
    return this.storage.delete(storageKeys.pendingBatch(id));
  }

  async erase(id: string): Promise<void> {
    await Promise.all([this.storage.delete(storageKeys.batch(id)), this.closeOutbox(id)]);
  }
}
