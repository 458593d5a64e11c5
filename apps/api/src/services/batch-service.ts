import type { IncomingMessage } from 'node:http';
import { batchView, cancelJob, recount, type BatchManifest } from '@spotter/jobs';
import { BatchNotFoundError, ConflictError, type BatchView, type CreateBatchFields } from '@spotter/shared';
import { BatchIntake, type BatchServiceDeps } from './batch-intake.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Batch use cases: create (batch-intake.ts); read; results; cancel. */
export class BatchService {
  private readonly intake: BatchIntake;
  constructor(private readonly deps: BatchServiceDeps) {
    this.intake = new BatchIntake(deps);
  }

  /** A batch from a multipart upload (`images` parts or one `archive`), streamed into storage. */
  fromUpload(owner: string, req: IncomingMessage, idempotencyKey: string | undefined) {
    return this.intake.fromUpload(owner, req, idempotencyKey);
  }

  /** A batch of the images already in Spotter's bucket under an intake prefix (never an arbitrary URL). */
  fromPrefix(owner: string, prefix: string, fields: CreateBatchFields, idempotencyKey: string | undefined) {
    return this.intake.fromPrefix(owner, prefix, fields, idempotencyKey);
  }

  /** The manifest of an owner's batch; 404 for unknown ids and other owners' batches. */
  private async manifest(owner: string, id: string): Promise<BatchManifest> {
    const m = UUID.test(id) ? await this.deps.lifecycle.batchFiles.load(id) : null;
    if (!m || m.owner !== owner) throw new BatchNotFoundError(id);
    return m;
  }

  async get(owner: string, id: string): Promise<BatchView> {
    const m = await this.manifest(owner, id);
    const stored = (await this.deps.lifecycle.batches.get(id)) ?? recount(m, await this.statuses(m));
    return batchView(m, stored, this.deps.config.http.publicUrl);
  }

  private async statuses(m: BatchManifest) {
    const { jobs, files } = this.deps.lifecycle;
    const inRedis = await jobs.many(m.items.map((i) => i.job_id));
    return Promise.all(m.items.map(async (item, k) => inRedis[k]?.status ?? (await files.loadResult(item.job_id))?.job.status ?? null));
  }

  /**
   * The results, one item at a time in batch order (records from Redis, else from storage),
   * for streaming as JSON Lines or a COCO results file.
   */
  async *results(owner: string, id: string) {
    const m = await this.manifest(owner, id);
    const { jobs, files } = this.deps.lifecycle;
    for (let i = 0; i < m.items.length; i += 500) {
      const page = m.items.slice(i, i + 500);
      const inRedis = await jobs.many(page.map((p) => p.job_id));
      for (const [k, item] of page.entries()) {
        const record = inRedis[k]?.record ?? (inRedis[k] ? null : await files.loadResult(item.job_id));
        yield { item, status: record?.job.status ?? inRedis[k]?.status ?? 'queued', job: record?.job ?? null };
      }
    }
  }

  /** Cancels the items that have not started; running ones finish. The batch ends `cancelled`. */
  async cancel(owner: string, id: string): Promise<BatchView> {
    const m = await this.manifest(owner, id);
    const { lifecycle, log } = this.deps;
    const stored = await lifecycle.batches.get(id);
    if (stored && stored.status !== 'queued' && stored.status !== 'running') throw new ConflictError(`batch ${id} is already ${stored.status}`);
    await lifecycle.batches.requestCancel(id);
    const states = await lifecycle.jobs.many(m.items.map((i) => i.job_id));
    let cancelled = 0;
    for (const [k, item] of m.items.entries()) {
      if (states[k]?.status !== 'queued') continue;
      const data = await lifecycle.jobs.get(item.job_id);
      if (data && (await cancelJob(lifecycle, data.data))) cancelled++;
    }
    log.info({ batch_id: id, owner, cancelled }, 'batch cancelled');
    return this.get(owner, id);
  }
}
