import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Config } from '@spotter/config';
import type { BatchManifest, Lifecycle } from '@spotter/jobs';
import type { ModelRegistry, Rollout } from '@spotter/models';
import { BatchTooLargeError, CreateBatchFields, IMAGE_FORMATS, parseOrThrow, SpotterError, ValidationError, type DetectJobData, type SkippedItem } from '@spotter/shared';
import { assertValidKey, assertValidPrefix, storageKeys, type ObjectStorage } from '@spotter/storage';
import type { IdempotencyStore } from '@spotter/stores';
import type { Logger } from '@spotter/telemetry';
import { readBatchUpload } from '../uploads/batch-upload.js';
import { intakeImage } from './image-intake.js';
import { checkIdempotencyKey, checkWebhookUrl } from './request-checks.js';

export interface BatchServiceDeps {
  config: Config;
  storage: ObjectStorage;
  lifecycle: Lifecycle;
  idempotency: IdempotencyStore;
  rollout: Rollout;
  registry: ModelRegistry;
  log: Logger;
}

/** An image of the batch, stored (uploads) or found in the intake folder (prefix). */
interface Item {
  jobId: string;
  source: string;
  image: DetectJobData['image'];
}

/** Runs `fn` over `xs` with at most `n` in flight. */
async function eachLimit<T>(xs: readonly T[], n: number, fn: (x: T) => Promise<unknown>) {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(n, xs.length) }, async () => {
    while (next < xs.length) await fn(xs[next++]!);
  }));
}

/** Creating batches: from uploads, an archive or an intake prefix, accepted whole or not at all. */
export class BatchIntake {
  constructor(private readonly deps: BatchServiceDeps) {}

  /** A batch from a multipart upload (`images` parts or one `archive`), streamed into storage. */
  async fromUpload(owner: string, req: IncomingMessage, idempotencyKey: string | undefined): Promise<{ id: string; replayed: boolean }> {
    const { config, storage } = this.deps;
    return this.idempotent(owner, idempotencyKey, req, async (id) => {
      const items: Item[] = [];
      const skipped: SkippedItem[] = [];
      try {
        const { fields, source } = await readBatchUpload(
          req,
          { ...config.batches.archive, maxEntryBytes: config.http.maxUploadBytes, maxEntries: Math.min(config.batches.archive.maxEntries, config.batches.maxItems) },
          async (entry) => {
            if ('skipped' in entry) return void skipped.push({ source: entry.name, ...entry.skipped });
            try {
              const { bytes, probe } = await intakeImage(entry.bytes, config.images);
              const jobId = randomUUID();
              const key = storageKeys.image(jobId);
              await storage.put(key, bytes, IMAGE_FORMATS[probe.format].mime);
              items.push({ jobId, source: entry.name, image: { key, bytes: bytes.length, format: probe.format, width: probe.width, height: probe.height } });
            } catch (err) {
              // Not an image, or not one Spotter reads: skipped with the reason a single upload would get.
              if (!(err instanceof SpotterError) || err.retryable) throw err;
              skipped.push({ source: entry.name, reason: err.message, code: err.code });
            }
          },
        );
        return await this.commit(id, owner, parseOrThrow(CreateBatchFields, fields), source, items, skipped);
      } catch (err) {
        await Promise.allSettled(items.map((i) => storage.delete(i.image.key)));
        throw err;
      }
    });
  }

