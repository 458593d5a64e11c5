import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { ConfigError, formatIssues, type ImageRetention } from '@spotter/shared';

const csv = z
  .string()
  .optional()
  .transform((s) => (s ?? '').split(',').map((x) => x.trim()).filter(Boolean));

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .optional()
  .transform((s) => s === 'true' || s === '1' || s === 'yes');

const int = (def: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().int().min(min).max(max).default(def);

/** The environment variables Spotter reads; the README's configuration table mirrors this. */
export const EnvSchema = z.object({
  HOST: z.string().optional(),
  PORT: int(8080, 0, 65535),
  PUBLIC_URL: z.url().optional(),
  SPOTTER_CONSOLE_DIR: z.string().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  REDIS_URL: z
    .string()
    .regex(/^(rediss?|redis-cluster|rediss-cluster|redis-sentinel):\/\//, 'must be redis://host:port, rediss://..., redis-cluster://h1:p1,h2:p2 or redis-sentinel://h1:p1,h2:p2?name=<master>')
    .default('redis://127.0.0.1:6379'),
  SPOTTER_QUEUE_PREFIX: z.string().regex(/^[a-z0-9_-]+$/i).default('spotter'),
  SPOTTER_STORAGE: z.string().regex(/^(file|s3):\/\//, 'must be file://<dir> or s3://<bucket>[/<prefix>]').default('file://./data'),
  S3_ENDPOINT: z.url().optional(),
  AWS_REGION: z.string().default('us-east-1'),
  AWS_ACCESS_KEY_ID: z.string().optional(),
  AWS_SECRET_ACCESS_KEY: z.string().optional(),
  S3_FORCE_PATH_STYLE: bool,
  SPOTTER_S3_SSE: z.enum(['AES256', 'aws:kms']).optional(),
  SPOTTER_S3_SSE_KMS_KEY_ID: z.string().optional(),
  SPOTTER_API_KEYS: csv,
  SPOTTER_ADMIN_KEYS: csv,
  SPOTTER_METRICS_TOKEN: z.string().min(16, 'use at least 16 characters').optional(),
  SPOTTER_RATE_LIMIT_RPS: z.coerce.number().min(0).default(0),
  SPOTTER_RATE_LIMIT_BURST: int(0, 0),
  SPOTTER_MAX_ACTIVE_JOBS_PER_KEY: int(0, 0),
  SPOTTER_MAX_UPLOAD_BYTES: int(20 * 1024 * 1024, 1),
  SPOTTER_MAX_PIXELS: int(40_000_000, 1),
  SPOTTER_IMAGE_RETENTION: z
    .string()
    .regex(/^(keep|0|\d+(s|m|h|d))$/, 'a duration such as 30m, 24h or 7d, 0 (delete when the job is final) or keep')
    .default('24h'),
  SPOTTER_STRIP_METADATA: bool,
  SPOTTER_BATCH_MAX_ITEMS: int(100_000, 1),
  SPOTTER_BATCH_PREFIX_ROOT: z.string().regex(/^[a-z]+\/([A-Za-z0-9_-][A-Za-z0-9._-]*\/)*$/, 'a folder such as intake/').default('intake/'),
  SPOTTER_ARCHIVE_MAX_ENTRIES: int(5000, 1),
  SPOTTER_ARCHIVE_MAX_BYTES: int(2 * 1024 ** 3, 1),
  SPOTTER_ARCHIVE_MAX_RATIO: int(100, 1),
  SPOTTER_MAX_BACKLOG: int(10_000, 1),
  SPOTTER_PREDICT_TIMEOUT_MS: int(30_000, 100, 300_000),
  SPOTTER_MODEL_DIR: z.string().default('./models'),
  SPOTTER_MODEL: z.string().regex(/^[a-z0-9_.-]+$/i).default('yolox_nano'),
  SPOTTER_MODEL_CACHE_DIR: z.string().optional(),
  SPOTTER_MODEL_REFRESH_S: z.coerce.number().min(0).max(3600).default(5),
  SPOTTER_MAX_MODEL_BYTES: int(256 * 1024 * 1024, 1),
  SPOTTER_EXECUTION_PROVIDERS: csv,
  SPOTTER_INFERENCE_SESSIONS: int(0, 0, 64),
  SPOTTER_INTRA_OP_THREADS: int(0, 0, 256),
  SPOTTER_WORKER_CONCURRENCY: int(0, 0, 256),
  SPOTTER_METRICS_PORT: int(9464, 0, 65535),
  SPOTTER_JOB_ATTEMPTS: int(3, 1, 20),
  SPOTTER_JOB_BACKOFF_MS: int(1000, 0),
  SPOTTER_JOB_RETENTION_S: int(24 * 3600, 60),
  SPOTTER_JOB_TIMEOUT_S: int(60, 1, 3600),
  SPOTTER_TAKEOVER_S: int(15, 3, 600),
  SPOTTER_OUTAGE_BUDGET_S: int(900, 0, 7 * 24 * 3600),
  SPOTTER_RECONCILE_S: int(30, 1, 3600),
  // `whsec_<base64>` is the Standard Webhooks format its libraries take as is; any other secret
  // is used as its UTF-8 bytes (receivers then pass it to those libraries as a raw key).
  SPOTTER_WEBHOOK_SECRET: z
    .string()
    .min(16, 'use at least 16 characters')
    .refine((s) => !s.startsWith('whsec_') || /^whsec_(?:[A-Za-z0-9+/]{4}){4,}(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{4})$/.test(s), {
      error: 'a whsec_ secret must be whsec_ followed by the standard base64 of at least 16 random bytes (openssl rand -base64 32)',
    })
    .optional(),
  SPOTTER_WEBHOOK_ALLOW_HOSTS: csv,
  SPOTTER_WEBHOOK_ATTEMPTS: int(9, 1, 50),
  SPOTTER_WEBHOOK_BACKOFF_MS: int(15_000, 1),
  SPOTTER_WEBHOOK_TIMEOUT_MS: int(10_000, 100, 120_000),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url().optional(),
  SPOTTER_MAX_LOADED_MODELS: int(2, 1, 64),
  SPOTTER_CANARY_MIN_JOBS: int(20, 1),
  SPOTTER_CANARY_MAX_FAILURE_GAP: z.coerce.number().min(0).max(1).default(0.05),
  SPOTTER_MONITOR_BUCKET_S: int(60, 1, 3600),
  SPOTTER_MONITOR_RETENTION_DAYS: int(30, 1, 3650),
  SPOTTER_MONITOR_MIN_SAMPLES: int(30, 1),
  SPOTTER_MONITOR_EVAL_S: int(60, 1, 3600),
  SPOTTER_MONITOR_WINDOW_S: int(3600, 1, 7 * 24 * 3600),
  SPOTTER_ALARM_CONSECUTIVE: int(3, 1, 100),
  SPOTTER_ALARM_COOLDOWN_S: int(3600, 0),
  SPOTTER_ALERT_WEBHOOK_URL: z.url().optional(),
  SPOTTER_MONITOR_THRESHOLDS: z.string().optional(),
  SPOTTER_SLO_QUEUE_P95_S: z.coerce.number().positive().max(86_400).default(5),
  SPOTTER_SLO_LATENCY_P95_S: z.coerce.number().positive().max(86_400).default(10),
  SPOTTER_SLO_FAILURE_RATIO: z.coerce.number().positive().max(1).default(0.05),
  SPOTTER_VIDEO_MAX_BYTES: int(512 * 1024 ** 2, 1),
  SPOTTER_VIDEO_MAX_DURATION_S: int(3600, 1, 24 * 3600),
  SPOTTER_VIDEO_MAX_PIXELS: int(3840 * 2160, 1),
  SPOTTER_VIDEO_SEGMENT_S: int(10, 1, 3600),
  SPOTTER_VIDEO_TMP_DIR: z.string().optional(),
  SPOTTER_URL: z.url().default('http://127.0.0.1:8080'),
  SPOTTER_API_KEY: z.string().optional(),
});

export type StorageConfig =
  | { kind: 'file'; root: string }
  | {
      kind: 's3';
      bucket: string;
      prefix: string;
      endpoint?: string | undefined;
      region: string;
      forcePathStyle: boolean;
      credentials?: { accessKeyId: string; secretAccessKey: string } | undefined;
      /** Server-side encryption asked for on every put. */
      sse?: { type: 'AES256' | 'aws:kms'; kmsKeyId?: string | undefined } | undefined;
    };

function parseStorage(url: string, env: z.infer<typeof EnvSchema>): StorageConfig {
  if (url.startsWith('file://')) return { kind: 'file', root: path.resolve(url.slice('file://'.length) || '.') };
  const [bucket = '', ...rest] = url.slice('s3://'.length).split('/');
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) throw new ConfigError(`SPOTTER_STORAGE: invalid S3 bucket name "${bucket}"`);
  const creds = env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
    ? { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY }
    : undefined;
  return {
    kind: 's3',
    bucket,
    prefix: rest.filter(Boolean).join('/'),
    endpoint: env.S3_ENDPOINT,
    region: env.AWS_REGION,
    forcePathStyle: env.S3_FORCE_PATH_STYLE,
    credentials: creds,
    sse: env.SPOTTER_S3_SSE ? { type: env.SPOTTER_S3_SSE, kmsKeyId: env.SPOTTER_S3_SSE_KMS_KEY_ID } : undefined,
  };
}

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `keep`, `0` or a duration (`30m`, `24h`, `7d`) -> how long originals outlive their job. */
function parseRetention(v: string): ImageRetention {
  if (v === 'keep') return 'keep';
  if (v === '0') return { keepMs: 0 };
  return { keepMs: Number(v.slice(0, -1)) * UNIT_MS[v.slice(-1)]! };
}

const Thresholds = z.record(z.string(), z.object({ warn: z.number(), alarm: z.number() }));

/** Per-metric drift thresholds from a JSON file: {"brightness": {"warn": 0.2, "alarm": 0.3}, ...}. */
function readThresholds(file: string) {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(`SPOTTER_MONITOR_THRESHOLDS: cannot read ${file}: ${(err as Error).message}`);
  }
  const parsed = Thresholds.safeParse(raw);
  if (!parsed.success) throw new ConfigError(`SPOTTER_MONITOR_THRESHOLDS: ${file}: ${formatIssues(parsed.error, 'file')}`);
  return parsed.data;
}

/**
 * How a worker spreads inference over the machine's cores, unless told otherwise: several
 * single-threaded sessions beat one session with more intra-op threads for throughput
 * (measured on 2 cores; docs/performance.md), up to 4 sessions, whose threads then share the
 * remaining cores. Worker processes are the unit of scaling beyond that. Two jobs per session
 * keep each session fed while the next image decodes.
 */
export function inferenceLayout(cores: number, set: { sessions?: number; intraOpThreads?: number; concurrency?: number } = {}) {
  const sessions = set.sessions || Math.min(Math.max(1, cores), 4);
  return {
    sessions,
    intraOpThreads: set.intraOpThreads || Math.max(1, Math.floor(cores / sessions)),
    concurrency: set.concurrency || sessions * 2,
  };
}

/** Parses the environment once into Spotter's nested, typed configuration. */
export function loadConfig(env: NodeJS.ProcessEnv) {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(`invalid configuration: ${formatIssues(parsed.error, 'environment')}`);
  }
  const e = parsed.data;
  const { concurrency, ...layout } = inferenceLayout(os.availableParallelism(), {
    sessions: e.SPOTTER_INFERENCE_SESSIONS,
    intraOpThreads: e.SPOTTER_INTRA_OP_THREADS,
    concurrency: e.SPOTTER_WORKER_CONCURRENCY,
  });
  return {
    http: {
      // Without API keys the API is open, so it only listens on loopback unless told otherwise.
      host: e.HOST ?? (e.SPOTTER_API_KEYS.length || e.SPOTTER_ADMIN_KEYS.length ? '0.0.0.0' : '127.0.0.1'),
      port: e.PORT,
      publicUrl: e.PUBLIC_URL,
      /** The console's built files; by default apps/console/dist beside the API. */
      consoleDir: e.SPOTTER_CONSOLE_DIR ? path.resolve(e.SPOTTER_CONSOLE_DIR) : undefined,
      apiKeys: e.SPOTTER_API_KEYS,
      adminKeys: e.SPOTTER_ADMIN_KEYS,
      metricsToken: e.SPOTTER_METRICS_TOKEN,
      // Per API key, shared by every API process through Redis; 0 turns a limit off.
      rateLimit: {
        perSecond: e.SPOTTER_RATE_LIMIT_RPS,
        burst: e.SPOTTER_RATE_LIMIT_BURST || Math.max(1, Math.ceil(e.SPOTTER_RATE_LIMIT_RPS * 2)),
        maxActiveJobs: e.SPOTTER_MAX_ACTIVE_JOBS_PER_KEY,
      },
      maxUploadBytes: e.SPOTTER_MAX_UPLOAD_BYTES,
      maxBacklog: e.SPOTTER_MAX_BACKLOG,
      predictTimeoutMs: e.SPOTTER_PREDICT_TIMEOUT_MS,
    },
    log: { level: e.LOG_LEVEL },
    redis: { url: e.REDIS_URL, prefix: e.SPOTTER_QUEUE_PREFIX },
    storage: parseStorage(e.SPOTTER_STORAGE, e),
    images: {
      maxPixels: e.SPOTTER_MAX_PIXELS,
      retention: parseRetention(e.SPOTTER_IMAGE_RETENTION),
      stripMetadata: e.SPOTTER_STRIP_METADATA,
    },
    batches: {
      maxItems: e.SPOTTER_BATCH_MAX_ITEMS,
      /** Batches from storage may only read below this folder (never Spotter's own). */
      prefixRoot: e.SPOTTER_BATCH_PREFIX_ROOT,
      archive: { maxEntries: e.SPOTTER_ARCHIVE_MAX_ENTRIES, maxBytes: e.SPOTTER_ARCHIVE_MAX_BYTES, maxRatio: e.SPOTTER_ARCHIVE_MAX_RATIO },
    },
    model: {
      dir: path.resolve(e.SPOTTER_MODEL_DIR),
      name: e.SPOTTER_MODEL,
      /** Where registered models' files are cached, by sha256. */
      cacheDir: path.resolve(e.SPOTTER_MODEL_CACHE_DIR ?? path.join(os.tmpdir(), 'spotter-model-cache')),
      /** How often every process lists the models registered in storage (0: only when a name is not known). */
      refreshMs: e.SPOTTER_MODEL_REFRESH_S * 1000,
      /** The largest .onnx that POST /v1/models takes. */
      maxBytes: e.SPOTTER_MAX_MODEL_BYTES,
      executionProviders: e.SPOTTER_EXECUTION_PROVIDERS.length ? e.SPOTTER_EXECUTION_PROVIDERS : ['cpu'],
      ...layout,
      maxLoaded: e.SPOTTER_MAX_LOADED_MODELS,
    },
    rollout: {
      // The guards' defaults for minimum sample and failure gap; the others are fixed (see @spotter/models GUARD_DEFAULTS).
      canaryMinJobs: e.SPOTTER_CANARY_MIN_JOBS,
      canaryMaxFailureGap: e.SPOTTER_CANARY_MAX_FAILURE_GAP,
      /** The output-drift guard compares at most the latest monitoring window of a rollout. */
      windowMs: e.SPOTTER_MONITOR_WINDOW_S * 1000,
      alertWebhookUrl: e.SPOTTER_ALERT_WEBHOOK_URL,
    },
    monitoring: {
      bucketMs: e.SPOTTER_MONITOR_BUCKET_S * 1000,
      retentionS: e.SPOTTER_MONITOR_RETENTION_DAYS * 24 * 3600,
      minSamples: e.SPOTTER_MONITOR_MIN_SAMPLES,
      evalMs: e.SPOTTER_MONITOR_EVAL_S * 1000,
      windowMs: e.SPOTTER_MONITOR_WINDOW_S * 1000,
      alarm: { consecutive: e.SPOTTER_ALARM_CONSECUTIVE, cooldownMs: e.SPOTTER_ALARM_COOLDOWN_S * 1000 },
      alertWebhookUrl: e.SPOTTER_ALERT_WEBHOOK_URL,
      overrides: e.SPOTTER_MONITOR_THRESHOLDS ? readThresholds(e.SPOTTER_MONITOR_THRESHOLDS) : undefined,
      /** Service health (realtime jobs): judged against these, never against the reference. */
      objectives: { queueP95S: e.SPOTTER_SLO_QUEUE_P95_S, latencyP95S: e.SPOTTER_SLO_LATENCY_P95_S, failureRatio: e.SPOTTER_SLO_FAILURE_RATIO },
    },
    videos: {
      maxBytes: e.SPOTTER_VIDEO_MAX_BYTES,
      maxDurationS: e.SPOTTER_VIDEO_MAX_DURATION_S,
      maxPixels: e.SPOTTER_VIDEO_MAX_PIXELS,
      segmentS: e.SPOTTER_VIDEO_SEGMENT_S,
      /** Seconds each segment decodes past its end: the next segment's warm-up, where tracks are joined. */
      overlapS: 1,
      /** Local copies of clips (uploads being probed, a worker's copy while it runs segments). */
      tmpDir: path.resolve(e.SPOTTER_VIDEO_TMP_DIR ?? path.join(os.tmpdir(), 'spotter-video')),
      ffmpeg: { ffmpeg: 'ffmpeg', ffprobe: 'ffprobe', threads: 1 },
      probeTimeoutMs: 60_000,
      stallMs: 30_000,
    },
    /** Where the command-line tool finds the API. */
    client: { url: e.SPOTTER_URL, apiKey: e.SPOTTER_API_KEY },
    worker: {
      concurrency,
      port: e.SPOTTER_METRICS_PORT,
      host: e.HOST ?? '127.0.0.1',
    },
    jobs: {
      /** Attempts a job may use, crashed ones included. */
      attempts: e.SPOTTER_JOB_ATTEMPTS,
      backoffMs: e.SPOTTER_JOB_BACKOFF_MS,
      retentionS: e.SPOTTER_JOB_RETENTION_S,
      timeoutMs: e.SPOTTER_JOB_TIMEOUT_S * 1000,
      /** A dead worker's jobs are taken over within this time (lock + stall check). */
      takeoverMs: e.SPOTTER_TAKEOVER_S * 1000,
      /** How long jobs wait out a storage or Redis outage before failing. */
      outageBudgetMs: e.SPOTTER_OUTAGE_BUDGET_S * 1000,
      reconcileMs: e.SPOTTER_RECONCILE_S * 1000,
    },
    telemetry: { otlpEndpoint: e.OTEL_EXPORTER_OTLP_ENDPOINT },
    webhooks: {
      secret: e.SPOTTER_WEBHOOK_SECRET,
      allowHosts: e.SPOTTER_WEBHOOK_ALLOW_HOSTS,
      attempts: e.SPOTTER_WEBHOOK_ATTEMPTS,
      backoffMs: e.SPOTTER_WEBHOOK_BACKOFF_MS,
      timeoutMs: e.SPOTTER_WEBHOOK_TIMEOUT_MS,
    },
  };
}

export type Config = ReturnType<typeof loadConfig>;
