import { readFileSync } from 'node:fs';
import { Worker } from 'bullmq';
import { loadConfig } from '@spotter/config';
import { lifecycleDeps } from '@spotter/jobs';
import { ModelRegistry, Rollout } from '@spotter/models';
import { ModelError, probe, QueueNames, VideoJobNames } from '@spotter/shared';
import { createStorage } from '@spotter/storage';
import { createRedis, createStores, workerLockOptions } from '@spotter/stores';
import { createLogger, startTracing, traceFields } from '@spotter/telemetry';
import { jpegDecoderDescription } from '@spotter/imaging';
import { AfterAnswer } from './after-answer.js';
import { detectProcessor } from './detect-processor.js';
import { ModelPool } from './model-pool.js';
import { startOpsServer } from './ops-server.js';
import { RealtimeFirst } from './realtime-first.js';
import { ShadowRunner } from './shadow-runner.js';
import { videoProcessor } from './video-processor.js';
import { webhookProcessor } from './webhook-processor.js';
import { createWorkerMetrics } from './worker-metrics.js';

// Composition root: configuration is read here once and adapters are chosen here.
const config = loadConfig(process.env);
const version = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
const tracing = await startTracing({ serviceName: 'spotter-worker', version, otlpEndpoint: config.telemetry.otlpEndpoint });
const log = createLogger('spotter-worker', config.log.level, traceFields);
const metrics = createWorkerMetrics(config.worker.concurrency);

// One session per model per process. The default model is loaded and warmed before any
// job is taken; others load on first use, from the seeds or from Spotter's storage.
const storage = await createStorage(config.storage);
const registry = await ModelRegistry.load(config.model.dir, config.model.name, {
  storage,
  cacheDir: config.model.cacheDir,
  refreshMs: config.model.refreshMs,
  onError: (err) => log.warn({ err: err.message }, 'model registry'),
});
const models = new ModelPool(registry, config.model, config.model.maxLoaded, (d) => {
  metrics.modelLoad.set({ model: d.name }, d.loadMs / 1000);
  log.info({ model: d.name, version: d.version, input: `${d.input.width}x${d.input.height}`, family: d.plan.family.name, sessions: d.parallelism, intra_op_threads: config.model.intraOpThreads, load_ms: Math.round(d.loadMs) }, 'model ready');
});
try {
  await models.use(config.model.name, async () => undefined);
} catch (err) {
  if (err instanceof ModelError) log.fatal(`cannot start: ${err.message}`);
  else log.fatal({ err }, 'cannot start: the model is not usable');
  process.exit(1);
}

const connection = createRedis(config.redis.url, 'worker');
connection.on('error', (err: Error) => log.warn({ err: err.message }, 'redis connection error'));
const stores = createStores(connection, config);
const lifecycle = lifecycleDeps(stores, storage, config);
const rollout = new Rollout({ store: stores.rollout, profiles: stores.profiles, registry, policy: config.rollout, alerts: stores.queue });
const retention = config.images.retention;
const shadows = new ShadowRunner({
  storage,
  models,
  rollout,
  profiles: stores.profiles,
  maxPixels: config.images.maxPixels,
  log,
  // With SPOTTER_IMAGE_RETENTION=0 the original goes once the shadow no longer needs it.
  release: async (live) => (retention !== 'keep' && retention.keepMs === 0 ? lifecycle.files.deletePictures(live) : undefined),
});
const base = { connection, prefix: stores.queue.prefix };

const after = new AfterAnswer(log);
const processDetect = detectProcessor(
  { config, storage, models, jobs: stores.jobs, shadows, log, record: { lifecycle, after, profiles: stores.profiles, rollout, metrics, log } },
  log,
  metrics,
);
// Realtime jobs and batch images come from two queues. Batch images start only while no
// realtime job is in hand here, and take half the slots (one per session by default: as fast
// as four in flight, measured), so that a realtime job arriving meets fewer of them; the
// sessions keep one free for realtime inputs while they come (onnx-detector.ts).
const processVideo = videoProcessor({ config, storage, videos: stores.videos, queue: stores.queue, models, log });
const videoJobs = new Set<string>([VideoJobNames.segment, VideoJobNames.finish]);
const gate = new RealtimeFirst();
const detectOptions = { ...base, concurrency: config.worker.concurrency, ...workerLockOptions(config) };
const detectWorker = new Worker(QueueNames.detect, (job, token) => gate.realtime(() => processDetect(job, token)), detectOptions);
const batchWorker = new Worker(
  QueueNames.detectBatch,
  async (job, token) => {
    await gate.batchTurn();
    // Video segments share the batch queue: behind every realtime job, spread over all workers.
    return videoJobs.has(job.name) ? processVideo(job) : processDetect(job, token);
  },
  { ...detectOptions, concurrency: Math.ceil(config.worker.concurrency / 2) },
);
const webhookWorker = new Worker(
  QueueNames.webhooks,
  webhookProcessor({ ...lifecycle, storage, videos: stores.videos, publicUrl: config.http.publicUrl, policy: config.webhooks, later: (what, fn) => after.later(what, fn) }, log, metrics),
  // A dead worker's deliveries move on within SPOTTER_TAKEOVER_S too (BullMQ's default is 30-60 s).
  { ...base, concurrency: 8, ...workerLockOptions(config) },
);
for (const w of [detectWorker, batchWorker, webhookWorker]) w.on('error', (err) => log.warn({ err: err.message }, 'worker error'));

const ops = await startOpsServer(
  config.worker.port,
  config.worker.host,
  async () => {
    const [redis, store] = await Promise.all([probe(stores.ping, 800), probe(() => storage.check(), 800)]);
    return { model: 'ok', redis, storage: store };
  },
  metrics.registry,
  config.http.metricsToken,
);
log.info(
  { port: ops.port, concurrency: config.worker.concurrency, storage: storage.describe, tracing: tracing.enabled, jpeg_decoder: jpegDecoderDescription },
  `spotter worker ready (health and metrics on port ${ops.port})`,
);

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'shutting down: finishing jobs in hand');
  // Jobs in hand end within the job timeout; past it (Redis unreachable, say), exit anyway:
  // their locks expire and another worker takes them over.
  setTimeout(() => {
    log.warn('shutdown took longer than the job timeout; exiting');
    process.exit(1);
  }, config.jobs.timeoutMs + 15_000).unref();
  // close() stops taking jobs and waits for the active ones to finish.
  await Promise.allSettled([detectWorker.close(), batchWorker.close(), webhookWorker.close()]);
  await after.drain();
  await shadows.close();
  await Promise.allSettled([stores.queue.close(), models.closeAll(), tracing.shutdown()]);
  ops.server.close();
  connection.disconnect();
  log.info('stopped');
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