  /** A batch of the images already in Spotter's bucket under an intake prefix (never an arbitrary URL). */
  async fromPrefix(owner: string, prefix: string, fields: CreateBatchFields, idempotencyKey: string | undefined): Promise<{ id: string; replayed: boolean }> {
    const { config, storage } = this.deps;
    const root = config.batches.prefixRoot;
    const folder = prefix.endsWith('/') ? prefix : `${prefix}/`;
    try {
      assertValidPrefix(folder);
    } catch {
      throw new ValidationError(`source.prefix must be a folder of plain names under ${root}`, 'INVALID_PREFIX');
    }
    if (!folder.startsWith(root)) throw new ValidationError(`source.prefix must be under ${root} (SPOTTER_BATCH_PREFIX_ROOT)`, 'INVALID_PREFIX');
    return this.idempotent(owner, idempotencyKey, null, async (id) => {
      const items: Item[] = [];
      const skipped: SkippedItem[] = [];
      for await (const o of storage.list(folder)) {
        if (items.length >= config.batches.maxItems) throw new BatchTooLargeError(`more than ${config.batches.maxItems} objects under ${folder} (SPOTTER_BATCH_MAX_ITEMS)`, 'BATCH_TOO_MANY_ITEMS');
        try {
          assertValidKey(o.key);
        } catch {
          skipped.push({ source: o.key, code: 'UNSUPPORTED_KEY', reason: 'the object name has characters Spotter does not read' });
          continue;
        }
        if (o.bytes === 0 || o.bytes > config.http.maxUploadBytes) {
          skipped.push({ source: o.key, code: o.bytes ? 'PAYLOAD_TOO_LARGE' : 'EMPTY_FILE', reason: o.bytes ? `larger than ${config.http.maxUploadBytes} bytes` : 'the object is empty' });
          continue;
        }
        // Judged by content in the worker, as every image is; not read twice here.
        items.push({ jobId: randomUUID(), source: o.key, image: { key: o.key, bytes: o.bytes, format: 'unknown', width: 0, height: 0 } });
      }
      items.sort((a, b) => (a.source < b.source ? -1 : 1));
      return this.commit(id, owner, fields, 'prefix', items, skipped);
    });
  }

  /** Claims the Idempotency-Key (per owner, apart from jobs'), runs `create`, frees the key if it fails. */
  private async idempotent(owner: string, key: string | undefined, req: IncomingMessage | null, create: (id: string) => Promise<void>) {
    checkIdempotencyKey(key);
    const id = randomUUID();
    if (key !== undefined) {
      const existing = await this.deps.idempotency.claim(owner, `batch:${key}`, id);
      if (existing) {
        req?.resume();
        return { id: existing, replayed: true };
      }
    }
    try {
      await create(id);
      return { id, replayed: false };
    } catch (err) {
      if (key !== undefined) await this.deps.idempotency.release(owner, `batch:${key}`).catch(() => undefined);
      throw err;
    }
  }

  /**
   * Accepts the batch: every item's submission in the outbox and the manifest in storage
   * first (durable before 202), then the counters, the jobs' read model and the queue.
   */
  private async commit(id: string, owner: string, fields: CreateBatchFields, source: BatchManifest['source'], items: Item[], skipped: SkippedItem[]) {
    const { config, lifecycle, registry, rollout } = this.deps;
    if (items.length === 0) {
      const why = skipped.slice(0, 3).map((s) => `${s.source}: ${s.reason}`).join('; ');
      throw new ValidationError(`the batch has no image Spotter can read${why ? ` (${why}${skipped.length > 3 ? '; ...' : ''})` : ''}`, 'BATCH_EMPTY');
    }
    const model = fields.model ?? (await rollout.state()).live;
    await registry.find(model);
    await checkWebhookUrl(fields.webhook_url, config.webhooks);
    const created_at = new Date().toISOString();
    const jobs: DetectJobData[] = items.map((item, index) => ({
      id: item.jobId,
      owner,
      model,
      min_score: fields.min_score,
      webhook_url: fields.webhook_each ? (fields.webhook_url ?? null) : null,
      created_at,
      shadow: null,
      image: item.image,
      batch: { id, item: index, source: item.source.slice(0, 1024) },
    }));
    const manifest: BatchManifest = {
      id,
      owner,
      created_at,
      model,
      min_score: fields.min_score,
      webhook_url: fields.webhook_url ?? null,
      webhook_each: fields.webhook_each,
      source,
      items: jobs.map((j) => ({ item: j.batch!.item, source: j.batch!.source, job_id: j.id })),
      skipped,
    };
    try {
      await eachLimit(jobs, 16, (j) => lifecycle.files.savePending(j));
      await lifecycle.batchFiles.save(manifest);
      await lifecycle.batches.create(id, owner, jobs.length, created_at);
      await lifecycle.jobs.admitBatchItems(jobs);
      await lifecycle.queue.enqueueBatchItems(jobs);
    } catch (err) {
      await Promise.allSettled([lifecycle.batches.erase(id), lifecycle.batchFiles.erase(id), ...jobs.map((j) => lifecycle.files.deletePending(j.id))]);
      throw err;
    }
    this.deps.log.info({ batch_id: id, owner, items: jobs.length, skipped: skipped.length, source, model }, 'batch accepted');
  }
}
