/**
 * The one job contract shared by the API and the workers: queue names, the payload a
 * detect job carries, the record a worker writes, and the JSON clients read.
 * Types are inferred from the schemas so the code and the OpenAPI document agree.
 */
import { z } from 'zod';
import { ModelName as modelName } from './model-manifest.js';

/** Queue names. Do not rename: jobs already in Redis would be stranded. */
export const QueueNames = { detect: 'detect', detectBatch: 'detect-batch', webhooks: 'webhooks', maintenance: 'maintenance' } as const;

export const JobStatus = z.enum(['queued', 'running', 'succeeded', 'failed', 'cancelled']);
export type JobStatus = z.infer<typeof JobStatus>;

const isoTime = z.iso.datetime().describe('ISO 8601 timestamp (UTC)');

/** The text fields of the multipart form of POST /v1/jobs and POST /v1/predict. */
export const CreateJobFields = z
  .object({
    webhook_url: z
      .url({ protocol: /^https?$/, error: 'must be an absolute http(s) URL' })
      .max(2048)
      .optional()
      .describe('Called with a signed POST when the job reaches a final state'),
    min_score: z.preprocess(
      (v) => (v === '' || v === undefined ? undefined : Number(v)),
      z.number({ error: 'must be a number between 0 and 1' }).min(0).max(1).default(0.25),
    ).describe('Detections scoring below this are dropped (0..1, default 0.25)'),
    model: modelName.optional().describe('Model name; the default model when absent'),
  })
  .strict();
export type CreateJobFields = z.infer<typeof CreateJobFields>;

/** The image a job reads. A batch's intake objects are not probed at submission: format `unknown`, size 0. */
export const ImageInfo = z.object({
  key: z.string(),
  bytes: z.number().int().nonnegative(),
  format: z.string(),
  width: z.number().int().nonnegative(),
  height: z.number().int().nonnegative(),
});

/**
 * A model-input tensor a client pre-processed (the Open Inference Protocol's FP32 input), in
 * place of a picture: the job's `image` then points at its bytes in storage (float32,
 * little-endian, row-major; format `tensor`). `source` is the size of the picture it was made
 * from, so that boxes come back in that picture's pixels; without it they are in the tensor's.
 */
export const TensorInput = z.object({
  datatype: z.literal('FP32'),
  shape: z.array(z.number().int().positive()).length(4),
  source: z.object({ width: z.number().int().positive(), height: z.number().int().positive() }).optional(),
});
export type TensorInput = z.infer<typeof TensorInput>;

/** What a detect job carries through Redis: a reference to the image, never its bytes. */
export const DetectJobData = z.object({
  id: z.uuid(),
  owner: z.string(),
  model: modelName,
  min_score: z.number().min(0).max(1),
  webhook_url: z.string().nullable(),
  created_at: isoTime,
  image: ImageInfo,
  /** A candidate model to run as well, results kept apart (shadow rollout). */
  shadow: modelName.nullable().optional(),
  /** Set for the images of a batch: which batch, which item, its source name. */
  batch: z.object({ id: z.string(), item: z.number().int().nonnegative(), source: z.string().max(1024) }).optional(),
  /** Set when the rollout's canary chose the model. */
  rollout: z.enum(['canary']).optional(),
  /** Set when the input is a pre-processed tensor rather than a picture (see TensorInput). */
  tensor: TensorInput.optional(),
  /** Also store the model's raw output tensor (storageKeys.output), for a client that asked for it. */
  raw_output: z.boolean().optional(),
  /** W3C trace context of the request that created the job. */
  trace: z.record(z.string(), z.string()).optional(),
});
export type DetectJobData = z.infer<typeof DetectJobData>;

export const JobEvent = z.enum(['job.succeeded', 'job.failed', 'job.cancelled']);
export type JobEvent = z.infer<typeof JobEvent>;

export const WebhookJobData = z.object({
  job_id: z.uuid(),
  event: JobEvent,
  trace: z.record(z.string(), z.string()).optional(),
});
export type WebhookJobData = z.infer<typeof WebhookJobData>;

/**
 * A monitoring alarm opened or cleared, or a rollout ended by one of its guards, delivered
 * to SPOTTER_ALERT_WEBHOOK_URL from the webhooks queue.
 */
