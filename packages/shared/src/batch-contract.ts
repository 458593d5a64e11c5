import { z } from 'zod';
import { ModelName } from './model-manifest.js';

/**
 * Batches: many images, one request, one results file. Each image becomes a detect job
 * that carries `batch` and runs after every realtime job (BullMQ priority).
 */
export const BatchStatus = z.enum(['queued', 'running', 'succeeded', 'failed', 'cancelled']);
export type BatchStatus = z.infer<typeof BatchStatus>;
/** How a batch ends: succeeded once every item is final (failed items listed), failed when none succeeded. */
export const FinalBatchStatus = BatchStatus.extract(['succeeded', 'failed', 'cancelled']);
export type FinalBatchStatus = z.infer<typeof FinalBatchStatus>;

const flag = z.preprocess((v) => (v === 'true' || v === true ? true : v === 'false' || v === false || v === undefined || v === '' ? false : v), z.boolean({ error: 'must be true or false' }));

/** The text fields of POST /v1/batches (multipart) and the JSON body's options. */
export const CreateBatchFields = z
  .object({
    model: ModelName.optional().describe('Model name; the default model when absent'),
    min_score: z.preprocess(
      (v) => (v === '' || v === undefined ? undefined : Number(v)),
      z.number({ error: 'must be a number between 0 and 1' }).min(0).max(1).default(0.25),
    ),
    webhook_url: z.url({ protocol: /^https?$/, error: 'must be an absolute http(s) URL' }).max(2048).optional().describe('Called with a signed POST when the batch is final'),
    webhook_each: flag.default(false).describe('Also call webhook_url for every image (job.* events)'),
  })
  .strict();
export type CreateBatchFields = z.infer<typeof CreateBatchFields>;

/** The JSON form of POST /v1/batches: images already in Spotter's bucket under an intake prefix. */
export const CreateBatchFromPrefix = CreateBatchFields.extend({
  source: z.object({ prefix: z.string().min(1).max(512) }).strict(),
}).strict();

/** Why an entry of an upload did not become a job. */
export const SkippedItem = z.object({ source: z.string(), reason: z.string(), code: z.string() });
export type SkippedItem = z.infer<typeof SkippedItem>;

export const BatchCounts = z.object({
  total: z.number().int(),
  queued: z.number().int(),
  running: z.number().int(),
  succeeded: z.number().int(),
  failed: z.number().int(),
  cancelled: z.number().int(),
  skipped: z.number().int(),
});
export type BatchCounts = z.infer<typeof BatchCounts>;

/** The body of GET /v1/batches/{id}, and the `batch` of a batch webhook event. */
export const BatchView = z.object({
  id: z.uuid(),
  status: BatchStatus,
  model: z.string(),
  source: z.enum(['images', 'archive', 'prefix']),
  counts: BatchCounts,
  /** Share of the images that are final, 0..1. */
  progress: z.number(),
  created_at: z.string(),
  started_at: z.string().nullable(),
  finished_at: z.string().nullable(),
  skipped: z.array(SkippedItem),
  links: z.object({ self: z.string(), results: z.string(), results_coco: z.string() }),
});
export type BatchView = z.infer<typeof BatchView>;

export const BatchEvent = z.enum(['batch.succeeded', 'batch.failed', 'batch.cancelled']);
export type BatchEvent = z.infer<typeof BatchEvent>;

/** The webhooks queue's payload for a batch's one final event. */
export const BatchWebhookJobData = z.object({ batch_id: z.uuid(), event: BatchEvent });
export type BatchWebhookJobData = z.infer<typeof BatchWebhookJobData>;

/** One line of GET /v1/batches/{id}/results (JSON Lines). */
export const BatchResultLine = z.object({
  item: z.number().int(),
  source: z.string(),
  job_id: z.uuid(),
  status: z.string(),
  detections: z.array(z.unknown()).nullable(),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
});

/** Image id of a file in COCO terms: its numeric stem (000000000139.jpg -> 139) when unused, else its position + 1. */
export function cocoImageId(fileName: string, index: number, used: Set<number>): number {
  const base = fileName.slice(fileName.lastIndexOf('/') + 1);
  const stem = base.includes('.') ? base.slice(0, base.lastIndexOf('.')) : base;
  const n = /^\d+$/.test(stem) ? Number(stem) : NaN;
  const id = Number.isSafeInteger(n) && n > 0 && !used.has(n) ? n : index + 1;
  used.add(id);
  return id;
}