export const AlertJobData = z.object({
  url: z.string(),
  event_id: z.string(),
  body: z.union([
    z.object({ event: z.enum(['monitoring.alarm_opened', 'monitoring.alarm_cleared']), alarm: z.record(z.string(), z.unknown()) }),
    z.object({ event: z.enum(['rollout.stopped', 'rollout.rolled_back']), rollout: z.record(z.string(), z.unknown()) }),
  ]),
});
export type AlertJobData = z.infer<typeof AlertJobData>;

export const Box = z.object({ x1: z.number(), y1: z.number(), x2: z.number(), y2: z.number() });

export const Detection = z.object({
  label: z.string(),
  class_id: z.number().int(),
  score: z.number(),
  box: Box.describe('Pixels of the original image as displayed (EXIF orientation applied)'),
});
export type Detection = z.infer<typeof Detection>;

export const Timings = z.object({
  queue: z.number(),
  download: z.number(),
  decode: z.number(),
  inference: z.number(),
  postprocess: z.number(),
  total: z.number(),
});
export type Timings = z.infer<typeof Timings>;

export const DetectionResult = z.object({
  image: z.object({ width: z.number().int(), height: z.number().int() }),
  model: z.object({ name: z.string(), version: z.string() }),
  detections: z.array(Detection),
});
export type DetectionResult = z.infer<typeof DetectionResult>;

export const ErrorDetail = z.object({ code: z.string(), message: z.string() });
export type ErrorDetail = z.infer<typeof ErrorDetail>;
export const ErrorBody = z.object({ error: ErrorDetail });

/** The part of a job that a worker writes to storage as results/<id>.json. */
export const JobCore = z.object({
  id: z.uuid(),
  status: JobStatus,
  model: z.string(),
  created_at: isoTime,
  started_at: isoTime.nullable(),
  finished_at: isoTime.nullable(),
  timings_ms: Timings.nullable(),
  result: DetectionResult.nullable(),
  error: ErrorDetail.nullable(),
});
export type JobCore = z.infer<typeof JobCore>;

/** The stored record: the public job plus who owns it. Source of truth once final. */
export const JobRecord = z.object({
  owner: z.string(),
  webhook_url: z.string().nullable(),
  /** Where the original image is (images/<id> when uploaded; a batch's intake key otherwise). */
  image_key: z.string().optional(),
  job: JobCore,
});
export type JobRecord = z.infer<typeof JobRecord>;

export const WebhookAttempt = z.object({
  at: isoTime,
  status_code: z.number().int().nullable(),
  error: z.string().nullable(),
});

export type WebhookAttempt = z.infer<typeof WebhookAttempt>;

export const WebhookState = z.object({
  url: z.string(),
  state: z.enum(['pending', 'delivered', 'failed']),
  attempts: z.array(WebhookAttempt),
});
export type WebhookState = z.infer<typeof WebhookState>;

/** POST /v1/jobs/{id}/feedback: the true boxes of the job's image (late labels). */
export const FeedbackBody = z
  .object({
    boxes: z
      .array(
        z.object({
          class_id: z.number().int().min(0),
          box: z.object({ x1: z.number(), y1: z.number(), x2: z.number(), y2: z.number() }).refine((b) => b.x2 >= b.x1 && b.y2 >= b.y1, 'x2 >= x1 and y2 >= y1'),
        }),
      )
      .max(1000),
  })
  .strict();
export type FeedbackBody = z.infer<typeof FeedbackBody>;

export const JobLinks = z.object({ self: z.string(), annotated: z.string() });

/** Whether Spotter still holds the original image, and until when (SPOTTER_IMAGE_RETENTION). */
export const ImageHold = z.object({
  held: z.boolean(),
  delete_after: isoTime.nullable().describe('When the original will be deleted; null: kept'),
});
export type ImageHold = z.infer<typeof ImageHold>;

/** The body of GET /v1/jobs/{id}, and the `job` of a webhook event. */
export const JobView = JobCore.extend({
  links: JobLinks,
  webhook: WebhookState.nullable(),
  image: ImageHold,
});
export type JobView = z.infer<typeof JobView>;

export const JobCreated = z.object({
  id: z.uuid(),
  status: z.literal('queued'),
  links: JobLinks,
});

export const WebhookEvent = z.object({
  event: WebhookJobData.shape.event,
  job: JobView,
});

